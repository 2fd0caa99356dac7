using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rtt;
using CcaSim.Rmm.Tests.Infrastructure;
using static CcaSim.Rmm.Tests.Infrastructure.RttGroupHelpers;

namespace CcaSim.Rmm.Tests.Rmi;

/// <summary>RMI_RTT_UNMAP_UNPROTECTED (rmm-1.0.md §3.18): x1 = top (§3.13), on success and on ERROR_RTT.</summary>
public sealed class RmiRttUnmapUnprotectedTests
{
    /// <summary>L1 at 2^47, L2 and L3 at 2^47 + 1 GiB exist; pages 3 and 7 of that L3 table are mapped.</summary>
    private const ulong Base = Ns + L1Span;

    private const ulong Ipa = Base + (3 * L3Span);

    private const ulong Next = Base + (7 * L3Span);

    /// <summary>One row per failure condition of §3.18 (status, index, top on ERROR_RTT), then two-condition rows.</summary>
    public static TheoryData<string, RmiStatus, int, ulong> Failures => new()
    {
        { "rd_align", RmiStatus.ErrorInput, 0, 0 },
        { "rd_bound", RmiStatus.ErrorInput, 0, 0 },
        { "rd_state", RmiStatus.ErrorInput, 0, 0 },
        { "level_bound_0", RmiStatus.ErrorInput, 0, 0 },
        { "level_bound_4", RmiStatus.ErrorInput, 0, 0 },
        { "level_bound_negative", RmiStatus.ErrorInput, 0, 0 },
        { "ipa_align", RmiStatus.ErrorInput, 0, 0 },
        { "ipa_align_l2", RmiStatus.ErrorInput, 0, 0 },
        { "ipa_bound_protected", RmiStatus.ErrorInput, 0, 0 },
        { "ipa_bound_size", RmiStatus.ErrorInput, 0, 0 },
        { "rtt_walk", RmiStatus.ErrorRtt, 1, Ns + (512 * L1Span) },           // rest of the L1 table non-live
        { "rtt_walk_at_block", RmiStatus.ErrorRtt, 2, Base + L2Span + (5 * L3Span) }, // stops at a live 2 MiB mapping
        { "rtte_state", RmiStatus.ErrorRtt, 3, Next },                        // skips to the next live page
        { "rtte_state_last", RmiStatus.ErrorRtt, 3, Base + L2Span },          // nothing live after it in the table
        { "rtte_state_table", RmiStatus.ErrorRtt, 2, Base },                  // a TABLE entry is live

        // Two broken conditions: the earlier one in the list wins.
        { "level_bound+rtt_walk", RmiStatus.ErrorInput, 0, 0 },
        { "ipa_align+rtte_state", RmiStatus.ErrorInput, 0, 0 },
        { "ipa_bound+rtt_walk", RmiStatus.ErrorInput, 0, 0 },
        { "rd_state+rtte_state", RmiStatus.ErrorInput, 0, 0 },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void RttUnmapUnprotected_WhenConditionFails_ReturnsItsErrorAndTopAndChangesNothing(string condition, RmiStatus status, int index, ulong top)
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm();
        host.CreateRtts(realm, Base, 3);
        host.CreateRtts(realm, L1Span, 3);
        RmmTestHost.Expect(host.MapNs(realm.Rd, Ipa, 3, 0x9000_0000 | NsAttrs), RmiStatus.Success);
        RmmTestHost.Expect(host.MapNs(realm.Rd, Next, 3, 0x9000_1000 | NsAttrs), RmiStatus.Success);
        ulong rd = realm.Rd;
        ulong ipa = Ipa;
        long level = 3;
        switch (condition)
        {
            case "rd_align": rd += 8; break;
            case "rd_bound": rd = OutsidePool; break;
            case "rd_state": rd = host.Delegated(); break;
            case "level_bound_0": level = 0; ipa = Ns; break;
            case "level_bound_4": level = 4; break;
            case "level_bound_negative": level = -1; break;
            case "ipa_align": ipa += 0x800; break;
            case "ipa_align_l2": level = 2; ipa = Base + L2Span + L3Span; break;
            case "ipa_bound_protected": ipa = L1Span + (3 * L3Span); break;
            case "ipa_bound_size": ipa = 1UL << 48; break;
            case "rtt_walk": ipa = Ns + (2 * L1Span); break;
            case "rtt_walk_at_block":
                RmmTestHost.Expect(host.MapNs(rd, Base + L2Span, 2, 0x4060_0000 | NsAttrs), RmiStatus.Success);
                ipa = Base + L2Span + (5 * L3Span);
                break;
            case "rtte_state": ipa = Base + (4 * L3Span); break;
            case "rtte_state_last": ipa = Base + (8 * L3Span); break;
            case "rtte_state_table": level = 2; ipa = Base; break;
            case "level_bound+rtt_walk": level = 4; ipa = Ns + (2 * L1Span); break;
            case "ipa_align+rtte_state": ipa = Base + (4 * L3Span) + 0x800; break;
            case "ipa_bound+rtt_walk": ipa = 2 * L1Span; break; // protected, and no L2 table there
            case "rd_state+rtte_state": rd = host.Delegated(); ipa = Base + (4 * L3Span); break;
            default: throw new ArgumentOutOfRangeException(nameof(condition));
        }

        ulong[] granules = [rd, realm.Rd];
        (ulong, int)[] probes = [(Ipa, 3), (Next, 3), (Base + (4 * L3Span), 3), (Base + L2Span, 2), (Base, 2), (Ns + (2 * L1Span), 3)];
        string before = host.Picture(realm, granules, probes);

        SmcResult r = host.UnmapNs(rd, ipa, level);

        RmmTestHost.Expect(r, status, index);
        Assert.Equal(before, host.Picture(realm, granules, probes));
        if (status == RmiStatus.ErrorRtt)
        {
            Assert.Equal(top, r.X1);
        }
    }

