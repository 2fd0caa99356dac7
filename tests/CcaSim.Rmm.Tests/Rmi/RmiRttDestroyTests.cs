using CcaSim.Rmm.Granules;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rtt;
using CcaSim.Rmm.Tests.Infrastructure;
using static CcaSim.Rmm.Tests.Infrastructure.RttGroupHelpers;

namespace CcaSim.Rmm.Tests.Rmi;

/// <summary>RMI_RTT_DESTROY (rmm-1.0.md §3.15): x1 = RTT PA, x2 = top (§3.13), the latter also on ERROR_RTT.</summary>
public sealed class RmiRttDestroyTests
{
    /// <summary>The valid call destroys the level-3 table at 1 GiB (L1 at 0, L2 at 1 GiB, L3 at 1 GiB exist).</summary>
    private const ulong Ipa = L1Span;

    /// <summary>An unprotected level-3 table exists here too (L1 at 2^47, L2 and L3 at 2^47 + 1 GiB).</summary>
    private const ulong NsIpa = Ns + L1Span;

    /// <summary>One row per failure condition of §3.15 in ACS order (status, index, top on ERROR_RTT), then two-condition rows.</summary>
    public static TheoryData<string, RmiStatus, int, ulong> Failures => new()
    {
        { "rd_align", RmiStatus.ErrorInput, 0, 0 },
        { "rd_bound", RmiStatus.ErrorInput, 0, 0 },
        { "rd_state", RmiStatus.ErrorInput, 0, 0 },
        { "level_bound_start", RmiStatus.ErrorInput, 0, 0 },
        { "level_bound_4", RmiStatus.ErrorInput, 0, 0 },
        { "level_bound_negative", RmiStatus.ErrorInput, 0, 0 },
        { "ipa_align", RmiStatus.ErrorInput, 0, 0 },
        { "ipa_bound", RmiStatus.ErrorInput, 0, 0 },
        { "rtt_walk", RmiStatus.ErrorRtt, 1, 512 * L1Span },       // rest of the L1 table is non-live
        { "rtt_walk_root", RmiStatus.ErrorRtt, 0, Ns },             // next live root entry: the L1 table at 2^47
        { "rtte_state", RmiStatus.ErrorRtt, 2, 2 * L1Span },        // rest of the L2 table is non-live
        { "rtte_state_ns_block", RmiStatus.ErrorRtt, 2, NsIpa + L2Span }, // the parent is a live ASSIGNED_NS block
        { "rtt_live_assigned", RmiStatus.ErrorRtt, 3, Ipa },
        { "rtt_live_table", RmiStatus.ErrorRtt, 2, Ipa },
        { "rtt_live_assigned_ns", RmiStatus.ErrorRtt, 3, NsIpa },   // spec, not TF-RMM (§12)

        // Two broken conditions: the earlier one in the list wins.
        { "ipa_align+rtt_walk", RmiStatus.ErrorInput, 0, 0 },
        { "ipa_align+rtte_state", RmiStatus.ErrorInput, 0, 0 },
        { "ipa_bound+rtt_walk", RmiStatus.ErrorInput, 0, 0 },
        { "level_bound+rtt_live", RmiStatus.ErrorInput, 0, 0 },
        { "rd_state+rtt_live", RmiStatus.ErrorInput, 0, 0 },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void RttDestroy_WhenConditionFails_ReturnsItsErrorAndTopAndChangesNothing(string condition, RmiStatus status, int index, ulong top)
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm();
        host.CreateRtts(realm, Ipa, 3);
        host.CreateRtts(realm, NsIpa, 3);
        ulong l3 = host.ReadEntry(realm, Ipa, 2).Desc;
        ulong rd = realm.Rd;
        ulong ipa = Ipa;
        long level = 3;
        switch (condition)
        {
            case "rd_align": rd += 8; break;
            case "rd_bound": rd = OutsidePool; break;
            case "rd_state": rd = l3; break;
            case "level_bound_start": level = 0; ipa = 0; break;
            case "level_bound_4": level = 4; break;
            case "level_bound_negative": level = -1; ipa = 0; break;
            case "ipa_align": ipa += L3Span; break;
            case "ipa_bound": ipa = 1UL << 48; break;
            case "rtt_walk": ipa = 2 * L1Span; break;
            case "rtt_walk_root": ipa = 1UL << 40; break;
            case "rtte_state": ipa += L2Span; break;
            case "rtte_state_ns_block":
                RmmTestHost.Expect(host.MapNs(rd, NsIpa + L2Span, 2, (7 * L2Span) | NsAttrs), RmiStatus.Success);
                ipa = NsIpa + L2Span;
                break;
            case "rtt_live_assigned": host.AssignUnknown(realm, Ipa + (3 * L3Span)); break;
            case "rtt_live_table": level = 2; break;
            case "rtt_live_assigned_ns":
                RmmTestHost.Expect(host.MapNs(rd, NsIpa + (5 * L3Span), 3, 0x9000_0000 | NsAttrs), RmiStatus.Success);
                ipa = NsIpa;
                break;
            case "ipa_align+rtt_walk": ipa = (2 * L1Span) + L3Span; break;
            case "ipa_align+rtte_state": ipa += L2Span + L3Span; break;
            case "ipa_bound+rtt_walk": ipa = (1UL << 48) + L1Span; break;
            case "level_bound+rtt_live": host.AssignUnknown(realm, Ipa); level = 4; break;
            case "rd_state+rtt_live": host.AssignUnknown(realm, Ipa); rd = host.Delegated(); break;
            default: throw new ArgumentOutOfRangeException(nameof(condition));
        }

        ulong[] granules = [rd, realm.Rd, l3];
        (ulong, int)[] probes = [(Ipa, 3), (Ipa, 2), (Ipa + (3 * L3Span), 3), (2 * L1Span, 2), (NsIpa, 2), (NsIpa + (5 * L3Span), 3), (NsIpa + L2Span, 3)];
        string before = host.Picture(realm, granules, probes);

        SmcResult r = host.RttDestroy(rd, ipa, level);

        RmmTestHost.Expect(r, status, index);
        Assert.Equal(before, host.Picture(realm, granules, probes));
        if (status == RmiStatus.ErrorRtt)
        {
            Assert.Equal(top, r.X2);
        }
    }

