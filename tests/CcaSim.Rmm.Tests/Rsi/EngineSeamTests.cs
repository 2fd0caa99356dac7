using System.Buffers.Binary;
using CcaSim.Platform.Execution;
using CcaSim.Rmm.Recs;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rsi;
using CcaSim.Rmm.Tests.Infrastructure;

namespace CcaSim.Rmm.Tests.Rsi;

/// <summary>
/// The RMM driving a CPU engine through the seam (DESIGN.md; rmm-1.0.md §3.10, §5.7; TF-RMM handle_realm_exit):
/// events with real syndromes become exits or injections, the REC's GIC interface and context are exchanged with
/// the engine, and the engine hears of every stage-2 change that can unmap a page.
/// </summary>
public sealed class EngineSeamTests
{
    private const ulong Unprotected = RealmSide.Unprotected + 0x1234;
    private const ulong EcDataAbort = 0x24UL << 26;
    private const ulong EcInstructionAbort = 0x20UL << 26;
    private const ulong Il = 1UL << 25;
    private const ulong Isv = 1UL << 24;
    private const ulong Sse = 1UL << 21;
    private const ulong Sf = 1UL << 15;
    private const ulong Wnr = 1UL << 6;

    private static (RealmSide Realm, SeamEngine Engine) Start(params bool[] moreRecsRunnable)
    {
        var r = new RealmSide(null, moreRecsRunnable);
        var engine = new SeamEngine();
        r.Host.Rmm.Engine = engine;
        return (r, engine);
    }

    private static ulong DataAbort(int sas, int srt, bool write = false, bool sse = false, bool sf = true) =>
        EcDataAbort | Il | Isv | ((ulong)sas << 22) | (sse ? Sse : 0) | ((ulong)srt << 16) | (sf ? Sf : 0) | (write ? Wnr : 0) | 0x07;

    private static RealmVcpuContext ContextOf(RealmSide r, ulong rec) => r.Host.Rmm.RecAt(rec)!.Context;

    // ---- Data aborts ----

    [Fact]
    public void DataAbort_AtUnprotectedIpa_ReportsOnlyTheEmulatableSyndromeFields()
    {
        var (r, e) = Start();
        const ulong Everything = EcDataAbort | Il | Isv | (3UL << 22) | Sse | (7UL << 16) | Sf | (1UL << 14) | (3UL << 11) | (1UL << 10) | (1UL << 9) | (1UL << 8) | (1UL << 7) | Wnr | 0x07;
        e.Then(c =>
        {
            c.X[7] = 0x1122_3344_5566_7788;
            return new RealmEvent(RealmEventKind.DataAbort, Unprotected, 8, true, 7, Everything, 0x4000_1234);
        });

        RecExitView exit = r.EnterOk();

        // EC, ISV, SAS, SF, WnR, SET, FnV, EA and FSC (at the walk's level 0) survive; IL, SSE, SRT, AR, CM, S1PTW do not.
        ulong expected = EcDataAbort | Isv | (3UL << 22) | Sf | Wnr | (3UL << 11) | (1UL << 10) | (1UL << 9) | 0x04;
        Assert.Equal(RecExitReason.Sync, exit.Reason);
        Assert.Equal(expected, exit.Esr);
        Assert.Equal(0x234UL, exit.Far);
        Assert.Equal(0x1122_3344_5566_7788UL, exit.Gprs[0]);
    }

    [Fact]
    public void DataAbort_AtUnmappedProtectedIpa_ReportsOnlyTheNonEmulatableSyndromeFields()
    {
        var (r, e) = Start();
        e.Then(new RealmEvent(RealmEventKind.DataAbort, RealmSide.UnmappedRam + 8, 8, true, 3, DataAbort(3, 3, write: true) | (1UL << 9), RealmSide.UnmappedRam + 8));

        RecExitView exit = r.EnterOk();

        Assert.Equal(EcDataAbort | (1UL << 9) | 0x07, exit.Esr);
        Assert.Equal(0UL, exit.Far);
        Assert.Equal(RealmSide.UnmappedRam >> 8, exit.Hpfar);
        Assert.Equal(0UL, exit.Gprs[0]);
    }