    [Fact]
    public void RttUnmapUnprotected_OfPages_MakesThemUnassignedNsAndReportsTop()
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm();
        host.CreateRtts(realm, Base, 3);
        RmmTestHost.Expect(host.MapNs(realm.Rd, Ipa, 3, 0x9000_0000 | NsAttrs), RmiStatus.Success);
        RmmTestHost.Expect(host.MapNs(realm.Rd, Next, 3, 0x9000_1000 | NsAttrs), RmiStatus.Success);

        SmcResult first = host.UnmapNs(realm.Rd, Ipa, 3);

        RmmTestHost.Expect(first, RmiStatus.Success);
        Assert.Equal(Next, first.X1);
        host.AssertEntry(realm, Ipa, 3, 3, RmiRttEntryState.Unassigned, 0, Ripas.Empty);
        host.AssertEntry(realm, Next, 3, 3, RmiRttEntryState.Assigned, 0x9000_1000 | NsAttrs, Ripas.Empty);

        SmcResult second = host.UnmapNs(realm.Rd, Next, 3);

        RmmTestHost.Expect(second, RmiStatus.Success);
        Assert.Equal(Base + L2Span, second.X1);

        // UNASSIGNED_NS again: it can be mapped anew, and the now empty table destroyed.
        RmmTestHost.Expect(host.MapNs(realm.Rd, Ipa, 3, 0x9100_0000 | NsAttrs), RmiStatus.Success);
        RmmTestHost.Expect(host.UnmapNs(realm.Rd, Ipa, 3), RmiStatus.Success);
        RmmTestHost.Expect(host.RttDestroy(realm.Rd, Base, 3), RmiStatus.Success);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(1)]
    public void RttUnmapUnprotected_OfBlock_MakesItUnassignedNsAndReportsEndOfTable(int level)
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm();
        host.CreateRtts(realm, Base, 3);
        ulong span = RmmTestHost.Span(level);
        ulong ipa = level == 2 ? Base + L2Span : Ns + (3 * L1Span);
        ulong tableEnd = level == 2 ? Base + L1Span : Ns + (512 * L1Span);
        RmmTestHost.Expect(host.MapNs(realm.Rd, ipa, level, (7 * span) | NsAttrs), RmiStatus.Success);

        SmcResult r = host.UnmapNs(realm.Rd, ipa, level);

        RmmTestHost.Expect(r, RmiStatus.Success);
        Assert.Equal(tableEnd, r.X1);
        host.AssertEntry(realm, ipa, level, level, RmiRttEntryState.Unassigned, 0, Ripas.Empty);
    }

    [Theory]
    [MemberData(nameof(WideRootRealms.Cases), MemberType = typeof(WideRootRealms))]
    public void RttUnmapUnprotected_WhenWalkStopsInARootWiderThanTheIpaSpace_ReportsTheEndOfTheRootTable(byte s2sz, long startLevel, ulong rootEnd)
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm(new RealmParams { S2sz = s2sz, RttLevelStart = startLevel });
        ulong unprotected = 1UL << (s2sz - 1);

        SmcResult r = host.UnmapNs(realm.Rd, unprotected, 3);

        RmmTestHost.Expect(r, RmiStatus.ErrorRtt, (int)startLevel);
        Assert.Equal(rootEnd, r.X1);
    }
}