    /// <summary>The unassigned contents of the table are discarded: the parent becomes DESTROYED whatever they were.</summary>
    [Theory]
    [InlineData("all_empty")]
    [InlineData("all_ram")]
    [InlineData("ram_and_empty")]
    [InlineData("destroyed_after_data")]
    public void RttDestroy_OfProtectedTable_LeavesParentUnassignedDestroyedAndScrubsRtt(string contents)
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm();
        host.CreateRtts(realm, Ipa, 3);
        ulong l3 = host.ReadEntry(realm, Ipa, 2).Desc;
        switch (contents)
        {
            case "all_ram": host.InitRipas(realm, Ipa, Ipa + L2Span); break;
            case "ram_and_empty": host.InitRipas(realm, Ipa, Ipa + (2 * L3Span)); break;
            case "destroyed_after_data":
                host.InitRipas(realm, Ipa, Ipa + L2Span);
                host.AssignUnknown(realm, Ipa + L3Span);
                RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiDataDestroy, realm.Rd, Ipa + L3Span), RmiStatus.Success);
                host.AssertEntry(realm, Ipa + L3Span, 3, 3, RmiRttEntryState.Unassigned, 0, Ripas.Destroyed);
                break;
        }

        SmcResult r = host.RttDestroy(realm.Rd, Ipa, 3);

        RmmTestHost.Expect(r, RmiStatus.Success);
        Assert.Equal(l3, r.X1);
        Assert.Equal(2 * L1Span, r.X2);
        host.AssertEntry(realm, Ipa, 3, 2, RmiRttEntryState.Unassigned, 0, Ripas.Destroyed);
        host.AssertEntry(realm, Ipa + L2Span, 2, 2, RmiRttEntryState.Unassigned, 0, Ripas.Empty);
        Assert.Equal(GranuleState.Delegated, host.StateOf(l3));
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiGranuleUndelegate, l3), RmiStatus.Success);
        for (ulong off = 0; off < RmmTestHost.GranuleSize; off += 8)
        {
            Assert.Equal(0UL, host.Read64(l3 + off));
        }
    }

    [Fact]
    public void RttDestroy_OfUnprotectedTable_LeavesParentUnassignedNs()
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm();
        host.CreateRtts(realm, NsIpa, 3);
        ulong l3 = host.ReadEntry(realm, NsIpa, 2).Desc;
        RmmTestHost.Expect(host.MapNs(realm.Rd, NsIpa, 3, 0x9000_0000 | NsAttrs), RmiStatus.Success);
        RmmTestHost.Expect(host.UnmapNs(realm.Rd, NsIpa, 3), RmiStatus.Success);

        SmcResult r = host.RttDestroy(realm.Rd, NsIpa, 3);

        RmmTestHost.Expect(r, RmiStatus.Success);
        Assert.Equal(l3, r.X1);
        Assert.Equal(NsIpa + L1Span, r.X2);
        Assert.Equal(GranuleState.Delegated, host.StateOf(l3));
        host.AssertEntry(realm, NsIpa, 3, 2, RmiRttEntryState.Unassigned, 0, Ripas.Empty);

        // UNASSIGNED_NS, not UNASSIGNED: a 2 MiB unprotected block can be mapped there.
        RmmTestHost.Expect(host.MapNs(realm.Rd, NsIpa, 2, (3 * L2Span) | NsAttrs), RmiStatus.Success);
    }

    /// <summary>rmm-1.0.md §13: DATA_DESTROY then RTT_DESTROY of L3, L2, L1 in an otherwise empty 48-bit realm.</summary>
    [Fact]
    public void RttDestroy_SuccessiveDestroysInEmptyRealm_ReportTopsOfReferenceRmm()
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm();
        host.CreateRtts(realm, 0, 3);
        ulong[] tables = [host.ReadEntry(realm, 0, 0).Desc, host.ReadEntry(realm, 0, 1).Desc, host.ReadEntry(realm, 0, 2).Desc];
        ulong data = host.AssignUnknown(realm, 0);

        SmcResult d = host.Smc(RmiFunctionId.RmiDataDestroy, realm.Rd, 0);
        RmmTestHost.Expect(d, RmiStatus.Success);
        Assert.Equal((data, 0x20_0000UL), (d.X1, d.X2));

        ulong[] tops = [0x4000_0000, 0x80_0000_0000, 1UL << 48];
        for (int level = 3; level >= 1; level--)
        {
            SmcResult r = host.RttDestroy(realm.Rd, 0, level);
            RmmTestHost.Expect(r, RmiStatus.Success);
            Assert.Equal((tables[level - 1], tops[3 - level]), (r.X1, r.X2));
            host.AssertEntry(realm, 0, level, level - 1, RmiRttEntryState.Unassigned, 0, Ripas.Destroyed);
        }

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmDestroy, realm.Rd), RmiStatus.Success);
    }

    [Fact]
    public void RttDestroy_WithLiveNeighbour_ReportsTopAtNextLiveEntry()
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm();
        host.CreateRtts(realm, 0, 3);
        host.CreateRtts(realm, 3 * L2Span, 3);

        SmcResult r = host.RttDestroy(realm.Rd, 0, 3);

        RmmTestHost.Expect(r, RmiStatus.Success);
        Assert.Equal(3 * L2Span, r.X2);
    }

    [Theory]
    [MemberData(nameof(WideRootRealms.Cases), MemberType = typeof(WideRootRealms))]
    public void RttDestroy_WhenParentIsARootWiderThanTheIpaSpace_ReportsTheEndOfTheRootTable(byte s2sz, long startLevel, ulong rootEnd)
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm(new RealmParams { S2sz = s2sz, RttLevelStart = startLevel });
        ulong ipa = RmmTestHost.Span((int)startLevel);
        RmmTestHost.Expect(host.RttCreate(realm.Rd, host.Delegated(), ipa, startLevel + 1), RmiStatus.Success);

        SmcResult r = host.RttDestroy(realm.Rd, ipa, startLevel + 1);

        RmmTestHost.Expect(r, RmiStatus.Success);
        Assert.Equal(rootEnd, r.X2);

        // The same top on ERROR_RTT, now that the parent entry is no longer a table.
        SmcResult again = host.RttDestroy(realm.Rd, ipa, startLevel + 1);
        RmmTestHost.Expect(again, RmiStatus.ErrorRtt, (int)startLevel);
        Assert.Equal(rootEnd, again.X2);
    }
}
