using CcaSim.Rmm.Granules;
using CcaSim.Rmm.Realms;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Tests.Infrastructure;

namespace CcaSim.Rmm.Tests.Rmi;

/// <summary>
/// RMI_REALM_DESTROY (rd) (rmm-1.0.md §3.6): rd_* → ERROR_INPUT; realm_live (a REC exists, or a root RTT entry is
/// live) → ERROR_REALM. Success scrubs the roots and the RD back to DELEGATED and frees the VMID.
/// </summary>
public sealed class RmiRealmDestroyTests
{
    private const ulong ProtectedIpa = 0x4000_0000;
    private const ulong UnprotectedIpa = 1UL << 47;

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
        { "realm_live_rec", RmiStatus.ErrorRealm },
        { "realm_live_rec_in_active_realm", RmiStatus.ErrorRealm },
        { "realm_live_rtt_protected", RmiStatus.ErrorRealm },
        { "realm_live_rtt_unprotected", RmiStatus.ErrorRealm },
        { "realm_live_rtt_chain_to_level_3_with_data", RmiStatus.ErrorRealm },
        { "realm_live_ns_block_in_root", RmiStatus.ErrorRealm },
        // Two conditions of the same status: a REC and a child RTT.
        { "realm_live_rec_and_rtt", RmiStatus.ErrorRealm },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void RealmDestroy_WhenConditionFails_ReturnsErrorAndChangesNothing(string condition, RmiStatus expected)
    {
        RmmTestHost host = RealmLifecycleHelpers.NewHost();
        // Level-1 start so that a root entry can hold a 1 GiB unprotected block.
        RealmHandle realm = host.CreateRealm(new RealmParams { S2sz = 48, RttLevelStart = 0, RttNumStart = 1, Vmid = 4 });
        RealmHandle l1Realm = host.CreateRealm(new RealmParams { S2sz = 39, RttLevelStart = 1, RttNumStart = 1, Vmid = 5 });
        ulong rec = 0;
        ulong addr = realm.Rd;
        RealmHandle target = realm;
        switch (condition)
        {
            case "rd_align": addr = realm.Rd + 0x100; break;
            case "rd_bound_below": addr = RealmLifecycleHelpers.BelowPool; break;
            case "rd_bound_above": addr = RealmLifecycleHelpers.AbovePool; break;
            case "rd_state_undelegated": addr = host.NsGranule(); break;
            case "rd_state_delegated": addr = host.Delegated(); break;
            case "rd_state_rtt": addr = realm.Params.RttBase; break;
            case "rd_state_rec": addr = rec = host.CreateRec(realm); break;
            case "rd_state_destroyed":
                RealmHandle gone = host.CreateRealm(new RealmParams { Vmid = 6 });
                RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmDestroy, gone.Rd), RmiStatus.Success);
                addr = gone.Rd;
                break;
            case "realm_live_rec": rec = host.CreateRec(realm); break;
            case "realm_live_rec_in_active_realm":
                rec = host.CreateRec(realm);
                RealmLifecycleHelpers.Activate(host, realm.Rd);
                break;
            case "realm_live_rtt_protected": host.CreateRtts(realm, ProtectedIpa, 1); break;
            case "realm_live_rtt_unprotected": host.CreateRtts(realm, UnprotectedIpa, 1); break;
            case "realm_live_rtt_chain_to_level_3_with_data":
                host.CreateRtts(realm, ProtectedIpa, 3);
                RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiDataCreateUnknown, realm.Rd, host.Delegated(), ProtectedIpa), RmiStatus.Success);
                break;
            case "realm_live_ns_block_in_root":
                target = l1Realm;
                addr = l1Realm.Rd;
                RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRttMapUnprotected, l1Realm.Rd, 1UL << 38, 1, 0x4000_0000), RmiStatus.Success);
                break;
            case "realm_live_rec_and_rtt":
                rec = host.CreateRec(realm);
                host.CreateRtts(realm, ProtectedIpa, 1);
                break;
            default: throw new ArgumentOutOfRangeException(nameof(condition));
        }

        ulong[] watched = [addr, realm.Rd, realm.Params.RttBase, l1Realm.Rd, l1Realm.Params.RttBase, rec];
        var before = GranuleSnapshot.Take(host, watched);
        var entries = ReadProbes(host, target);

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmDestroy, addr), expected);

        Assert.Equal(before, GranuleSnapshot.Take(host, watched));
        Assert.Equal(entries, ReadProbes(host, target));
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecAuxCount, realm.Rd), RmiStatus.Success);
        if (rec != 0)
        {
            // The REC survived and still belongs to a live realm: it can be destroyed normally.
            RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecDestroy, rec), RmiStatus.Success);
        }
    }

    public static TheoryData<RealmState> States => [RealmState.New, RealmState.Active, RealmState.SystemOff];

    [Theory]
    [MemberData(nameof(States))]
    public void RealmDestroy_WhenRealmHasNoRecsOrChildRtts_ReturnsRootsAndRdToDelegatedInAnyState(RealmState state)
    {
        RmmTestHost host = RealmLifecycleHelpers.NewHost();
        var p = new RealmParams { S2sz = 32, RttLevelStart = 2, RttNumStart = 4, Vmid = 42 };
        RealmHandle realm = host.CreateRealm(p);
        RealmLifecycleHelpers.BringTo(host, realm.Rd, state);
        ulong[] roots = [.. Enumerable.Range(0, 4).Select(i => p.RttBase + ((ulong)i * RmmTestHost.GranuleSize))];
        long delegatedBefore = host.Rmm.GranuleCount(GranuleState.Delegated);

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmDestroy, realm.Rd), RmiStatus.Success);

        Assert.Equal(GranuleState.Delegated, host.StateOf(realm.Rd));
        Assert.All(roots, r => Assert.Equal(GranuleState.Delegated, host.StateOf(r)));
        Assert.Equal(delegatedBefore + 5, host.Rmm.GranuleCount(GranuleState.Delegated));
        Assert.Equal(0, host.Rmm.VmidsInUse);
        // The realm is gone ("NULL"): every command naming the RD now fails rd_state.
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecAuxCount, realm.Rd), RmiStatus.ErrorInput);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmActivate, realm.Rd), RmiStatus.ErrorInput);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRttReadEntry, realm.Rd, 0, 2), RmiStatus.ErrorInput);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmDestroy, realm.Rd), RmiStatus.ErrorInput);
        // Scrubbed: undelegated, the granules read as zero to the host.
        foreach (ulong pa in roots.Append(realm.Rd))
        {
            RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiGranuleUndelegate, pa), RmiStatus.Success);
            byte[] page = new byte[RmmTestHost.GranuleSize];
            host.Host.Read(pa, page);
            Assert.All(page, b => Assert.Equal(0, b));
        }
    }

    [Fact]
    public void RealmDestroy_WhenDone_FreesTheVmidAndGranulesForAnotherRealm()
    {
        RmmTestHost host = RealmLifecycleHelpers.NewHost(new RmmConfig { VmidBits = 8 });
        var p = new RealmParams { Vmid = 255 };
        RealmHandle first = host.CreateRealm(p);
        // While the first realm lives, its VMID cannot be reused.
        var clash = new RealmParams { Vmid = 255, RttBase = host.Delegated() };
        ulong clashRd = host.Delegated();
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmCreate, clashRd, host.WriteRealmParams(clash)), RmiStatus.ErrorInput);

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmDestroy, first.Rd), RmiStatus.Success);

        // Same VMID, same RD granule and same root granule: all free again.
        var again = new RealmParams { Vmid = 255, RttBase = p.RttBase };
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmCreate, first.Rd, host.WriteRealmParams(again)), RmiStatus.Success);
        Assert.Equal(1, host.Rmm.VmidsInUse);
        // The new realm starts from scratch: NEW, REC index 0, empty roots.
        var handle = new RealmHandle(first.Rd, again, 0);
        host.CreateRec(handle, mpidr: 0);
        Assert.Equal((0, RmiRttEntryState.Unassigned, 0UL, 0UL), host.ReadEntry(handle, 0, 0));
    }

    [Fact]
    public void RealmDestroy_WhenRecsAndRttsAreRemovedFirst_Succeeds()
    {
        RmmTestHost host = RealmLifecycleHelpers.NewHost();
        RealmHandle realm = host.CreateRealm();
        ulong rec = host.CreateRec(realm);
        host.CreateRtts(realm, ProtectedIpa, 2);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmDestroy, realm.Rd), RmiStatus.ErrorRealm);

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecDestroy, rec), RmiStatus.Success);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmDestroy, realm.Rd), RmiStatus.ErrorRealm);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRttDestroy, realm.Rd, ProtectedIpa, 2), RmiStatus.Success);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmDestroy, realm.Rd), RmiStatus.ErrorRealm);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRttDestroy, realm.Rd, 0, 1), RmiStatus.Success);

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmDestroy, realm.Rd), RmiStatus.Success);

        Assert.Equal(GranuleState.Delegated, host.StateOf(realm.Rd));
        Assert.Equal(GranuleState.Delegated, host.StateOf(realm.Params.RttBase));
        Assert.Equal(0, host.Rmm.GranuleCount(GranuleState.Rtt));
    }

    /// <summary>Entries at the start level around the probes the failure rows touch, read back through RMI.</summary>
    private static string ReadProbes(RmmTestHost host, RealmHandle realm)
    {
        int sl = (int)realm.Params.RttLevelStart;
        ulong[] ipas = [0, ProtectedIpa, 1UL << 38, UnprotectedIpa];
        ulong ipaSize = 1UL << realm.Params.S2sz;
        return string.Join(';', ipas
            .Select(ipa => ipa & ~(RmmTestHost.Span(sl) - 1))
            .Where(ipa => ipa < ipaSize)
            .Select(ipa => host.ReadEntry(realm, ipa, sl).ToString()));
    }
}
