using System.Buffers.Binary;
using CcaSim.Platform.Execution;
using CcaSim.Rmm.Recs;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rsi;
using CcaSim.Rmm.Rtt;
using CcaSim.Rmm.Tests.Infrastructure;
using static CcaSim.Rmm.Tests.Infrastructure.RecGroupHelpers;

namespace CcaSim.Rmm.Tests.Rmi;

/// <summary>RMI_REC_ENTER (rmm-1.0.md §3.10, exit layout §4.3).</summary>
public sealed class RmiRecEnterTests
{
    /// <summary>List registers the RMM under test implements (the reference build has 1; duplicates need 2+).</summary>
    private const int Lrs = 4;

    private const ulong LrPending = 1UL << 62;
    private const ulong LrActive = 2UL << 62;
    private const ulong LrGroup1 = 1UL << 60;
    private const ulong LrHw = 1UL << 61;
    private const ulong LrEoi = 1UL << 41;

    /// <summary>ICH_HCR_EL2.UIE | TDIR: allowed.</summary>
    private const ulong ValidHcr = (1UL << 1) | (1UL << 14);

    /// <summary>One row per failure condition of §3.10, in ACS order: condition, status, index.</summary>
    public static TheoryData<string, RmiStatus, int> Failures => new()
    {
        { "run_align", RmiStatus.ErrorInput, 0 },
        { "run_bound", RmiStatus.ErrorInput, 0 },
        { "run_pas_delegated", RmiStatus.ErrorInput, 0 },
        { "run_pas_secure", RmiStatus.ErrorInput, 0 },
        { "run_pas_rec", RmiStatus.ErrorInput, 0 },
        { "rec_align", RmiStatus.ErrorInput, 0 },
        { "rec_bound", RmiStatus.ErrorInput, 0 },
        { "rec_state_undelegated", RmiStatus.ErrorInput, 0 },
        { "rec_state_delegated", RmiStatus.ErrorInput, 0 },
        { "rec_state_rd", RmiStatus.ErrorInput, 0 },
        { "rec_state_rec_aux", RmiStatus.ErrorInput, 0 },
        { "realm_new", RmiStatus.ErrorRealm, 0 },
        { "system_off", RmiStatus.ErrorRealm, 1 },
        { "rec_runnable", RmiStatus.ErrorRec, 0 },
        { "rec_mmio", RmiStatus.ErrorRec, 0 },
        { "rec_mmio_after_fiq_exit", RmiStatus.ErrorRec, 0 },
        { "inject_sea", RmiStatus.ErrorRec, 0 },
        { "inject_sea_after_fiq_exit", RmiStatus.ErrorRec, 0 },
        { "rec_psci", RmiStatus.ErrorRec, 0 },
        { "gicv3_hcr_en", RmiStatus.ErrorRec, 0 },
        { "gicv3_hcr_tc", RmiStatus.ErrorRec, 0 },
        { "gicv3_hcr_eoicount", RmiStatus.ErrorRec, 0 },
        { "gicv3_hcr_bit63", RmiStatus.ErrorRec, 0 },
        { "gicv3_lr_hw", RmiStatus.ErrorRec, 0 },
        { "gicv3_lr_priority_res0", RmiStatus.ErrorRec, 0 },
        { "gicv3_lr_pintid", RmiStatus.ErrorRec, 0 },
        { "gicv3_lr_pintid_top", RmiStatus.ErrorRec, 0 },
        { "gicv3_lr_vintid_1020", RmiStatus.ErrorRec, 0 },
        { "gicv3_lr_vintid_2000", RmiStatus.ErrorRec, 0 },
        { "gicv3_lr_lpi_out_of_range", RmiStatus.ErrorRec, 0 },
        { "gicv3_lr_duplicate_vintid", RmiStatus.ErrorRec, 0 },
        { "gicv3_lr_last_implemented_hw", RmiStatus.ErrorRec, 0 },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void RecEnter_WhenConditionFails_ReturnsErrorAndChangesNothing(string condition, RmiStatus status, int index)
    {
        var c = new Case(condition);

        c.RunAndExpect(status, index);
    }

    /// <summary>Two broken conditions of different status: the one the spec orders first wins.</summary>
    public static TheoryData<string, string, RmiStatus, int> Orderings => new()
    {
        { "run_pas_delegated", "realm_new", RmiStatus.ErrorInput, 0 },
        { "run_align", "system_off", RmiStatus.ErrorInput, 0 },
        { "run_bound", "rec_runnable", RmiStatus.ErrorInput, 0 },
        { "rec_align", "system_off", RmiStatus.ErrorInput, 0 },
        { "rec_state_rec_aux", "realm_new", RmiStatus.ErrorInput, 0 },
        { "rec_state_delegated", "gicv3_lr_hw", RmiStatus.ErrorInput, 0 },
        { "realm_new", "rec_runnable", RmiStatus.ErrorRealm, 0 },
        { "realm_new", "rec_mmio", RmiStatus.ErrorRealm, 0 },
        { "system_off", "rec_psci", RmiStatus.ErrorRealm, 1 },
        { "system_off", "gicv3_lr_hw", RmiStatus.ErrorRealm, 1 },
        { "system_off", "rec_runnable", RmiStatus.ErrorRealm, 1 },
    };

    [Theory]
    [MemberData(nameof(Orderings))]
    public void RecEnter_WhenTwoConditionsFail_ReportsTheEarlierOne(string first, string second, RmiStatus status, int index)
    {
        var c = new Case(first, second);

        c.RunAndExpect(status, index);
    }

    [Fact]
    public void RecEnter_WhenRecIsRunning_ReturnsErrorRec()
    {
        var c = new Case();
        SmcResult? nested = null;
        byte[]? runDuringNested = null;
        c.Engine = new CallbackEngine(_ =>
        {
            ulong otherRun = NewRun(c.Host);
            nested = c.Host.Smc(RmiFunctionId.RmiRecEnter, c.Rec.Pa, otherRun);
            runDuringNested = ReadGranule(c.Host, otherRun);
            return new RealmEvent(RealmEventKind.Fiq);
        });
        c.Host.Rmm.Engine = c.Engine;

        RmmTestHost.Expect(c.Host.Smc(RmiFunctionId.RmiRecEnter, c.Rec.Pa, c.Run), RmiStatus.Success);

        Assert.NotNull(nested);
        RmmTestHost.Expect(nested.Value, RmiStatus.ErrorRec);
        Assert.Equal(1, c.Engine.Runs);
        Assert.Equal((byte)JunkByte, runDuringNested![RecRunLayout.ExitReason]);
    }

    [Fact]
    public void RecEnter_WhenRunGranuleIsDelegatedWhileTheRecRuns_ReturnsErrorInputAndWritesNothing()
    {
        var c = new Case();
        c.Engine = new CallbackEngine(_ =>
        {
            // Another PE's host delegates the run granule while this REC is running.
            RmmTestHost.Expect(c.Host.Smc(RmiFunctionId.RmiGranuleDelegate, c.Run), RmiStatus.Success);
            return new RealmEvent(RealmEventKind.Fiq);
        });
        c.Host.Rmm.Engine = c.Engine;

        RmmTestHost.Expect(c.Host.Smc(RmiFunctionId.RmiRecEnter, c.Rec.Pa, c.Run), RmiStatus.ErrorInput);

        Assert.Equal(1, c.Engine.Runs);
        Assert.True(UndelegatesAsZero(c.Host, c.Run));

        // The REC is READY again.
        RmmTestHost.Expect(c.Host.Smc(RmiFunctionId.RmiRecDestroy, c.Rec.Pa), RmiStatus.Success);
    }

    [Fact]
    public void RecEnter_WhenNothingToRun_ExitsWithFiqAndHandsBackGicState()
    {
        var c = new Case();
        byte[] before = ReadGranule(c.Host, c.Run);

        RmmTestHost.Expect(c.Host.Smc(RmiFunctionId.RmiRecEnter, c.Rec.Pa, c.Run), RmiStatus.Success);

        Assert.Equal(1, c.Engine.Runs);
        byte[] after = ReadGranule(c.Host, c.Run);
        Assert.Equal(before[..RecRunLayout.Exit], after[..RecRunLayout.Exit]);
        Assert.Equal((ulong)RecExitReason.Fiq, c.Host.Read64(c.Run + RecRunLayout.ExitReason));
        Assert.Equal(ValidHcr, c.Host.Read64(c.Run + RecRunLayout.ExitGicv3Hcr));
        for (int i = 0; i < RecRunLayout.NumLrs; i++)
        {
            ulong expected = i < Lrs ? c.EntryLrs[i] : 0;
            Assert.Equal(expected, c.Host.Read64(c.Run + RecRunLayout.ExitGicv3Lrs + (ulong)(8 * i)));
        }

        // Every other byte of the exit half was zeroed (it was junk before the call).
        byte[] exit = after[RecRunLayout.Exit..];
        exit.AsSpan(RecRunLayout.ExitReason - RecRunLayout.Exit, 8).Clear();
        exit.AsSpan(RecRunLayout.ExitGicv3Hcr - RecRunLayout.Exit, 8 * (1 + RecRunLayout.NumLrs)).Clear();
        Assert.False(exit.AsSpan().ContainsAnyExcept((byte)0));

        // The REC is READY again: it can be entered a second time and destroyed.
        RmmTestHost.Expect(c.Host.Smc(RmiFunctionId.RmiRecEnter, c.Rec.Pa, c.Run), RmiStatus.Success);
        Assert.Equal(2, c.Engine.Runs);
        RmmTestHost.Expect(c.Host.Smc(RmiFunctionId.RmiRecDestroy, c.Rec.Pa), RmiStatus.Success);
    }

    [Fact]
    public void RecEnter_WithTheReferenceBuildsSingleListRegister_IgnoresTheOthers()
    {
        RmmTestHost host = NewHost();
        RealmHandle realm = host.CreateRealm();
        CreatedRec rec = CreateRec(host, realm, mpidr: 0);
        Activate(host, realm);
        ulong run = NewRun(host);
        host.Write64(run + RecRunLayout.EnterGicv3Lrs, LrPending | 27);
        host.Write64(run + RecRunLayout.EnterGicv3Lrs + 8, LrPending | LrHw | 1020);
        host.Write64(run + RecRunLayout.EnterGicv3Lrs + 16, LrPending | 27);

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecEnter, rec.Pa, run), RmiStatus.Success);

