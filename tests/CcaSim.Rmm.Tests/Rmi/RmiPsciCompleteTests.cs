using CcaSim.Platform.Execution;
using CcaSim.Rmm.Recs;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Tests.Infrastructure;
using static CcaSim.Rmm.Tests.Infrastructure.RecGroupHelpers;

namespace CcaSim.Rmm.Tests.Rmi;

/// <summary>RMI_PSCI_COMPLETE (rmm-1.0.md §3.22) and its effects on the RECs (§7).</summary>
public sealed class RmiPsciCompleteTests
{
    private const ulong Entry = 0x4_8000;
    private const ulong ContextId = 0xC0FF_EE00_1234;
    private const ulong Junk = 0xDEAD_BEEF_0000;
    private const ulong PsciInvalidParams = unchecked((ulong)-2L);

    /// <summary>One row per failure condition of §3.22, in ACS order (all ERROR_INPUT, so no ordering rows).</summary>
    public static TheoryData<string> Failures =>
    [
        "alias",
        "calling_align",
        "calling_bound",
        "calling_state_delegated",
        "calling_state_rd",
        "calling_state_rec_aux",
        "target_align",
        "target_bound",
        "target_state_undelegated",
        "target_state_rd",
        "target_state_rec_aux",
        "pending_none",
        "pending_already_completed",
        "owner",
        "target_index",
        "status_cpu_on_invalid_params",
        "status_cpu_on_already_on",
        "status_cpu_on_one",
        "status_cpu_on_denied_while_target_on",
        "status_affinity_info_denied",
        "status_affinity_info_one",
    ];

    [Theory]
    [MemberData(nameof(Failures))]
    public void PsciComplete_WhenConditionFails_ReturnsErrorInputAndChangesNothing(string condition)
    {
        var c = new Case();
        ulong calling = c.Caller.Pa;
        ulong target = c.Off.Pa;
        ulong status = RealmManagementMonitor.PsciSuccess;
        switch (condition)
        {
            case "alias": target = calling; break;
            case "calling_align": calling += 8; break;
            case "calling_bound": calling = OutOfPool; break;
            case "calling_state_delegated": calling = c.Host.Delegated(); break;
            case "calling_state_rd": calling = c.Realm.Rd; break;
            case "calling_state_rec_aux": calling = c.Caller.Params.Aux[4]; break;
            case "target_align": target += 8; break;
            case "target_bound": target = OutOfPool; break;
            case "target_state_undelegated": target = c.Host.NsGranule(); break;
            case "target_state_rd": target = c.Realm.Rd; break;
            case "target_state_rec_aux": target = c.Off.Params.Aux[4]; break;
            case "pending_none": calling = c.On.Pa; break;
            case "pending_already_completed":
                c.Request(new PendingPsci(RealmManagementMonitor.PsciAffinityInfo64, 1));
                RmmTestHost.Expect(c.Complete(calling, target, status), RmiStatus.Success);
                c.Snapshot();
                break;
            case "owner": target = c.OtherRealmRec.Pa; break;
            case "target_index": target = c.On.Pa; break;
            case "status_cpu_on_invalid_params": status = PsciInvalidParams; break;
            case "status_cpu_on_already_on": status = RealmManagementMonitor.PsciAlreadyOn; break;
            case "status_cpu_on_one": status = 1; break;
            case "status_cpu_on_denied_while_target_on":
                c.Request(new PendingPsci(RealmManagementMonitor.PsciCpuOn64, 2, Entry, ContextId));
                target = c.On.Pa;
                status = RealmManagementMonitor.PsciDenied;
                break;
            case "status_affinity_info_denied":
                c.Request(new PendingPsci(RealmManagementMonitor.PsciAffinityInfo64, 1));
                status = RealmManagementMonitor.PsciDenied;
                break;
            case "status_affinity_info_one":
                c.Request(new PendingPsci(RealmManagementMonitor.PsciAffinityInfo32, 1));
                status = 1;
                break;
            default: throw new ArgumentOutOfRangeException(nameof(condition));
        }

        RmmTestHost.Expect(c.Complete(calling, target, status), RmiStatus.ErrorInput);

        c.AssertUnchanged();
        if (condition != "pending_already_completed")
        {
            // The request is still outstanding: the caller cannot run until the host completes it properly.
            RmmTestHost.Expect(c.Enter(c.Caller.Pa), RmiStatus.ErrorRec);
            RmmTestHost.Expect(c.Enter(c.Off.Pa), RmiStatus.ErrorRec);
        }
    }

