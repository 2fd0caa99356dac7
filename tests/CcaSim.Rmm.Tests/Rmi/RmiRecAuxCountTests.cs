using CcaSim.Rmm.Realms;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Tests.Infrastructure;

namespace CcaSim.Rmm.Tests.Rmi;

/// <summary>RMI_REC_AUX_COUNT (rd) (rmm-1.0.md §3.7): rd_* → ERROR_INPUT; x1 = aux granules every REC needs.</summary>
public sealed class RmiRecAuxCountTests
{
    public static TheoryData<string> Failures =>
    [
        "rd_align", "rd_bound_below", "rd_bound_above", "rd_state_undelegated", "rd_state_delegated", "rd_state_rtt",
        "rd_state_rec", "rd_state_rec_aux", "rd_state_destroyed",
    ];

    [Theory]
    [MemberData(nameof(Failures))]
    public void RecAuxCount_WhenConditionFails_ReturnsErrorInputAndNoCount(string condition)
    {
        RmmTestHost host = RealmLifecycleHelpers.NewHost();
        RealmHandle realm = host.CreateRealm();
        ulong addr = condition switch
        {
            "rd_align" => realm.Rd + 1,
            "rd_bound_below" => RealmLifecycleHelpers.BelowPool,
            "rd_bound_above" => RealmLifecycleHelpers.AbovePool,
            "rd_state_undelegated" => host.NsGranule(),
            "rd_state_delegated" => host.Delegated(),
            "rd_state_rtt" => realm.Params.RttBase,
            "rd_state_rec" => host.CreateRec(realm),
            "rd_state_rec_aux" => FirstAuxOfNewRec(host, realm),
            "rd_state_destroyed" => Destroyed(host),
            _ => throw new ArgumentOutOfRangeException(nameof(condition)),
        };
        var before = GranuleSnapshot.Take(host, addr, realm.Rd);

        SmcResult r = host.Smc(RmiFunctionId.RmiRecAuxCount, addr);

        RmmTestHost.Expect(r, RmiStatus.ErrorInput);
        Assert.Equal(0UL, r.X1);
        Assert.Equal(before, GranuleSnapshot.Take(host, addr, realm.Rd));
    }

    public static TheoryData<RealmState> States => [RealmState.New, RealmState.Active, RealmState.SystemOff];

    [Theory]
    [MemberData(nameof(States))]
    public void RecAuxCount_WhenRdIsValid_ReturnsSixteenInAnyRealmState(RealmState state)
    {
        RmmTestHost host = RealmLifecycleHelpers.NewHost();
        RealmHandle realm = host.CreateRealm(new RealmParams { HashAlgo = 1, S2sz = 40, RttLevelStart = 1, RttNumStart = 2 });
        RealmLifecycleHelpers.BringTo(host, realm.Rd, state);
        var before = GranuleSnapshot.Take(host, realm.Rd);

        SmcResult r = host.Smc(RmiFunctionId.RmiRecAuxCount, realm.Rd);

        RmmTestHost.Expect(r, RmiStatus.Success);
        Assert.Equal(16UL, r.X1);
        Assert.Equal(0UL, r.X2);
        Assert.Equal(before, GranuleSnapshot.Take(host, realm.Rd));
    }

    [Fact]
    public void RecAuxCount_IsTheNumberOfAuxGranulesRecCreateAccepts()
    {
        RmmTestHost host = RealmLifecycleHelpers.NewHost();
        RealmHandle realm = host.CreateRealm();
        ulong count = host.Smc(RmiFunctionId.RmiRecAuxCount, realm.Rd).X1;

        var wrong = new RecParams { Mpidr = 0, NumAux = count - 1 };
        var right = new RecParams { Mpidr = 0, NumAux = count };
        for (int i = 0; i < (int)count; i++)
        {
            wrong.Aux[i] = right.Aux[i] = host.Delegated();
        }

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecCreate, realm.Rd, host.Delegated(), host.WriteRecParams(wrong)), RmiStatus.ErrorInput);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecCreate, realm.Rd, host.Delegated(), host.WriteRecParams(right)), RmiStatus.Success);
    }

    private static ulong FirstAuxOfNewRec(RmmTestHost host, RealmHandle realm)
    {
        var p = new RecParams { NumAux = RealmManagementMonitor.RecAuxCount };
        for (int i = 0; i < p.Aux.Length; i++)
        {
            p.Aux[i] = host.Delegated();
        }

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecCreate, realm.Rd, host.Delegated(), host.WriteRecParams(p)), RmiStatus.Success);
        return p.Aux[0];
    }

    private static ulong Destroyed(RmmTestHost host)
    {
        RealmHandle gone = host.CreateRealm(new RealmParams { Vmid = 3 });
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmDestroy, gone.Rd), RmiStatus.Success);
        return gone.Rd;
    }
}
