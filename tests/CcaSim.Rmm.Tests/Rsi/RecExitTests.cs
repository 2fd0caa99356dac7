using CcaSim.Platform.Execution;
using CcaSim.Platform.Monitor;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Tests.Infrastructure;

namespace CcaSim.Rmm.Tests.Rsi;

/// <summary>REC exits other than RSI/PSCI: data aborts, emulated MMIO, SEA injection, WFI/WFE, HVC (rmm-1.0.md §3.10, §5.7).</summary>
public sealed class RecExitTests
{
    private const ulong UnmappedRam = ScriptedRealmHost.UnmappedRam;
    private const ulong Empty = ScriptedRealmHost.Empty;
    private const ulong Unprotected = (1UL << 47) + 0x1234;

    [Fact]
    public void MmioWrite_AtUnprotectedIpa_ExitsSyncWithSyndromeAndValue_ThenCompletesOnEmulMmio()
    {
        var r = new ScriptedRealmHost();
        r.Engine.EnqueueWrite(Unprotected, 4, 5, 0x1_DEAD_BEEF);

        Assert.Equal(RecExitReason.Sync, r.Enter());

        ulong esr = r.Exit(RecRunLayout.ExitEsr);
        Assert.Equal(0x24UL, esr >> 26);
        Assert.NotEqual(0UL, esr & (1UL << 24));
        Assert.Equal(2UL, (esr >> 22) & 3);
        Assert.Equal(5UL, (esr >> 16) & 0x1F);
        Assert.NotEqual(0UL, esr & (1UL << 6));
        Assert.Equal(0x234UL, r.Exit(RecRunLayout.ExitFar));
        Assert.Equal((Unprotected >> 8) & ~0xFUL, r.Exit(RecRunLayout.ExitHpfar));
        Assert.Equal(0xDEAD_BEEFUL, r.Exit(RecRunLayout.ExitGprs));
        Assert.Empty(r.Completed);

        Assert.Equal(RecExitReason.Fiq, r.Enter(RecRunLayout.EnterFlagEmulMmio));
        Assert.Equal(RealmStepKind.Write, Assert.Single(r.Completed).Step.Kind);
    }

    [Theory]
    [InlineData(1, 0x78UL)]
    [InlineData(2, 0x5678UL)]
    [InlineData(4, 0x1234_5678UL)]
    [InlineData(8, 0xAABB_CCDD_1234_5678UL)]
    public void MmioRead_CompletedByHost_LoadsEntryGpr0MaskedToAccessSize(int size, ulong expected)
    {
        var r = new ScriptedRealmHost();
        r.Engine.EnqueueRead(Unprotected, size, 7);
        Assert.Equal(RecExitReason.Sync, r.Enter());
        Assert.Equal(0UL, r.Exit(RecRunLayout.ExitEsr) & (1UL << 6));

        Assert.Equal(RecExitReason.Fiq, r.Enter(RecRunLayout.EnterFlagEmulMmio, 0xAABB_CCDD_1234_5678));

        Assert.Equal(expected, Assert.Single(r.Completed).X[7]);
    }

    [Fact]
    public void InjectSea_AfterUnprotectedAbort_DeliversSynchronousExternalAbort()
    {
        var r = new ScriptedRealmHost();
        r.Engine.EnqueueRead(Unprotected, 8, 1);
        Assert.Equal(RecExitReason.Sync, r.Enter());

        Assert.Equal(RecExitReason.Fiq, r.Enter(RecRunLayout.EnterFlagInjectSea));

        Assert.Equal(RealmFault.SynchronousExternalAbort, Assert.Single(r.Completed).Fault);
    }

    [Fact]
    public void EmulMmio_AfterAnExitThatWasNotAnAbort_ReturnsErrorRec()
    {
        var r = new ScriptedRealmHost();
        r.Engine.EnqueueRead(Unprotected, 8, 1);
        Assert.Equal(RecExitReason.Sync, r.Enter());
        Assert.Equal(RecExitReason.Fiq, r.Enter(RecRunLayout.EnterFlagEmulMmio));
        r.Host.Write64(r.Run, RecRunLayout.EnterFlagEmulMmio);

        RmmTestHost.Expect(r.Host.Smc(RmiFunctionId.RmiRecEnter, r.Rec, r.Run), RmiStatus.ErrorRec);
    }

    [Theory]
    [InlineData(Empty)]
    [InlineData(1UL << 48)]
    public void Access_ToRipasEmptyOrOutsideTheIpaSpace_InjectsSeaWithoutExit(ulong ipa)
    {
        var r = new ScriptedRealmHost();
        r.Engine.EnqueueRead(ipa, 8, 1);

        Assert.Equal(RecExitReason.Fiq, r.Enter());

        Assert.Equal(RealmFault.SynchronousExternalAbort, Assert.Single(r.Completed).Fault);
    }