        Assert.Equal((ulong)RecExitReason.Fiq, host.Read64(run + RecRunLayout.ExitReason));
        Assert.Equal(LrPending | 27, host.Read64(run + RecRunLayout.ExitGicv3Lrs));
        Assert.Equal(0UL, host.Read64(run + RecRunLayout.ExitGicv3Lrs + 8));
        Assert.Equal(0UL, host.Read64(run + RecRunLayout.ExitGicv3Lrs + 16));
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(1019UL)]
    [InlineData(8192UL)]
    [InlineData(0xFFFFUL)]
    public void RecEnter_WithVintidAtARangeEdge_Succeeds(ulong vintid)
    {
        var c = new Case();
        c.Host.Write64(c.Run + RecRunLayout.EnterGicv3Lrs + 8, LrActive | LrGroup1 | LrEoi | vintid);

        RmmTestHost.Expect(c.Host.Smc(RmiFunctionId.RmiRecEnter, c.Rec.Pa, c.Run), RmiStatus.Success);

        Assert.Equal((ulong)RecExitReason.Fiq, c.Host.Read64(c.Run + RecRunLayout.ExitReason));
    }

    public static TheoryData<int> ListRegisterCounts => [1, Lrs];

    /// <summary>
    /// Entry step 6 (rmm-1.0.md §3.10) finding the RsiHostCall structure unmapped — the host destroyed its page with
    /// RMI_DATA_DESTROY (HIPAS UNASSIGNED, RIPAS DESTROYED) after the HOST_CALL exit — makes the REC exit again at once
    /// with the emulated stage-2 data abort of §5.6. CcaSim fills that exit like every other: the GIC state the host
    /// just entered with and the realm's timers (TF-RMM rel0 leaves both zero; docs/FIDELITY.md).
    /// </summary>
    [Theory]
    [MemberData(nameof(ListRegisterCounts))]
    public void RecEnter_CompletingAHostCallWhosePageWasDestroyed_ExitsWithStage2AbortCarryingGicStateAndTimers(int lrs)
    {
        const ulong page = RealmSide.Ram + 0x2000;
        var realm = new RealmSide(WithListRegisters(lrs));
        Rec rec = realm.Host.Rmm.RecAt(realm.Rec)!;

        // Timer state the realm programmed before the call: the virtual timer has fired (the counter is past its
        // CVAL, as ISTATUS says), the physical one is masked.
        realm.Host.Platform.Clock.AdvanceTo(0x1111_2222);
        rec.Context.CntvCtl = 0b101;
        rec.Context.CntvCval = 0x1111_2222;
        rec.Context.CntpCtl = 0b011;
        rec.Context.CntpCval = 0x3333_4444;
        realm.Call(RsiFunctionId.RsiHostCall, RealmSide.Args(page + 0x100));
        Assert.Equal(RecExitReason.HostCall, realm.EnterOk().Reason);
        int runs = realm.Engine.Runs.Count;
        realm.Unmap(page);

        ulong[] entryLrs = new ulong[RecRunLayout.NumLrs];
        entryLrs[0] = LrPending | LrGroup1 | (0xA0UL << 48) | 27;
        entryLrs[1] = LrActive | LrGroup1 | LrEoi | (0x80UL << 48) | 8192;
        entryLrs[3] = LrPending | (0x10UL << 48) | 40;
        byte[] entry = new byte[RecRunLayout.Exit];
        BinaryPrimitives.WriteUInt64LittleEndian(entry.AsSpan(RecRunLayout.EnterGprs), 0x77);
        BinaryPrimitives.WriteUInt64LittleEndian(entry.AsSpan(RecRunLayout.EnterGicv3Hcr), ValidHcr);
        for (int i = 0; i < lrs; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(entry.AsSpan(RecRunLayout.EnterGicv3Lrs + (8 * i)), entryLrs[i]);
        }

        realm.Host.Host.Write(realm.Run, entry);
        RmmTestHost.Expect(realm.Host.Smc(RmiFunctionId.RmiRecEnter, realm.Rec, realm.Run), RmiStatus.Success);

        RealmSide.AssertStage2Fault(realm.Exit, page + 0x100, 3);
        Assert.Equal(runs, realm.Engine.Runs.Count);
        Assert.Empty(realm.Completed);
        Assert.Equal(ValidHcr, realm.Host.Read64(realm.Run + RecRunLayout.ExitGicv3Hcr));
        for (int i = 0; i < RecRunLayout.NumLrs; i++)
        {
            ulong expected = i < lrs ? entryLrs[i] : 0;
            Assert.Equal(expected, realm.Host.Read64(realm.Run + RecRunLayout.ExitGicv3Lrs + (ulong)(8 * i)));
        }

        Assert.Equal(0b101UL, realm.Host.Read64(realm.Run + RecRunLayout.ExitCntvCtl));
        Assert.Equal(0x1111_2222UL, realm.Host.Read64(realm.Run + RecRunLayout.ExitCntvCval));
        Assert.Equal(0b011UL, realm.Host.Read64(realm.Run + RecRunLayout.ExitCntpCtl));
        Assert.Equal(0x3333_4444UL, realm.Host.Read64(realm.Run + RecRunLayout.ExitCntpCval));
    }

    /// <summary>
    /// Entry step 6 when another REC has made the RsiHostCall page RIPAS EMPTY while the call was pending (REC1's
    /// RSI_IPA_STATE_SET, applied by RMI_RTT_SET_RIPAS, optionally followed by DATA_DESTROY): EMPTY is not
    /// "unmapped" (§5.6), so the REC does not exit with a stage-2 abort (it could never make progress); as TF-RMM
    /// rel0 it resumes without copying the results. x0 = RSI_SUCCESS (§3.10 step 6; rel0 leaves x0 as it was, see
    /// FIDELITY).
    /// </summary>
    [Theory]
    [InlineData("assigned_empty", false)]
    [InlineData("unassigned_empty", true)]
    public void RecEnter_CompletingAHostCallWhosePageBecameEmpty_ResumesTheRealmWithSuccessAndCopiesNothing(string condition, bool destroy)
    {
        const ulong page = RealmSide.Ram + 0x2000;
        var realm = new RealmSide(null, true);
        ulong rec0 = realm.Recs[0].Pa;
        ulong rec1 = realm.Recs[1].Pa;
        realm.Call(RsiFunctionId.RsiHostCall, RealmSide.Args(page + 0x100));
        Assert.Equal(RecExitReason.HostCall, realm.EnterOk(rec0).Reason);
        realm.Call(RsiFunctionId.RsiIpaStateSet, page, page + 0x1000, (ulong)Ripas.Empty, 0);
        Assert.Equal(RecExitReason.RipasChange, realm.EnterOk(rec1).Reason);
        RealmSide.Expect(realm.Host.Smc(RmiFunctionId.RmiRttSetRipas, realm.Realm.Rd, rec1, page, page + 0x1000), RmiStatus.Success);
        if (destroy)
        {
            realm.Unmap(page);
        }

        Assert.Equal(Ripas.Empty, (Ripas)realm.Entry(page).Ripas);
        int runs = realm.Engine.Runs.Count;

        RecExitView exit = realm.EnterOk(rec0, gprs: [0x77, 0x88]);

        Assert.True(exit.Reason == RecExitReason.Fiq, condition);
        Assert.Equal(runs + 1, realm.Engine.Runs.Count);
        CompletedCall done = Assert.Single(realm.Completed);
        Assert.Equal((ulong)RsiFunctionId.RsiHostCall, done.Call.FunctionId);
        Assert.Equal([(ulong)RsiStatus.Success, page + 0x100], done.X[..2]);

        // The call is over: the next entry neither copies nor faults again.
        Assert.Equal(RecExitReason.Fiq, realm.EnterOk(rec0).Reason);
        Assert.Single(realm.Completed);
    }

    /// <summary>
    /// An ACTIVE realm with a runnable REC (index 0) and a valid run granule (exit half junk). The entry's GIC
    /// state is valid but busy: LR0 pending vINTID 27, LR1 active LPI 8192 with EOI, LR2 invalid-state junk,
    /// LR3 zero, LR5 (not implemented) junk. Each condition breaks one thing.
    /// </summary>
    private sealed class Case
    {
        private readonly ulong _validRun;
        private ulong _rec;
        private ulong _run;

        public Case(params string[] conditions)
        {
            Host = NewHost(WithListRegisters(Lrs));
            Engine = new CallbackEngine(_ => new RealmEvent(RealmEventKind.Fiq));
            Host.Rmm.Engine = Engine;
            Realm = Host.CreateRealm();
            Rec = CreateRec(Host, Realm, mpidr: 0, runnable: !conditions.Contains("rec_runnable"));
            if (conditions.Contains("system_off"))
            {
                SystemOff(Host, Realm);
            }
            else if (!conditions.Contains("realm_new"))
            {
                Activate(Host, Realm);
            }

            _validRun = NewRun(Host);
            EntryLrs[0] = LrPending | LrGroup1 | (0xA0UL << 48) | 27;
            EntryLrs[1] = LrActive | LrGroup1 | LrEoi | (0x80UL << 48) | 8192;
            EntryLrs[2] = LrHw | (0x1FFUL << 32) | (0x07UL << 48) | 1020;
            EntryLrs[5] = LrPending | LrHw | 1020;
            Host.Write64(_validRun + RecRunLayout.EnterGicv3Hcr, ValidHcr);
            WriteLrs();
            _rec = Rec.Pa;
            _run = _validRun;
            foreach (string condition in conditions)
            {
                Break(condition);
            }
        }

        public RmmTestHost Host { get; }

        public CallbackEngine Engine { get; set; }

        public RealmHandle Realm { get; }

        public CreatedRec Rec { get; }

        public ulong Run => _validRun;

        public ulong[] EntryLrs { get; } = new ulong[RecRunLayout.NumLrs];

        public void RunAndExpect(RmiStatus status, int index)
        {
            byte[] run = ReadGranule(Host, _validRun);
            Rec r = Host.Rmm.RecAt(Rec.Pa)!;
            (ulong pc, bool runnable, PendingPsci? psci) = (r.Context.Pc, r.Runnable, r.PendingPsci);

            RmmTestHost.Expect(Host.Smc(RmiFunctionId.RmiRecEnter, _rec, _run), status, index);

            Assert.Equal(0, Engine.Runs);
            Assert.Equal(run, ReadGranule(Host, _validRun));
            Assert.Equal(pc, r.Context.Pc);
            Assert.Equal(runnable, r.Runnable);
            Assert.Same(psci, r.PendingPsci);
        }

        private void WriteLrs()
        {
            for (int i = 0; i < EntryLrs.Length; i++)
            {
                Host.Write64(_validRun + RecRunLayout.EnterGicv3Lrs + (ulong)(8 * i), EntryLrs[i]);
            }
        }

        private void SetLr(int i, ulong value)
        {
            EntryLrs[i] = value;
            WriteLrs();
        }

        private void SetHcr(ulong bit) => Host.Write64(_validRun + RecRunLayout.EnterGicv3Hcr, ValidHcr | bit);

        private void SetFlags(ulong flags) => Host.Write64(_validRun + RecRunLayout.EnterFlags, flags);

        /// <summary>One successful entry (an FIQ exit, not a data abort), then the engine's run count is reset.</summary>
        private void EnterOnceWithFiqExit()
        {
            RmmTestHost.Expect(Host.Smc(RmiFunctionId.RmiRecEnter, Rec.Pa, NewRun(Host)), RmiStatus.Success);
            Engine = new CallbackEngine(_ => new RealmEvent(RealmEventKind.Fiq));
            Host.Rmm.Engine = Engine;
        }

        private void Break(string condition)
        {
            ulong valid = EntryLrs[1];
            switch (condition)
            {
                case "realm_new" or "system_off" or "rec_runnable": break;
                case "run_align": _run = _validRun + 8; break;
                case "run_bound": _run = OutOfPool; break;
                case "run_pas_delegated": _run = Host.Delegated(); break;
                case "run_pas_secure": _run = SecurePa(Host); break;
                case "run_pas_rec": _run = Rec.Pa; break;
                case "rec_align": _rec = Rec.Pa + 8; break;
                case "rec_bound": _rec = OutOfPool; break;
                case "rec_state_undelegated": _rec = Host.NsGranule(); break;
                case "rec_state_delegated": _rec = Host.Delegated(); break;
                case "rec_state_rd": _rec = Realm.Rd; break;
                case "rec_state_rec_aux": _rec = Rec.Params.Aux[0]; break;
                case "rec_mmio": SetFlags(RecRunLayout.EnterFlagEmulMmio); break;
                case "rec_mmio_after_fiq_exit":
                    EnterOnceWithFiqExit();
                    SetFlags(RecRunLayout.EnterFlagEmulMmio);
                    break;
                case "inject_sea": SetFlags(RecRunLayout.EnterFlagInjectSea); break;
                case "inject_sea_after_fiq_exit":
                    EnterOnceWithFiqExit();
                    SetFlags(RecRunLayout.EnterFlagInjectSea);
                    break;
                case "rec_psci":
                    Host.Rmm.RecAt(Rec.Pa)!.PendingPsci = new PendingPsci(RealmManagementMonitor.PsciAffinityInfo64, 0);
                    break;
                case "gicv3_hcr_en": SetHcr(1UL << 0); break;
                case "gicv3_hcr_tc": SetHcr(1UL << 10); break;
                case "gicv3_hcr_eoicount": SetHcr(1UL << 27); break;
                case "gicv3_hcr_bit63": SetHcr(1UL << 63); break;
                case "gicv3_lr_hw": SetLr(1, valid | LrHw); break;
                case "gicv3_lr_priority_res0": SetLr(1, valid | (1UL << 48)); break;
                case "gicv3_lr_pintid": SetLr(1, valid | (1UL << 32)); break;
                case "gicv3_lr_pintid_top": SetLr(1, valid | (1UL << 44)); break;
                case "gicv3_lr_vintid_1020": SetLr(1, (valid & ~0xFFFF_FFFFUL) | 1020); break;
                case "gicv3_lr_vintid_2000": SetLr(1, (valid & ~0xFFFF_FFFFUL) | 2000); break;
                case "gicv3_lr_lpi_out_of_range": SetLr(1, (valid & ~0xFFFF_FFFFUL) | 0x1_0000); break;
                case "gicv3_lr_duplicate_vintid": SetLr(3, LrActive | 27); break;
                case "gicv3_lr_last_implemented_hw": SetLr(3, LrPending | LrHw | 33); break;
                default: throw new ArgumentOutOfRangeException(nameof(condition), condition, null);
            }
        }
    }
}
