using CcaSim.Platform.Execution;
using CcaSim.Platform.Monitor;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Tests.Infrastructure;

namespace CcaSim.Rmm.Tests.Rsi;

/// <summary>REC exits other than RSI/PSCI: data aborts, emulated MMIO, SEA injection, WFI/WFE, HVC (rmm-1.0.md §3.10, §5.7).</summary>
public sealed class RecExitTests
{
    private const ulong UnmappedRam = RealmSide.UnmappedRam;
    private const ulong Empty = RealmSide.EmptyPage;
    private const ulong Unprotected = (1UL << 47) + 0x1234;

    [Fact]
    public void MmioWrite_AtUnprotectedIpa_ExitsSyncWithSyndromeAndValue_ThenCompletesOnEmulMmio()
    {
        var r = new RealmSide();
        r.Script.EnqueueWrite(Unprotected, 4, 5, 0x1_DEAD_BEEF);

        Assert.Equal(RecExitReason.Sync, r.EnterReason());

        ulong esr = r.Exit.Esr;
        Assert.Equal(0x24UL, esr >> 26);
        Assert.NotEqual(0UL, esr & (1UL << 24));
        Assert.Equal(2UL, (esr >> 22) & 3);
        Assert.Equal(0UL, (esr >> 16) & 0x1F);
        Assert.NotEqual(0UL, esr & (1UL << 6));
        Assert.Equal(0x234UL, r.Exit.Far);
        Assert.Equal((Unprotected >> 8) & ~0xFUL, r.Exit.Hpfar);
        Assert.Equal(0xDEAD_BEEFUL, r.Exit.Gprs[0]);
        Assert.Empty(r.Steps);

        Assert.Equal(RecExitReason.Fiq, r.EnterReason(RecRunLayout.EnterFlagEmulMmio));
        Assert.Equal(RealmStepKind.Write, Assert.Single(r.Steps).Step.Kind);
    }

    [Theory]
    [InlineData(1, 0x78UL)]
    [InlineData(2, 0x5678UL)]
    [InlineData(4, 0x1234_5678UL)]
    [InlineData(8, 0xAABB_CCDD_1234_5678UL)]
    public void MmioRead_CompletedByHost_LoadsEntryGpr0MaskedToAccessSize(int size, ulong expected)
    {
        var r = new RealmSide();
        r.Script.EnqueueRead(Unprotected, size, 7);
        Assert.Equal(RecExitReason.Sync, r.EnterReason());
        Assert.Equal(0UL, r.Exit.Esr & (1UL << 6));

        Assert.Equal(RecExitReason.Fiq, r.EnterReason(RecRunLayout.EnterFlagEmulMmio, 0xAABB_CCDD_1234_5678));

        Assert.Equal(expected, Assert.Single(r.Steps).X[7]);
    }

    [Fact]
    public void InjectSea_AfterUnprotectedAbort_DeliversSynchronousExternalAbort()
    {
        var r = new RealmSide();
        r.Script.EnqueueRead(Unprotected, 8, 1);
        Assert.Equal(RecExitReason.Sync, r.EnterReason());

        Assert.Equal(RecExitReason.Fiq, r.EnterReason(RecRunLayout.EnterFlagInjectSea));

        Assert.Equal(RealmFault.SynchronousExternalAbort, Assert.Single(r.Steps).Fault);
    }

    [Fact]
    public void EmulMmio_AfterAnExitThatWasNotAnAbort_ReturnsErrorRec()
    {
        var r = new RealmSide();
        r.Script.EnqueueRead(Unprotected, 8, 1);
        Assert.Equal(RecExitReason.Sync, r.EnterReason());
        Assert.Equal(RecExitReason.Fiq, r.EnterReason(RecRunLayout.EnterFlagEmulMmio));
        r.Host.Write64(r.Run, RecRunLayout.EnterFlagEmulMmio);

        RmmTestHost.Expect(r.Host.Smc(RmiFunctionId.RmiRecEnter, r.Rec, r.Run), RmiStatus.ErrorRec);
    }

    [Theory]
    [InlineData(Empty)]
    [InlineData(1UL << 48)]
    public void Access_ToRipasEmptyOrOutsideTheIpaSpace_InjectsSeaWithoutExit(ulong ipa)
    {
        var r = new RealmSide();
        r.Script.EnqueueRead(ipa, 8, 1);

        Assert.Equal(RecExitReason.Fiq, r.EnterReason());

        Assert.Equal(RealmFault.SynchronousExternalAbort, Assert.Single(r.Steps).Fault);
    }