    [Fact]
    public void Access_ToUnmappedProtectedRam_ExitsWithoutIsvAndRunsAgainOnceMapped()
    {
        var r = new ScriptedRealmHost();
        r.Engine.EnqueueWrite(UnmappedRam + 0x10, 8, 3, 0x55);

        Assert.Equal(RecExitReason.Sync, r.Enter());

        ulong esr = r.Exit(RecRunLayout.ExitEsr);
        Assert.Equal(0x24UL, esr >> 26);
        Assert.Equal(0UL, esr & (1UL << 24));
        Assert.Equal(0x07UL, esr & 0x3F);
        Assert.Equal(0UL, r.Exit(RecRunLayout.ExitFar));
        Assert.Equal(UnmappedRam >> 8, r.Exit(RecRunLayout.ExitHpfar));
        Assert.Equal(0UL, r.Exit(RecRunLayout.ExitGprs));

        RmmTestHost.Expect(r.Host.Smc(RmiFunctionId.RmiDataCreateUnknown, r.Handle.Rd, r.Host.Delegated(), UnmappedRam), RmiStatus.Success);
        Assert.Equal(RecExitReason.Fiq, r.Enter());

        Assert.Equal(RealmFault.None, Assert.Single(r.Completed).Fault);
        byte[] value = new byte[8];
        Assert.True(r.Host.Rmm.TryReadRealmMemory(r.Handle.Rd, UnmappedRam + 0x10, value));
        Assert.Equal(0x55, value[0]);
    }

    [Fact]
    public void InjectSea_AfterProtectedAbort_ReturnsErrorRec()
    {
        var r = new ScriptedRealmHost();
        r.Engine.EnqueueRead(UnmappedRam, 8, 1);
        Assert.Equal(RecExitReason.Sync, r.Enter());
        r.Host.Write64(r.Run, RecRunLayout.EnterFlagInjectSea);

        RmmTestHost.Expect(r.Host.Smc(RmiFunctionId.RmiRecEnter, r.Rec, r.Run), RmiStatus.ErrorRec);
    }

    [Theory]
    [InlineData(false, RecRunLayout.EnterFlagTrapWfi, 0UL)]
    [InlineData(true, RecRunLayout.EnterFlagTrapWfe, 1UL)]
    public void Wfx_WhenTrapped_ExitsSyncWithWfxSyndromeAndPcPastIt(bool wfe, ulong trapFlag, ulong ti)
    {
        var r = new ScriptedRealmHost();
        if (wfe)
        {
            r.Engine.EnqueueWfe();
        }
        else
        {
            r.Engine.EnqueueWfi();
        }

        Assert.Equal(RecExitReason.Sync, r.Enter(trapFlag));

        ulong esr = r.Exit(RecRunLayout.ExitEsr);
        Assert.Equal(0x01UL, esr >> 26);
        Assert.Equal(ti, esr & 1);
        Assert.Equal(RecExitReason.Fiq, r.Enter());
        Assert.Single(r.Completed);
    }

    [Fact]
    public void Wfi_WhenNotTrapped_CompletesWithoutExit()
    {
        var r = new ScriptedRealmHost();
        r.Engine.EnqueueWfi();
        r.Engine.EnqueueWfe();

        Assert.Equal(RecExitReason.Fiq, r.Enter());

        Assert.Equal(2, r.Completed.Count);
    }

    [Fact]
    public void Hvc_FromRealm_IsUndefinedWithoutExit()
    {
        var r = new ScriptedRealmHost();
        r.Engine.EnqueueHvc();

        Assert.Equal(RecExitReason.Fiq, r.Enter());

        Assert.Equal(RealmFault.Undefined, Assert.Single(r.Completed).Fault);
    }

    [Theory]
    [InlineData(0xC400_0156UL)]
    [InlineData(0xC400_01A0UL)]
    [InlineData(0x8200_0000UL)]
    public void Smc_WithUnknownFunctionId_ReturnsSmcUnknownWithoutExit(ulong fid)
    {
        var r = new ScriptedRealmHost();
        r.Engine.Enqueue(fid, 1, 2, 3, 4, 5);

        Assert.Equal(RecExitReason.Fiq, r.Enter());

        ulong[] x = Assert.Single(r.Completed).X;
        Assert.Equal(SecureMonitor.SmcUnknown, x[0]);
        Assert.Equal(5UL, x[5]);
    }

    [Fact]
    public void Irq_PendingWhileTheRealmIdles_ExitsWithIrq()
    {
        var r = new ScriptedRealmHost();
        r.Host.Platform.Interrupts.IrqPending = true;

        Assert.Equal(RecExitReason.Irq, r.Enter());
    }
}
