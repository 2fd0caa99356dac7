using CcaSim.Rmm.Granules;
using CcaSim.Rmm.Realms;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Tests.Infrastructure;

namespace CcaSim.Rmm.Tests.Rmi;

/// <summary>RMI_REALM_ACTIVATE (rd) (rmm-1.0.md §3.5): rd_* → ERROR_INPUT; realm_state (not NEW) → ERROR_REALM.</summary>
public sealed class RmiRealmActivateTests
{
    /// <summary>One row per failure condition, in the listed order; the last row breaks two at once.</summary>
    public static TheoryData<string, RmiStatus> Failures => new()
    {
        { "rd_align", RmiStatus.ErrorInput },
        { "rd_bound_below", RmiStatus.ErrorInput },
        { "rd_bound_above", RmiStatus.ErrorInput },
        { "rd_state_undelegated", RmiStatus.ErrorInput },
        { "rd_state_delegated", RmiStatus.ErrorInput },
        { "rd_state_rtt", RmiStatus.ErrorInput },
        { "rd_state_rec", RmiStatus.ErrorInput },
        { "rd_state_destroyed", RmiStatus.ErrorInput },
        { "realm_state_active", RmiStatus.ErrorRealm },
        { "realm_state_system_off", RmiStatus.ErrorRealm },
        // rd_state beats realm_state: an RD that was ACTIVE and then destroyed is no RD at all.
        { "rd_state_beats_realm_state", RmiStatus.ErrorInput },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void RealmActivate_WhenConditionFails_ReturnsErrorAndChangesNothing(string condition, RmiStatus expected)
    {
        RmmTestHost host = RealmLifecycleHelpers.NewHost();
        RealmHandle realm = host.CreateRealm();
        ulong rec = host.CreateRec(realm);
        ulong addr = condition switch
        {
            "rd_align" => realm.Rd + 0x10,
            "rd_bound_below" => RealmLifecycleHelpers.BelowPool,
            "rd_bound_above" => RealmLifecycleHelpers.AbovePool,
            "rd_state_undelegated" => host.NsGranule(),
            "rd_state_delegated" => host.Delegated(),
            "rd_state_rtt" => realm.Params.RttBase,
            "rd_state_rec" => rec,
            "rd_state_destroyed" => DestroyedRealm(host, RealmState.New),
            "realm_state_active" => InState(host, realm.Rd, RealmState.Active),
            "realm_state_system_off" => InState(host, realm.Rd, RealmState.SystemOff),
            "rd_state_beats_realm_state" => DestroyedRealm(host, RealmState.Active),
            _ => throw new ArgumentOutOfRangeException(nameof(condition)),
        };
        ulong run = host.NsGranule();
        var before = GranuleSnapshot.Take(host, realm.Rd, rec, addr);
        SmcResult enterBefore = host.Smc(RmiFunctionId.RmiRecEnter, rec, run);

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmActivate, addr), expected);

        Assert.Equal(before, GranuleSnapshot.Take(host, realm.Rd, rec, addr));
        // The realm's state did not move: REC_ENTER sees the same NEW / ACTIVE / SYSTEM_OFF answer as before.
        // (In the ACTIVE case the REC runs; the idle engine returns to the host without changing the realm.)
        Assert.Equal(enterBefore.X0, host.Smc(RmiFunctionId.RmiRecEnter, rec, run).X0);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmActivate, addr), expected);
    }

    [Fact]
    public void RealmActivate_WhenRealmIsNew_MakesItActiveAndClosesConstruction()
    {
        RmmTestHost host = RealmLifecycleHelpers.NewHost();
        RealmHandle realm = host.CreateRealm();
        host.CreateRtts(realm, 0, 3);
        ulong rec = host.CreateRec(realm);
        ulong run = host.NsGranule();
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecEnter, rec, run), RmiStatus.ErrorRealm, 0);
        byte[] rim = RealmLifecycleHelpers.Rim(host, realm.Rd);

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmActivate, realm.Rd), RmiStatus.Success);

        Assert.Equal(GranuleState.Rd, host.StateOf(realm.Rd));
        // Not NEW any more: a second activation and every measured construction command fail with ERROR_REALM.
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmActivate, realm.Rd), RmiStatus.ErrorRealm);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRttInitRipas, realm.Rd, 0, 0x1000), RmiStatus.ErrorRealm);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiDataCreate, realm.Rd, host.Delegated(), 0x1000, host.NsGranule(), 0), RmiStatus.ErrorRealm);
        var recParams = new RecParams { Mpidr = 1, NumAux = RealmManagementMonitor.RecAuxCount };
        for (int i = 0; i < recParams.Aux.Length; i++)
        {
            recParams.Aux[i] = host.Delegated();
        }

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecCreate, realm.Rd, host.Delegated(), host.WriteRecParams(recParams)), RmiStatus.ErrorRealm);
        // ACTIVE: REC_ENTER no longer reports a NEW realm.
        Assert.NotEqual(RmiReturn.Pack(RmiStatus.ErrorRealm, 0), host.Smc(RmiFunctionId.RmiRecEnter, rec, run).X0);
        // The RIM is frozen.
        Assert.Equal(rim, RealmLifecycleHelpers.Rim(host, realm.Rd));
        // DATA_CREATE_UNKNOWN is not a construction command and still works.
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiDataCreateUnknown, realm.Rd, host.Delegated(), 0x2000), RmiStatus.Success);
        Assert.Equal(rim, RealmLifecycleHelpers.Rim(host, realm.Rd));
    }

    [Fact]
    public void RealmActivate_WhenOneOfTwoRealmsIsActivated_LeavesTheOtherNew()
    {
        RmmTestHost host = RealmLifecycleHelpers.NewHost();
        RealmHandle a = host.CreateRealm(new RealmParams { Vmid = 1 });
        RealmHandle b = host.CreateRealm(new RealmParams { Vmid = 2 });

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmActivate, a.Rd), RmiStatus.Success);

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmActivate, b.Rd), RmiStatus.Success);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmActivate, a.Rd), RmiStatus.ErrorRealm);
    }

    private static ulong InState(RmmTestHost host, ulong rd, RealmState state)
    {
        RealmLifecycleHelpers.BringTo(host, rd, state);
        return rd;
    }

    private static ulong DestroyedRealm(RmmTestHost host, RealmState stateBeforeDestroy)
    {
        RealmHandle other = host.CreateRealm(new RealmParams { Vmid = 9 });
        RealmLifecycleHelpers.BringTo(host, other.Rd, stateBeforeDestroy);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmDestroy, other.Rd), RmiStatus.Success);
        return other.Rd;
    }
}
