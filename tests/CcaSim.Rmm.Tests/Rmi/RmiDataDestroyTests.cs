using CcaSim.Rmm.Granules;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rtt;
using CcaSim.Rmm.Tests.Infrastructure;
using static CcaSim.Rmm.Tests.Infrastructure.DataRipasHelpers;

namespace CcaSim.Rmm.Tests.Rmi;

/// <summary>RMI_DATA_DESTROY (rmm-1.0.md §3.12) and its "top of non-live region" output (§3.13).</summary>
public sealed class RmiDataDestroyTests
{
    /// <summary>Marks rows whose error defines no x2 output.</summary>
    public const ulong NoTop = ulong.MaxValue;

    private const ulong TargetIpa = 0x3000;
    private const ulong BlockIpa = 2 * L2Span;

    /// <summary>
    /// One row per failure condition of §3.12 in ACS order, with the x2 (top) the spec defines on ERROR_RTT, then
    /// rows breaking two conditions. The base state: an L3 table at IPA 0 whose only live entry is 0x3000.
    /// </summary>
    public static TheoryData<string, RmiStatus, int, ulong> Failures => new()
    {
        { "rd_align", RmiStatus.ErrorInput, 0, NoTop },
        { "rd_bound", RmiStatus.ErrorInput, 0, NoTop },
        { "rd_state_delegated", RmiStatus.ErrorInput, 0, NoTop },
        { "rd_state_rtt", RmiStatus.ErrorInput, 0, NoTop },
        { "rd_state_destroyed", RmiStatus.ErrorInput, 0, NoTop },
        { "ipa_align", RmiStatus.ErrorInput, 0, NoTop },
        { "ipa_bound_unprotected", RmiStatus.ErrorInput, 0, NoTop },
        { "ipa_bound_ipa_size", RmiStatus.ErrorInput, 0, NoTop },
        { "rtt_walk_l0", RmiStatus.ErrorRtt, 0, 1UL << 48 },
        { "rtt_walk_l1", RmiStatus.ErrorRtt, 1, L0Span },
        { "rtt_walk_l2", RmiStatus.ErrorRtt, 2, L1Span },
        { "rtt_walk_l2_next_live_table", RmiStatus.ErrorRtt, 2, 4 * L2Span },
        { "rtt_walk_l2_block", RmiStatus.ErrorRtt, 2, BlockIpa + TargetIpa },
        { "rtte_state_unassigned_empty_next_live", RmiStatus.ErrorRtt, 3, 0x8000 },
        { "rtte_state_unassigned_ram", RmiStatus.ErrorRtt, 3, L2Span },
        { "rtte_state_unassigned_destroyed", RmiStatus.ErrorRtt, 3, L2Span },
        { "ipa_bound_beats_rtt_walk", RmiStatus.ErrorInput, 0, NoTop },
        { "ipa_bound_beats_rtte_state_assigned_ns", RmiStatus.ErrorInput, 0, NoTop },
        { "ipa_bound_beats_rtte_state_unassigned_ns", RmiStatus.ErrorInput, 0, NoTop },
        { "ipa_align_beats_rtt_walk", RmiStatus.ErrorInput, 0, NoTop },
        { "rd_state_beats_rtte_state", RmiStatus.ErrorInput, 0, NoTop },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void DataDestroy_WhenConditionFails_ReturnsSpecErrorAndChangesNothing(string condition, RmiStatus status, int index, ulong top)
    {
        RmmTestHost host = NewHost();
        RealmHandle realm = RealmWithL3(host);
        ulong data = Assign(host, realm, TargetIpa);
        ulong rd = realm.Rd;
        ulong ipa = 0x5000;
        ulong end = host.Platform.Memory.End;

        switch (condition)
        {
            case "rd_align": rd += 0x800; ipa = TargetIpa; break;
            case "rd_bound": rd = end; ipa = TargetIpa; break;
            case "rd_state_delegated": rd = host.Delegated(); ipa = TargetIpa; break;
            case "rd_state_rtt": rd = realm.Params.RttBase; ipa = TargetIpa; break;
            case "rd_state_destroyed":
                RealmHandle gone = host.CreateRealm(new RealmParams { Vmid = 1 });
                RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmDestroy, gone.Rd), RmiStatus.Success);
                rd = gone.Rd;
                ipa = TargetIpa;
                break;
            case "ipa_align": ipa = TargetIpa + 0x800; break;
            case "ipa_bound_unprotected": ipa = Unprotected48 + TargetIpa; break;
            case "ipa_bound_ipa_size": ipa = 1UL << 48; break;
            case "rtt_walk_l0": ipa = L0Span; break;
            case "rtt_walk_l1": ipa = L1Span; break;
            case "rtt_walk_l2": ipa = L2Span; break;
            case "rtt_walk_l2_next_live_table": host.CreateRtts(realm, 4 * L2Span, 3); ipa = L2Span; break;
            case "rtt_walk_l2_block": FoldAssignedBlock(host, realm, BlockIpa); ipa = BlockIpa + TargetIpa; break;
            case "rtte_state_unassigned_empty_next_live": Assign(host, realm, 0x8000); break;
            case "rtte_state_unassigned_ram": SetUnassignedRipas(host, realm, ipa, Ripas.Ram); break;
            case "rtte_state_unassigned_destroyed": SetUnassignedRipas(host, realm, ipa, Ripas.Destroyed); break;
            case "ipa_bound_beats_rtt_walk": ipa = Unprotected48; break;
            case "ipa_bound_beats_rtte_state_assigned_ns":
                ipa = Unprotected48 + TargetIpa;
                host.CreateRtts(realm, ipa, 3);
                RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRttMapUnprotected, rd, ipa, 3, host.NsGranule()), RmiStatus.Success);
                break;
            case "ipa_bound_beats_rtte_state_unassigned_ns": ipa = Unprotected48 + TargetIpa; host.CreateRtts(realm, ipa, 3); break;
            case "ipa_align_beats_rtt_walk": ipa = L2Span + 0x800; break;
            case "rd_state_beats_rtte_state": rd = host.Delegated(); break;
            default: throw new ArgumentOutOfRangeException(nameof(condition));
        }

        Snapshot before = Take(host, [realm], [data, rd, realm.Rd], [ipa, TargetIpa, 0x8000]);

        SmcResult r = host.Smc(RmiFunctionId.RmiDataDestroy, rd, ipa);

        RmmTestHost.Expect(r, status, index);
        if (top != NoTop)
        {
            Assert.Equal($"0x{top:x}", $"0x{r.X2:x}");
        }

        before.AssertUnchanged(Take(host, [realm], [data, rd, realm.Rd], [ipa, TargetIpa, 0x8000]));
        Assert.Equal(GranuleState.Data, host.StateOf(data));
    }

    [Theory]
    [InlineData(Ripas.Ram, Ripas.Destroyed)]
    [InlineData(Ripas.Empty, Ripas.Empty)]
    [InlineData(Ripas.Destroyed, Ripas.Destroyed)]
    public void DataDestroy_WhenOnlyLiveEntry_ReturnsPaAndTableEndAndLeavesRipas(Ripas assigned, Ripas after)
    {
        RmmTestHost host = NewHost();
        RealmHandle realm = RealmWithL3(host);
        ulong data;
        if (assigned == Ripas.Ram)
        {
            // DATA_CREATE with real contents, so the scrub on destroy is observable.
            data = host.Delegated();
            ulong src = host.NsGranule();
            FillPattern(host, src, 0x77);
            RmmTestHost.Expect(DataCreate(host, realm, data, TargetIpa, src), RmiStatus.Success);
        }
        else
        {
            data = AssignWithRipas(host, realm, TargetIpa, assigned);
        }

        Assert.Equal((3, RmiRttEntryState.Assigned, data, (ulong)assigned), host.ReadEntry(realm, TargetIpa, 3));
        byte[] rim = Rim(host, realm);

        SmcResult r = host.Smc(RmiFunctionId.RmiDataDestroy, realm.Rd, TargetIpa);

        RmmTestHost.Expect(r, RmiStatus.Success);
        Assert.Equal(data, r.X1);
        Assert.Equal(L2Span, r.X2);
        Assert.Equal((3, RmiRttEntryState.Unassigned, 0UL, (ulong)after), host.ReadEntry(realm, TargetIpa, 3));
        Assert.Equal(GranuleState.Delegated, host.StateOf(data));
        Assert.Equal(rim, Rim(host, realm));
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiGranuleUndelegate, data), RmiStatus.Success);
        Assert.Equal(new byte[RmmTestHost.GranuleSize], ReadNs(host, data));
    }

    [Theory]
    [InlineData(new ulong[] { 0x3000, 0x8000 }, 0x3000UL, 0x8000UL)]
    [InlineData(new ulong[] { 0x3000, 0x4000 }, 0x3000UL, 0x4000UL)]
    [InlineData(new ulong[] { 0x3000, 0x8000 }, 0x8000UL, 0x200000UL)]
    [InlineData(new ulong[] { 0x1000, 0x3000 }, 0x3000UL, 0x200000UL)]
    [InlineData(new ulong[] { 0x3000, 0x1FF000 }, 0x3000UL, 0x1FF000UL)]
    [InlineData(new ulong[] { 0x1FF000 }, 0x1FF000UL, 0x200000UL)]
    public void DataDestroy_WithOtherLiveEntries_ReturnsNextLiveIpaAsTop(ulong[] assigned, ulong ipa, ulong expectedTop)
    {
        RmmTestHost host = NewHost();
        RealmHandle realm = RealmWithL3(host);
        var pas = assigned.ToDictionary(a => a, a => Assign(host, realm, a));

        SmcResult r = host.Smc(RmiFunctionId.RmiDataDestroy, realm.Rd, ipa);

        RmmTestHost.Expect(r, RmiStatus.Success);
        Assert.Equal(pas[ipa], r.X1);
        Assert.Equal($"0x{expectedTop:x}", $"0x{r.X2:x}");
        foreach (ulong other in assigned.Where(a => a != ipa))
        {
            Assert.Equal((3, RmiRttEntryState.Assigned, pas[other], (ulong)Ripas.Empty), host.ReadEntry(realm, other, 3));
        }
    }

    [Theory]
    [InlineData("active")]
    [InlineData("system_off")]
    public void DataDestroy_InActiveOrSystemOffRealm_Succeeds(string state)
    {
        RmmTestHost host = NewHost();
        RealmHandle realm = RealmWithL3(host);
        ulong data = AssignWithRipas(host, realm, TargetIpa, Ripas.Ram);
        if (state == "active")
        {
            Activate(host, realm);
        }
        else
        {
            SystemOff(host, realm);
        }

        SmcResult r = host.Smc(RmiFunctionId.RmiDataDestroy, realm.Rd, TargetIpa);

        RmmTestHost.Expect(r, RmiStatus.Success);
        Assert.Equal(data, r.X1);
        Assert.Equal((3, RmiRttEntryState.Unassigned, 0UL, (ulong)Ripas.Destroyed), host.ReadEntry(realm, TargetIpa, 3));
        Assert.Equal(GranuleState.Delegated, host.StateOf(data));
    }

    [Fact]
    public void DataDestroy_ThenDataCreateAgain_AssignsRamOverDestroyed()
    {
        RmmTestHost host = NewHost();
        RealmHandle realm = RealmWithL3(host);
        ulong data = AssignWithRipas(host, realm, TargetIpa, Ripas.Ram);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiDataDestroy, realm.Rd, TargetIpa), RmiStatus.Success);

        RmmTestHost.Expect(DataCreate(host, realm, data, TargetIpa, host.NsGranule()), RmiStatus.Success);

        Assert.Equal((3, RmiRttEntryState.Assigned, data, (ulong)Ripas.Ram), host.ReadEntry(realm, TargetIpa, 3));
    }

    [Theory]
    [MemberData(nameof(WideRootRealms.Cases), MemberType = typeof(WideRootRealms))]
    public void DataDestroy_WhenWalkStopsInARootWiderThanTheIpaSpace_ReportsTheEndOfTheRootTable(byte s2sz, long startLevel, ulong rootEnd)
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm(new RealmParams { S2sz = s2sz, RttLevelStart = startLevel });

        SmcResult r = host.Smc(RmiFunctionId.RmiDataDestroy, realm.Rd, 0);

        RmmTestHost.Expect(r, RmiStatus.ErrorRtt, (int)startLevel);
        Assert.Equal((0UL, rootEnd), (r.X1, r.X2));
    }

    [Fact]
    public void DataDestroy_WhenWalkStopsInALevelMinusOneRoot_ReportsTheEndOfItsSixteenEntries()
    {
        var host = new RmmTestHost(RealmLifecycleHelpers.WithFeatures(f => f with { S2sz = 52, Lpa2 = true }));
        RealmHandle realm = host.CreateRealm(new RealmParams { Flags = 1, S2sz = 49, RttLevelStart = -1 });

        SmcResult r = host.Smc(RmiFunctionId.RmiDataDestroy, realm.Rd, 0);

        Assert.Equal(RmiStatus.ErrorRtt, r.Status);
        Assert.Equal(1UL << 52, r.X2);
    }
}