    [Fact]
    public void DataAbort_AtUnprotectedIpaWithoutIsv_ExitsWithoutIsv_RefusesEmulMmioButAllowsInjectSea()
    {
        var (r, e) = Start();
        e.Then(new RealmEvent(RealmEventKind.DataAbort, Unprotected, 0, true, 0, EcDataAbort | Il | Wnr | 0x07, Unprotected));
        Assert.Equal(RecExitReason.Sync, r.EnterReason());
        Assert.Equal(0UL, r.Exit.Esr & Isv);
        Assert.Equal(0UL, r.Exit.Gprs[0]);

        RealmSide.Expect(r.Enter(flags: RecRunLayout.EnterFlagEmulMmio), RmiStatus.ErrorRec);
        Assert.Equal(RecExitReason.Fiq, r.EnterReason(RecRunLayout.EnterFlagInjectSea));

        Assert.Equal(RealmFault.SynchronousExternalAbort, e.Runs[^1].Pending);
    }

    [Theory]
    [InlineData(0, true, true, 0x80UL, 0xFFFF_FFFF_FFFF_FF80UL)]
    [InlineData(0, true, false, 0x80UL, 0xFFFF_FF80UL)]
    [InlineData(0, true, true, 0x7FUL, 0x7FUL)]
    [InlineData(1, true, true, 0x1_8000UL, 0xFFFF_FFFF_FFFF_8000UL)]
    [InlineData(1, true, false, 0x8000UL, 0xFFFF_8000UL)]
    [InlineData(2, true, true, 0x8000_0000UL, 0xFFFF_FFFF_8000_0000UL)]
    [InlineData(2, false, false, 0xFFFF_FFFF_8000_0000UL, 0x8000_0000UL)]
    [InlineData(3, false, true, 0xFFFF_FFFF_8000_0000UL, 0xFFFF_FFFF_8000_0000UL)]
    public void EmulMmio_Read_WritesTheValueMaskedAndSignExtendedPerTheSyndromeAndMovesPastTheLoad(int sas, bool sse, bool sf, ulong value, ulong expected)
    {
        var (r, e) = Start();
        e.Then(c =>
        {
            c.X[4] = 0xDEAD;
            return new RealmEvent(RealmEventKind.DataAbort, Unprotected, 1 << sas, false, 4, DataAbort(sas, 4, sse: sse, sf: sf), Unprotected);
        });
        Assert.Equal(RecExitReason.Sync, r.EnterReason());

        Assert.Equal(RecExitReason.Fiq, r.EnterReason(RecRunLayout.EnterFlagEmulMmio, value));

        RealmVcpuContext ctx = ContextOf(r, r.Rec);
        Assert.Equal(expected, ctx.X[4]);
        Assert.Equal(RealmSide.RecPc + 4, e.Runs[^1].Pc);
    }

    // ---- Instruction aborts ----

    [Theory]
    [InlineData(RealmSide.Unprotected + 0x1000)]
    [InlineData(RealmSide.EmptyPage)]
    [InlineData(RealmSide.IpaEnd)]
    public void InstructionAbort_AtUnprotectedEmptyOrOutOfRangeIpa_InjectsSeaWithoutExit(ulong ipa)
    {
        var (r, e) = Start();
        e.Then(c =>
        {
            c.Pc = ipa;
            return new RealmEvent(RealmEventKind.InstructionAbort, ipa, Syndrome: EcInstructionAbort | Il | 0x07, Va: ipa);
        });

        Assert.Equal(RecExitReason.Fiq, r.EnterReason());

        Assert.Equal(RealmFault.SynchronousExternalAbort, e.Runs[1].Pending);
        Assert.Equal(ipa, e.Runs[1].Pc);
    }