    [Fact]
    public void Access_ToUnmappedProtectedRam_ExitsWithoutIsvAndRunsAgainOnceMapped()
    {
        var r = new RealmSide();
        r.Script.EnqueueWrite(UnmappedRam + 0x10, 8, 3, 0x55);

        Assert.Equal(RecExitReason.Sync, r.EnterReason());

        ulong esr = r.Exit.Esr;
        Assert.Equal(0x24UL, esr >> 26);
        Assert.Equal(0UL, esr & (1UL << 24));
        Assert.Equal(0x07UL, esr & 0x3F);
        Assert.Equal(0UL, r.Exit.Far);
        Assert.Equal(UnmappedRam >> 8, r.Exit.Hpfar);
        Assert.Equal(0UL, r.Exit.Gprs[0]);

        RmmTestHost.Expect(r.Host.Smc(RmiFunctionId.RmiDataCreateUnknown, r.Realm.Rd, r.Host.Delegated(), UnmappedRam), RmiStatus.Success);
        Assert.Equal(RecExitReason.Fiq, r.EnterReason());

        Assert.Equal(RealmFault.None, Assert.Single(r.Steps).Fault);
        byte[] value = new byte[8];
        Assert.True(r.Host.Rmm.TryReadRealmMemory(r.Realm.Rd, UnmappedRam + 0x10, value));
        Assert.Equal(0x55, value[0]);
    }

    [Fact]
    public void InjectSea_AfterProtectedAbort_ReturnsErrorRec()
    {
        var r = new RealmSide();
        r.Script.EnqueueRead(UnmappedRam, 8, 1);
        Assert.Equal(RecExitReason.Sync, r.EnterReason());
        r.Host.Write64(r.Run, RecRunLayout.EnterFlagInjectSea);

        RmmTestHost.Expect(r.Host.Smc(RmiFunctionId.RmiRecEnter, r.Rec, r.Run), RmiStatus.ErrorRec);
    }

    [Theory]
    [InlineData(false, RecRunLayout.EnterFlagTrapWfi, 0UL)]
    [InlineData(true, RecRunLayout.EnterFlagTrapWfe, 1UL)]
    public void Wfx_WhenTrapped_ExitsSyncWithWfxSyndromeAndPcPastIt(bool wfe, ulong trapFlag, ulong ti)
    {
        var r = new RealmSide();
        if (wfe)
        {
            r.Script.EnqueueWfe();
        }
        else
        {
            r.Script.EnqueueWfi();
        }

        Assert.Equal(RecExitReason.Sync, r.EnterReason(trapFlag));

        ulong esr = r.Exit.Esr;
        Assert.Equal(0x01UL, esr >> 26);
        Assert.Equal(ti, esr & 1);
        Assert.Equal(RecExitReason.Fiq, r.EnterReason());
        Assert.Single(r.Steps);
    }

    [Fact]
    public void Wfx_WhenNotTrapped_ExitsWithIrqAndCompletesOnTheNextEntry()
    {
        var r = new RealmSide();
        r.Script.EnqueueWfi();
        r.Script.EnqueueWfe();

        Assert.Equal(RecExitReason.Irq, r.EnterReason());
        Assert.Empty(r.Steps);
        Assert.Equal(RecExitReason.Irq, r.EnterReason());
        Assert.Single(r.Steps);
        Assert.Equal(RecExitReason.Fiq, r.EnterReason());

        Assert.Equal(2, r.Steps.Count);
        Assert.All(r.Steps, s => Assert.Equal(RealmFault.None, s.Fault));
    }

    [Fact]
    public void Hvc_FromRealm_IsUndefinedWithoutExit()
    {
        var r = new RealmSide();
        r.Script.EnqueueHvc();

        Assert.Equal(RecExitReason.Fiq, r.EnterReason());

        Assert.Equal(RealmFault.Undefined, Assert.Single(r.Steps).Fault);
    }

    [Theory]
    [InlineData(0xC400_0156UL)]
    [InlineData(0xC400_01A0UL)]
    [InlineData(0x8200_0000UL)]
    public void Smc_WithUnknownFunctionId_ReturnsSmcUnknownWithoutExit(ulong fid)
    {
        var r = new RealmSide();
        r.Script.Enqueue(fid, 1, 2, 3, 4, 5);

        Assert.Equal(RecExitReason.Fiq, r.EnterReason());

        ulong[] x = Assert.Single(r.Steps).X;
        Assert.Equal(SecureMonitor.SmcUnknown, x[0]);
        Assert.Equal(5UL, x[5]);
    }

    [Fact]
    public void Irq_PendingWhileTheRealmIdles_ExitsWithIrq()
    {
        var r = new RealmSide();
        r.Host.Platform.Interrupts.IrqPending = true;

        Assert.Equal(RecExitReason.Irq, r.EnterReason());
    }
}