    [Fact]
    public void PsciComplete_WhenCallerIsRunning_ReturnsErrorInput()
    {
        var c = new Case();
        SmcResult? nested = null;
        c.Host.Rmm.Engine = new CallbackEngine(_ =>
        {
            // The realm side records a CPU_ON request; the host completes it on another PE before the REC exits.
            c.Request(new PendingPsci(RealmManagementMonitor.PsciCpuOn64, 1, Entry, ContextId), c.On.Pa);
            nested = c.Complete(c.On.Pa, c.Off.Pa, RealmManagementMonitor.PsciSuccess);
            return new RealmEvent(RealmEventKind.Fiq);
        });

        RmmTestHost.Expect(c.Enter(c.On.Pa), RmiStatus.Success);

        Assert.NotNull(nested);
        RmmTestHost.Expect(nested.Value, RmiStatus.ErrorInput);
        Assert.NotNull(c.Host.Rmm.RecAt(c.On.Pa)!.PendingPsci);
        Assert.False(c.Host.Rmm.RecAt(c.Off.Pa)!.Runnable);
    }

    [Theory]
    [InlineData(RealmManagementMonitor.PsciCpuOn32)]
    [InlineData(RealmManagementMonitor.PsciCpuOn64)]
    public void PsciComplete_CpuOnSuccess_ResetsTheTargetAndMakesItRunnable(uint fid)
    {
        var c = new Case();
        c.Request(new PendingPsci(fid, 1, Entry, ContextId));
        const ulong SctlrEe = 1UL << 25;
        c.Host.Rmm.RecAt(c.Caller.Pa)!.Context.SctlrEl1 = RecContextReset.SctlrEl1 | SctlrEe | 1;
        RmmTestHost.Expect(c.Enter(c.Off.Pa), RmiStatus.ErrorRec);

        RmmTestHost.Expect(c.Complete(c.Caller.Pa, c.Off.Pa, RealmManagementMonitor.PsciSuccess), RmiStatus.Success);

        RealmVcpuContext target = c.Host.Rmm.RecAt(c.Off.Pa)!.Context;
        Assert.Equal(Entry, target.Pc);
        Assert.Equal(ContextId, target.X[0]);
        Assert.All(target.X[1..], x => Assert.Equal(0UL, x));
        Assert.Equal(RecContextReset.Pstate, target.Pstate);
        Assert.Equal(RecContextReset.SctlrEl1 | SctlrEe, target.SctlrEl1);
        c.AssertCallerResult(RealmManagementMonitor.PsciSuccess);
        RmmTestHost.Expect(c.Enter(c.Off.Pa), RmiStatus.Success);
        RmmTestHost.Expect(c.Enter(c.Caller.Pa), RmiStatus.Success);
        RmmTestHost.Expect(c.Complete(c.Caller.Pa, c.Off.Pa, RealmManagementMonitor.PsciSuccess), RmiStatus.ErrorInput);
    }

    [Fact]
    public void PsciComplete_CpuOnDenied_ReturnsDeniedAndLeavesTargetOff()
    {
        var c = new Case();

        RmmTestHost.Expect(c.Complete(c.Caller.Pa, c.Off.Pa, RealmManagementMonitor.PsciDenied), RmiStatus.Success);

        c.AssertCallerResult(RealmManagementMonitor.PsciDenied);
        Rec target = c.Host.Rmm.RecAt(c.Off.Pa)!;
        Assert.Equal(Case.OffPc, target.Context.Pc);
        Assert.Equal(Junk, target.Context.X[0]);
        RmmTestHost.Expect(c.Enter(c.Off.Pa), RmiStatus.ErrorRec);
        RmmTestHost.Expect(c.Enter(c.Caller.Pa), RmiStatus.Success);
    }

    [Fact]
    public void PsciComplete_CpuOnOfARunnableTarget_ReturnsAlreadyOnAndLeavesTargetAlone()
    {
        var c = new Case();
        c.Request(new PendingPsci(RealmManagementMonitor.PsciCpuOn64, 2, Entry, ContextId));

        RmmTestHost.Expect(c.Complete(c.Caller.Pa, c.On.Pa, RealmManagementMonitor.PsciSuccess), RmiStatus.Success);

        c.AssertCallerResult(RealmManagementMonitor.PsciAlreadyOn);
        Rec target = c.Host.Rmm.RecAt(c.On.Pa)!;
        Assert.Equal(Case.OnPc, target.Context.Pc);
        Assert.Equal(Junk, target.Context.X[0]);
    }