    [Theory]
    [InlineData(RealmSide.UnmappedRam, 3)]
    [InlineData(RealmSide.BlockRam + 0x5000, 2)]
    public void InstructionAbort_AtUnmappedProtectedIpa_ExitsSyncWithTheFetchFaultAtTheWalkLevel(ulong ipa, int level)
    {
        var (r, e) = Start();
        e.Then(c =>
        {
            c.Pc = ipa;
            return new RealmEvent(RealmEventKind.InstructionAbort, ipa, Syndrome: EcInstructionAbort | Il | 0x07, Va: ipa);
        });

        RecExitView exit = r.EnterOk();

        Assert.Equal(RecExitReason.Sync, exit.Reason);
        Assert.Equal(EcInstructionAbort | (0x04UL + (ulong)level), exit.Esr);
        Assert.Equal(0UL, exit.Far);
        Assert.Equal((ipa >> 8) & ~0xFUL, exit.Hpfar);
        Assert.Equal(RecExitReason.Fiq, r.EnterReason());
        Assert.Equal(ipa, e.Runs[^1].Pc);
        Assert.Equal(RealmFault.None, e.Runs[^1].Pending);
        RealmSide.Expect(r.Enter(flags: RecRunLayout.EnterFlagInjectSea), RmiStatus.ErrorRec);
    }

    // ---- Trapped system registers ----

    /// <summary>ISS of MSR ICC_SGI1R_EL1 (S3_0_C12_C11_5), x<paramref name="rt"/>: Op0 3, Op2 5, Op1 0, CRn 12, CRm 11, write.</summary>
    private static ulong SgiWriteIss(int rt) => (3UL << 20) | (5UL << 17) | (12UL << 10) | ((ulong)rt << 5) | (11UL << 1);

    [Fact]
    public void SysRegAccess_IccSgi1rWrite_ExitsSyncWithSyndromeAndValue_AndThePcAlreadyPastIt()
    {
        var (r, e) = Start();
        e.Then(c =>
        {
            c.X[9] = 0x0001_0000_0000_0002;
            return new RealmEvent(RealmEventKind.SysRegAccess, Register: 9, Syndrome: (0x18UL << 26) | Il | SgiWriteIss(9));
        });

        RecExitView exit = r.EnterOk();

        Assert.Equal(RecExitReason.Sync, exit.Reason);
        Assert.Equal((0x18UL << 26) | Il | SgiWriteIss(9), exit.Esr);
        Assert.Equal(0x0001_0000_0000_0002UL, exit.Gprs[0]);
        Assert.Equal(RecExitReason.Fiq, r.EnterReason());
        Assert.Equal(RealmSide.RecPc + 4, e.Runs[^1].Pc);
    }

    [Fact]
    public void SysRegAccess_Read_ReadsAsZeroWithoutExit()
    {
        var (r, e) = Start();
        e.Then(c =>
        {
            c.X[2] = 0x55;
            return new RealmEvent(RealmEventKind.SysRegAccess, Register: 2, Syndrome: SgiWriteIss(2) | 1);
        });

        Assert.Equal(RecExitReason.Fiq, r.EnterReason());

        Assert.Equal(0UL, ContextOf(r, r.Rec).X[2]);
        Assert.Equal(RealmSide.RecPc + 4, e.Runs[^1].Pc);
    }

    // ---- SMC, HVC, WFx, interrupts ----

    [Fact]
    public void Smc_ReportedWithThePcPastIt_CompletesWithoutSkippingAnInstruction()
    {
        var (r, e) = Start();
        e.Then(c =>
        {
            c.X[0] = (ulong)RsiFunctionId.RsiVersion;
            c.X[1] = 0x10000;
            c.Pc += 4;
            return new RealmEvent(RealmEventKind.Smc);
        });

        Assert.Equal(RecExitReason.Fiq, r.EnterReason());

        Assert.Equal(RealmSide.RecPc + 4, e.Runs[^1].Pc);
        Assert.Equal(0UL, ContextOf(r, r.Rec).X[0]);
    }

    [Fact]
    public void Hvc_InjectsUndefinedWithThePcLeftPastIt()
    {
        var (r, e) = Start();
        e.Then(c =>
        {
            c.Pc += 4;
            return new RealmEvent(RealmEventKind.Hvc, Syndrome: (0x16UL << 26) | Il);
        });

        Assert.Equal(RecExitReason.Fiq, r.EnterReason());

        Assert.Equal(RealmFault.Undefined, e.Runs[1].Pending);
        Assert.Equal(RealmSide.RecPc + 4, e.Runs[1].Pc);
    }

