using CcaSim.Platform.Execution;
using CcaSim.Rmm.Granules;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Tests.Infrastructure;
using static CcaSim.Rmm.Tests.Infrastructure.RecGroupHelpers;

namespace CcaSim.Rmm.Tests.Rmi;

/// <summary>RMI_REC_DESTROY (rmm-1.0.md §3.9).</summary>
public sealed class RmiRecDestroyTests
{
    /// <summary>One row per failure condition of §3.9 that a single call can hit (rec_running is a separate fact).</summary>
    public static TheoryData<string> Failures =>
    [
        "rec_align",
        "rec_bound",
        "rec_state_undelegated",
        "rec_state_delegated",
        "rec_state_rd",
        "rec_state_rec_aux",
        "rec_state_rtt",
        "rec_state_already_destroyed",
    ];

    [Theory]
    [MemberData(nameof(Failures))]
    public void RecDestroy_WhenConditionFails_ReturnsErrorInputAndChangesNothing(string condition)
    {
        RmmTestHost host = NewHost();
        RealmHandle realm = host.CreateRealm();
        CreatedRec rec = CreateRec(host, realm, mpidr: 0);
        ulong addr = condition switch
        {
            "rec_align" => rec.Pa + 8,
            "rec_bound" => OutOfPool,
            "rec_state_undelegated" => host.NsGranule(),
            "rec_state_delegated" => host.Delegated(),
            "rec_state_rd" => realm.Rd,
            "rec_state_rec_aux" => rec.Params.Aux[0],
            "rec_state_rtt" => realm.Params.RttBase,
            "rec_state_already_destroyed" => DestroyedRecPa(host, realm),
            _ => throw new ArgumentOutOfRangeException(nameof(condition)),
        };
        GranuleState? before = addr % RmmTestHost.GranuleSize == 0 && host.Platform.Memory.Contains(addr, RmmTestHost.GranuleSize) ? host.StateOf(addr) : null;

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecDestroy, addr), RmiStatus.ErrorInput);

        if (before is { } state)
        {
            Assert.Equal(state, host.StateOf(addr));
        }

        AssertRecIntact(host, rec);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmDestroy, realm.Rd), RmiStatus.ErrorRealm);
    }

    [Fact]
    public void RecDestroy_WhenRecIsRunning_ReturnsErrorRec()
    {
        RmmTestHost host = NewHost();
        RealmHandle realm = host.CreateRealm();
        CreatedRec rec = CreateRec(host, realm, mpidr: 0);
        Activate(host, realm);
        SmcResult? nested = null;
        host.Rmm.Engine = new CallbackEngine(_ =>
        {
            nested = host.Smc(RmiFunctionId.RmiRecDestroy, rec.Pa);
            return new RealmEvent(RealmEventKind.Fiq);
        });

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecEnter, rec.Pa, NewRun(host)), RmiStatus.Success);

        Assert.NotNull(nested);
        RmmTestHost.Expect(nested.Value, RmiStatus.ErrorRec);
        AssertRecIntact(host, rec);
    }

    public static TheoryData<string> RealmStates => ["new", "active", "system_off"];

    [Theory]
    [MemberData(nameof(RealmStates))]
    public void RecDestroy_WhenValid_ScrubsRecAndAuxToDelegatedInAnyRealmState(string realmState)
    {
        RmmTestHost host = NewHost();
        RealmHandle realm = host.CreateRealm();
        CreatedRec rec = CreateRec(host, realm, mpidr: 0);
        CreatedRec other = CreateRec(host, realm, mpidr: 1);
        if (realmState == "active")
        {
            Activate(host, realm);
        }
        else if (realmState == "system_off")
        {
            SystemOff(host, realm);
        }

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecDestroy, rec.Pa), RmiStatus.Success);

        Assert.Equal(GranuleState.Delegated, host.StateOf(rec.Pa));
        Assert.All(rec.Params.Aux, aux => Assert.Equal(GranuleState.Delegated, host.StateOf(aux)));
        AssertRecIntact(host, other);

        // The RD's reference count dropped by one: it still holds the other REC.
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmDestroy, realm.Rd), RmiStatus.ErrorRealm);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecDestroy, other.Pa), RmiStatus.Success);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmDestroy, realm.Rd), RmiStatus.Success);

        Assert.True(UndelegatesAsZero(host, rec.Pa));
        Assert.All(rec.Params.Aux, aux => Assert.True(UndelegatesAsZero(host, aux)));
    }

    [Fact]
    public void RecDestroy_WhenValid_FreesTheGranulesForReuseButNotTheIndex()
    {
        RmmTestHost host = NewHost();
        RealmHandle realm = host.CreateRealm();
        CreatedRec rec = CreateRec(host, realm, mpidr: 0);

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecDestroy, rec.Pa), RmiStatus.Success);

        // Same granules, same index: the index stays consumed (§11.2) ...
        RecParams again = Clone(rec.Params);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecCreate, realm.Rd, rec.Pa, host.WriteRecParams(again)), RmiStatus.ErrorInput);

        // ... but the granules are DELEGATED again and make the next REC.
        again.Mpidr = 1;
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecCreate, realm.Rd, rec.Pa, host.WriteRecParams(again)), RmiStatus.Success);
        Assert.Equal(GranuleState.Rec, host.StateOf(rec.Pa));
    }

    private static ulong DestroyedRecPa(RmmTestHost host, RealmHandle realm)
    {
        CreatedRec gone = CreateRec(host, realm, mpidr: 1);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecDestroy, gone.Pa), RmiStatus.Success);
        return gone.Pa;
    }

    private static void AssertRecIntact(RmmTestHost host, CreatedRec rec)
    {
        Assert.Equal(GranuleState.Rec, host.StateOf(rec.Pa));
        Assert.All(rec.Params.Aux, aux => Assert.Equal(GranuleState.RecAux, host.StateOf(aux)));
    }
}