    [Theory]
    [InlineData(RealmManagementMonitor.PsciAffinityInfo32, false, RealmManagementMonitor.PsciAffinityOff)]
    [InlineData(RealmManagementMonitor.PsciAffinityInfo64, false, RealmManagementMonitor.PsciAffinityOff)]
    [InlineData(RealmManagementMonitor.PsciAffinityInfo32, true, RealmManagementMonitor.PsciAffinityOn)]
    [InlineData(RealmManagementMonitor.PsciAffinityInfo64, true, RealmManagementMonitor.PsciAffinityOn)]
    public void PsciComplete_AffinityInfo_ReportsWhetherTheTargetIsOn(uint fid, bool targetOn, ulong expected)
    {
        var c = new Case();
        CreatedRec target = targetOn ? c.On : c.Off;
        c.Request(new PendingPsci(fid, targetOn ? 2UL : 1UL));

        RmmTestHost.Expect(c.Complete(c.Caller.Pa, target.Pa, RealmManagementMonitor.PsciSuccess), RmiStatus.Success);

        c.AssertCallerResult(expected);
        Assert.Equal(targetOn, c.Host.Rmm.RecAt(target.Pa)!.Runnable);
        RmmTestHost.Expect(c.Enter(c.Caller.Pa), RmiStatus.Success);
    }

    /// <summary>
    /// An ACTIVE realm with REC 0 (caller, runnable, with a CPU_ON(index 1) request pending), REC 1 (off: created
    /// not runnable) and REC 2 (on: runnable); a second realm with RECs 0 and 1. GPRs hold junk to see what changes.
    /// </summary>
    private sealed class Case
    {
        public const ulong OffPc = 0x7_0000;
        public const ulong OnPc = 0x7_1000;

        private ulong[] _callerX = [];
        private ulong[] _offX = [];
        private ulong _offPc;
        private PendingPsci? _request;

        public Case()
        {
            Host = NewHost();
            Realm = Host.CreateRealm();
            Caller = CreateRec(Host, Realm, mpidr: 0);
            Off = CreateRec(Host, Realm, mpidr: 1, runnable: false, pc: OffPc);
            On = CreateRec(Host, Realm, mpidr: 2, runnable: true, pc: OnPc);
            Activate(Host, Realm);
            RealmHandle other = Host.CreateRealm(new RealmParams { Vmid = 2 });
            CreateRec(Host, other, mpidr: 0);
            OtherRealmRec = CreateRec(Host, other, mpidr: 1, runnable: false);
            Activate(Host, other);
            foreach (CreatedRec r in new[] { Caller, Off, On })
            {
                Array.Fill(Host.Rmm.RecAt(r.Pa)!.Context.X, Junk);
            }

            Request(new PendingPsci(RealmManagementMonitor.PsciCpuOn64, 1, Entry, ContextId));
        }

        public RmmTestHost Host { get; }

        public RealmHandle Realm { get; }

        public CreatedRec Caller { get; }

        public CreatedRec Off { get; }

        public CreatedRec On { get; }

        public CreatedRec OtherRealmRec { get; }

        /// <summary>What the realm side does when the caller's PSCI call exits to the host.</summary>
        public void Request(PendingPsci request, ulong? caller = null)
        {
            Host.Rmm.RecAt(caller ?? Caller.Pa)!.PendingPsci = request;
            Snapshot();
        }

        public void Snapshot()
        {
            Rec caller = Host.Rmm.RecAt(Caller.Pa)!;
            Rec off = Host.Rmm.RecAt(Off.Pa)!;
            (_callerX, _offX, _offPc, _request) = ([.. caller.Context.X], [.. off.Context.X], off.Context.Pc, caller.PendingPsci);
        }

        public SmcResult Complete(ulong calling, ulong target, ulong status) =>
            Host.Smc(RmiFunctionId.RmiPsciComplete, calling, target, status);

        public SmcResult Enter(ulong rec) => Host.Smc(RmiFunctionId.RmiRecEnter, rec, NewRun(Host));

        public void AssertUnchanged()
        {
            Rec caller = Host.Rmm.RecAt(Caller.Pa)!;
            Rec off = Host.Rmm.RecAt(Off.Pa)!;
            Assert.Equal(_callerX, caller.Context.X);
            Assert.Same(_request, caller.PendingPsci);
            Assert.Equal(_offX, off.Context.X);
            Assert.Equal(_offPc, off.Context.Pc);
            Assert.False(off.Runnable);
            Assert.True(Host.Rmm.RecAt(On.Pa)!.Runnable);
        }

        /// <summary>The caller's x0 holds the PSCI result, x1..x3 are zero, the request is gone.</summary>
        public void AssertCallerResult(ulong result)
        {
            Rec caller = Host.Rmm.RecAt(Caller.Pa)!;
            Assert.Equal(result, caller.Context.X[0]);
            Assert.Equal([0UL, 0UL, 0UL], caller.Context.X[1..4]);
            Assert.Null(caller.PendingPsci);
        }
    }
}