    [Theory]
    [InlineData(RealmEventKind.Wfi, RecRunLayout.EnterFlagTrapWfi, RecExitReason.Sync, 0x01UL << 26)]
    [InlineData(RealmEventKind.Wfe, RecRunLayout.EnterFlagTrapWfe, RecExitReason.Sync, (0x01UL << 26) | 1)]
    [InlineData(RealmEventKind.Wfi, RecRunLayout.EnterFlagTrapWfe, RecExitReason.Irq, 0UL)]
    [InlineData(RealmEventKind.Wfe, 0UL, RecExitReason.Irq, 0UL)]
    public void Wfx_ExitsSyncWhenTrappedElseIrq_WithThePcTheEngineLeftPastIt(RealmEventKind kind, ulong flags, RecExitReason reason, ulong esr)
    {
        var (r, e) = Start();
        e.Then(c =>
        {
            c.Pc += 4;
            return new RealmEvent(kind, Syndrome: (0x01UL << 26) | Il | (kind == RealmEventKind.Wfe ? 1UL : 0));
        });

        RecExitView exit = r.EnterOk(flags: flags);

        Assert.Equal(reason, exit.Reason);
        Assert.Equal(esr, exit.Esr);
        Assert.Equal(RecExitReason.Fiq, r.EnterReason());
        Assert.Equal(RealmSide.RecPc + 4, e.Runs[^1].Pc);
    }

    [Theory]
    [InlineData(RealmEventKind.Irq, RecExitReason.Irq)]
    [InlineData(RealmEventKind.Fiq, RecExitReason.Fiq)]
    [InlineData(RealmEventKind.SError, RecExitReason.SError)]
    [InlineData((RealmEventKind)99, RecExitReason.Sync)]
    public void Event_WithoutARealmSideMeaning_ExitsWithItsReasonAndNoSyndrome(RealmEventKind kind, RecExitReason reason)
    {
        var (r, e) = Start();
        e.Then(new RealmEvent(kind, Syndrome: 0xFFFF));

        RecExitView exit = r.EnterOk();

        Assert.Equal(reason, exit.Reason);
        Assert.Equal(0UL, exit.Esr);
    }

    [Fact]
    public void Irq_ExitCarriesTheTimerStateTheEngineLeftInTheContext()
    {
        var (r, e) = Start();
        e.Then(c =>
        {
            c.CntvCtl = 0b101;
            c.CntvCval = 1234;
            c.CntpCtl = 0b001;
            c.CntpCval = 99;
            return new RealmEvent(RealmEventKind.Irq);
        });

        Assert.Equal(RecExitReason.Irq, r.EnterReason());

        Assert.Equal(0b101UL, r.Host.Read64(r.Run + RecRunLayout.ExitCntvCtl));
        Assert.Equal(1234UL, r.Host.Read64(r.Run + RecRunLayout.ExitCntvCval));
        Assert.Equal(0b001UL, r.Host.Read64(r.Run + RecRunLayout.ExitCntpCtl));
        Assert.Equal(99UL, r.Host.Read64(r.Run + RecRunLayout.ExitCntpCval));
    }

    [Fact]
    public void Entry_WhenATimerStartedToAssertSinceTheLastExit_ExitsIrqBeforeRunning_ThenRunsWithItsSignalMasked()
    {
        // TF-RMM check_pending_timers: the host must see the new output level first; on the next entry the level is
        // unchanged, so the realm runs with CNTHCTL_EL2.CNTVMASK set and the same assertion cannot exit it again.
        var (r, e) = Start();
        bool maskedInRun = false;
        e.Then(c =>
        {
            c.CntvCval = 0; // reached at any counter value; ISTATUS not yet seen at this exit
            c.CntvCtl = 0b001;
            return new RealmEvent(RealmEventKind.Fiq);
        });
        Assert.Equal(RecExitReason.Fiq, r.EnterReason());
        int runs = e.Runs.Count;

        Assert.Equal(RecExitReason.Irq, r.EnterReason());
        Assert.Equal(runs, e.Runs.Count);
        Assert.Equal(0b101UL, r.Host.Read64(r.Run + RecRunLayout.ExitCntvCtl));

        e.Then(c =>
        {
            maskedInRun = c.CntvSignalMasked && !c.CntpSignalMasked;
            return new RealmEvent(RealmEventKind.Fiq);
        });
        Assert.Equal(RecExitReason.Fiq, r.EnterReason());
        Assert.Equal(runs + 1, e.Runs.Count);
        Assert.True(maskedInRun);
    }

    [Theory]
    [InlineData(0b011UL)] // IMASK
    [InlineData(0b000UL)] // disabled
    public void Entry_UnmasksATimerThatNoLongerAsserts(ulong ctl)
    {
        var (r, e) = Start();
        bool maskedInRun = true;
        e.Then(c =>
        {
            c.CntvSignalMasked = true;
            c.CntvCval = 0;
            c.CntvCtl = ctl;
            return new RealmEvent(RealmEventKind.Fiq);
        });
        Assert.Equal(RecExitReason.Fiq, r.EnterReason());
        e.Then(c =>
        {
            maskedInRun = c.CntvSignalMasked;
            return new RealmEvent(RealmEventKind.Fiq);
        });

        Assert.Equal(RecExitReason.Fiq, r.EnterReason());
        Assert.False(maskedInRun);
    }

    // ---- GIC virtual CPU interface ----

    private const ulong LrPendingGroup1 = (1UL << 62) | (1UL << 60) | (0xA0UL << 48);
    private const ulong HcrUie = 1UL << 1;
    private const ulong HcrNpie = 1UL << 3;

    private static void EnterWithGic(RealmSide r, ulong hcr, params ulong[] lrs)
    {
        byte[] entry = new byte[RecRunLayout.Exit];
        BinaryPrimitives.WriteUInt64LittleEndian(entry.AsSpan(RecRunLayout.EnterGicv3Hcr), hcr);
        for (int i = 0; i < lrs.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(entry.AsSpan(RecRunLayout.EnterGicv3Lrs + (8 * i)), lrs[i]);
        }

        r.Host.Host.Write(r.Run, entry);
        RealmSide.Expect(r.Host.Smc(RmiFunctionId.RmiRecEnter, r.Rec, r.Run), RmiStatus.Success);
    }

    [Fact]
    public void Gic_EntryStateReachesTheEngine_AndWhatTheRealmDidReachesTheExit()
    {
        var (r, e) = Start();
        const ulong Active = (2UL << 62) | (1UL << 60) | (0xA0UL << 48) | 27;
        e.Then(c =>
        {
            c.Gic.Lrs[0] = Active;
            c.Gic.Vmcr = 0x3;
            c.Gic.Misr = 0x2;
            c.Gic.Hcr |= 3UL << 27;
            return new RealmEvent(RealmEventKind.Irq);
        });

        EnterWithGic(r, HcrUie, LrPendingGroup1 | 27);

        Assert.Equal(LrPendingGroup1 | 27, e.Runs[0].Lrs[0]);
        Assert.Equal(HcrUie | 1, e.Runs[0].GicHcr);
        Assert.Equal(RecExitReason.Irq, r.Exit.Reason);
        Assert.Equal(Active, r.Host.Read64(r.Run + RecRunLayout.ExitGicv3Lrs));
        Assert.Equal(HcrUie | (3UL << 27), r.Host.Read64(r.Run + RecRunLayout.ExitGicv3Hcr));
        Assert.Equal(0x2UL, r.Host.Read64(r.Run + RecRunLayout.ExitGicv3Misr));
        Assert.Equal(0x3UL, r.Host.Read64(r.Run + RecRunLayout.ExitGicv3Vmcr));
    }

    [Fact]
    public void Gic_MisrTheEngineLeftZero_IsDerivedFromTheListRegistersOnExit()
    {
        var (r, _) = Start();

        EnterWithGic(r, HcrNpie | HcrUie);

        // No list register pending (NP) and none valid (U).
        Assert.Equal(0b1010UL, r.Host.Read64(r.Run + RecRunLayout.ExitGicv3Misr));
    }

    public static TheoryData<ulong, ulong, ulong[], ulong> MisrCases => new()
    {
        { 0, 0, [LrPendingGroup1 | 27], 0 },
        { HcrNpie, 0, [LrPendingGroup1 | 27], 0 },
        { HcrNpie, 0, [(2UL << 62) | 27], 1UL << 3 },
        { HcrUie, 0, [LrPendingGroup1 | 27], 1UL << 1 },
        { HcrUie, 0, [LrPendingGroup1 | 27, LrPendingGroup1 | 28], 0 },
        { 0, 0, [1UL << 41], 1UL << 0 },
        { 0, 0, [(1UL << 41) | (1UL << 61)], 0 },
        { (1UL << 2) | (1UL << 27), 0, [], 1UL << 2 },
        { 0xF0, 0b01, [], (1UL << 4) | (1UL << 7) },
        { 0xF0, 0b10, [], (1UL << 5) | (1UL << 6) },
    };

    [Theory]
    [MemberData(nameof(MisrCases))]
    public void GicMisr_FollowsTheMaintenanceConditionsOfTheListRegistersHcrAndVmcr(ulong hcr, ulong vmcr, ulong[] lrs, ulong misr)
    {
        var gic = new GicCpuInterfaceState { Hcr = hcr, Vmcr = vmcr, NumListRegisters = 4 };
        lrs.CopyTo(gic.Lrs, 0);

        Assert.Equal(misr, GicMaintenance.Misr(gic));
    }

    // ---- Context ownership ----

    [Fact]
    public void RecCreate_ResetsTheWholeContextAndMarksItModified()
    {
        var r = new RealmSide(RecGroupHelpers.WithListRegisters(4));

        RealmVcpuContext ctx = ContextOf(r, r.Rec);

        Assert.NotEqual(0UL, ctx.Generation);
        Assert.Equal(4, ctx.Gic.NumListRegisters);
        Assert.Equal(RecContextReset.Pstate, ctx.Pstate);
        Assert.Equal(RecContextReset.SctlrEl1, ctx.SctlrEl1);
        Assert.Equal(1UL << 31, ctx.MpidrEl1);
        Assert.Equal(RealmSide.RecPc, ctx.Pc);
        Assert.Equal(0UL, ctx.VbarEl1 | ctx.CntvOff | ctx.CntvCtl | ctx.Gic.Hcr | ctx.Gic.Vmcr | ctx.SpEl1);
        Assert.Equal(RealmFault.None, ctx.PendingException);
    }

    [Fact]
    public void CpuOn_FlushesTheCallerBeforeReadingSctlr_AndResetsTheWholeTarget()
    {
        var (r, e) = Start(false);
        ulong target = r.Recs[1].Pa;
        RealmVcpuContext off = ContextOf(r, target);
        off.VbarEl1 = 0x1234;
        off.Gic.Lrs[0] = LrPendingGroup1 | 30;
        off.CntvCtl = 1;
        off.PendingException = RealmFault.Undefined;
        ulong generation = off.Generation;
        const ulong SctlrEe = 1UL << 25;
        RealmVcpuContext caller = ContextOf(r, r.Rec);
        e.OnFlush = c =>
        {
            if (ReferenceEquals(c, caller))
            {
                c.SctlrEl1 |= SctlrEe;
            }
        };
        e.Then(c =>
        {
            c.X[0] = 0xC400_0003;
            c.X[1] = 1;
            c.X[2] = RealmSide.Ram;
            c.X[3] = 0x77;
            c.Pc += 4;
            return new RealmEvent(RealmEventKind.Smc);
        });
        Assert.Equal(RecExitReason.Psci, r.EnterReason());

        RealmSide.Expect(r.Host.Smc(RmiFunctionId.RmiPsciComplete, r.Rec, target, 0), RmiStatus.Success);

        Assert.Contains(caller, e.Flushed);
        Assert.True(off.Generation > generation);
        Assert.Equal(RealmSide.Ram, off.Pc);
        Assert.Equal(0x77UL, off.X[0]);
        Assert.Equal(RecContextReset.SctlrEl1 | SctlrEe, off.SctlrEl1);
        Assert.Equal(0UL, off.VbarEl1 | off.Gic.Lrs[0] | off.CntvCtl);
        Assert.Equal(RealmFault.None, off.PendingException);
        Assert.Equal(RealmManagementMonitor.MpidrToMpidrEl1(1), off.MpidrEl1);
    }
}
