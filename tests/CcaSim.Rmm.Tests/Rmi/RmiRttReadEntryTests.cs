using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rtt;
using CcaSim.Rmm.Tests.Infrastructure;
using static CcaSim.Rmm.Tests.Infrastructure.RttGroupHelpers;

namespace CcaSim.Rmm.Tests.Rmi;

/// <summary>RMI_RTT_READ_ENTRY (rmm-1.0.md §3.19): x1 = level reached, x2 = state, x3 = desc, x4 = RIPAS.</summary>
public sealed class RmiRttReadEntryTests
{
    private const ulong Ipa = L1Span;

    /// <summary>A 40-bit realm starting at level 1 with two concatenated roots (the unprotected half starts at 2^39).</summary>
    private static RealmParams Sl1Params() => new() { S2sz = 40, RttLevelStart = 1, RttNumStart = 2 };

    /// <summary>One row per failure condition of §3.19, against the level-1-start realm; then two-condition rows.</summary>
    public static TheoryData<string> Failures =>
    [
        "rd_align", "rd_bound", "rd_state", "rd_state_rec",
        "level_bound_below_start", "level_bound_negative", "level_bound_4",
        "ipa_align", "ipa_align_l1", "ipa_bound",
        "level_bound+ipa_bound",
    ];

    [Theory]
    [MemberData(nameof(Failures))]
    public void RttReadEntry_WhenConditionFails_ReturnsErrorInputAndChangesNothing(string condition)
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm(Sl1Params());
        host.CreateRtts(realm, Ipa, 3);
        ulong rd = realm.Rd;
        ulong ipa = Ipa;
        long level = 3;
        switch (condition)
        {
            case "rd_align": rd += 8; break;
            case "rd_bound": rd = OutsidePool; break;
            case "rd_state": rd = realm.Params.RttBase + RmmTestHost.GranuleSize; break; // the second root RTT
            case "rd_state_rec": rd = host.CreateRec(realm); break;
            case "level_bound_below_start": level = 0; ipa = 0; break;
            case "level_bound_negative": level = -1; ipa = 0; break;
            case "level_bound_4": level = 4; break;
            case "ipa_align": ipa += 0x800; break;
            case "ipa_align_l1": level = 1; ipa += L2Span; break;
            case "ipa_bound": level = 1; ipa = 1UL << 40; break;
            case "level_bound+ipa_bound": level = 0; ipa = 1UL << 40; break;
            default: throw new ArgumentOutOfRangeException(nameof(condition));
        }

        (ulong, int)[] probes = [(Ipa, 3), (Ipa, 2), (1UL << 39, 1)];
        string before = host.Picture(realm, [rd, realm.Rd], probes);

        SmcResult r = host.ReadEntryRaw(rd, ipa, level);

        RmmTestHost.Expect(r, RmiStatus.ErrorInput);
        Assert.Equal(before, host.Picture(realm, [rd, realm.Rd], probes));
    }

    /// <summary>Every row of the §3.19 output table (and walks that stop short of the requested level).</summary>
    public static TheoryData<string> Entries =>
    [
        "unassigned_empty", "unassigned_ram", "unassigned_destroyed",
        "assigned_empty", "assigned_ram", "assigned_destroyed",
        "unassigned_ns", "assigned_ns", "assigned_ns_block",
        "table", "table_ns", "root_entry_ns", "walk_short",
    ];

    [Theory]
    [MemberData(nameof(Entries))]
    public void RttReadEntry_ReportsEachEntryKindAsTheSpecTableSays(string kind)
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm();
        host.CreateRtts(realm, Ipa, 2);
        ulong l3 = host.Delegated();
        RmmTestHost.Expect(host.RttCreate(realm.Rd, l3, Ipa, 3), RmiStatus.Success);
        ulong nsL1 = host.Delegated();
        RmmTestHost.Expect(host.RttCreate(realm.Rd, nsL1, Ns, 1), RmiStatus.Success);
        host.CreateRtts(realm, Ns, 3);
        ulong page = Ipa + (4 * L3Span);
        ulong nsPage = Ns + (4 * L3Span);
        (ulong ipa, int level, int walk, RmiRttEntryState state, ulong desc, Ripas ripas) = kind switch
        {
            "unassigned_empty" => (page, 3, 3, RmiRttEntryState.Unassigned, 0UL, Ripas.Empty),
            "unassigned_ram" => Do(() => host.InitRipas(realm, page, page + L3Span), (page, 3, 3, RmiRttEntryState.Unassigned, 0UL, Ripas.Ram)),
            "unassigned_destroyed" => Do(
                () =>
                {
                    ulong src = host.NsGranule();
                    RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiDataCreate, realm.Rd, host.Delegated(), page, src, 0), RmiStatus.Success);
                    RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiDataDestroy, realm.Rd, page), RmiStatus.Success);
                },
                (page, 3, 3, RmiRttEntryState.Unassigned, 0UL, Ripas.Destroyed)),
            "assigned_empty" => (page, 3, 3, RmiRttEntryState.Assigned, host.AssignUnknown(realm, page), Ripas.Empty),
            "assigned_ram" => (page, 3, 3, RmiRttEntryState.Assigned, DataCreate(host, realm, page), Ripas.Ram),
            "assigned_destroyed" => (page, 3, 3, RmiRttEntryState.Assigned, AssignDestroyed(host, realm, page), Ripas.Destroyed),
            "unassigned_ns" => (nsPage, 3, 3, RmiRttEntryState.Unassigned, 0UL, Ripas.Empty),
            "assigned_ns" => Do(
                () => RmmTestHost.Expect(host.MapNs(realm.Rd, nsPage, 3, 0x9000_0000 | NsAttrs), RmiStatus.Success),
                (nsPage, 3, 3, RmiRttEntryState.Assigned, 0x9000_0000 | NsAttrs, Ripas.Empty)),
            "assigned_ns_block" => Do(
                () => RmmTestHost.Expect(host.MapNs(realm.Rd, Ns + L2Span, 2, 0x4060_0000 | NsAttrs), RmiStatus.Success),
                (Ns + L2Span + (5 * L3Span), 3, 2, RmiRttEntryState.Assigned, 0x4060_0000 | NsAttrs, Ripas.Empty)),
            "table" => (Ipa, 2, 2, RmiRttEntryState.Table, l3, Ripas.Empty),
            "table_ns" => (Ns, 0, 0, RmiRttEntryState.Table, nsL1, Ripas.Empty),
            "root_entry_ns" => (Ns + (1UL << 39), 0, 0, RmiRttEntryState.Unassigned, 0UL, Ripas.Empty),
            "walk_short" => (2 * L1Span, 3, 1, RmiRttEntryState.Unassigned, 0UL, Ripas.Empty),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };

        SmcResult r = host.ReadEntryRaw(realm.Rd, ipa, level);

        RmmTestHost.Expect(r, RmiStatus.Success);
        Assert.Equal(((ulong)walk, (ulong)state, desc, (ulong)ripas), (r.X1, r.X2, r.X3, r.X4));
        if (state == RmiRttEntryState.Table)
        {
            Assert.Equal(Granules.GranuleState.Rtt, host.StateOf(desc));
        }
    }

    [Fact]
    public void RttReadEntry_InRealmWithConcatenatedRoots_WalksFromTheRootCoveringTheIpa()
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm(Sl1Params());
        ulong nsIpa = (1UL << 39) + (3 * L1Span);
        ulong rtt = host.Delegated();
        RmmTestHost.Expect(host.RttCreate(realm.Rd, rtt, nsIpa, 2), RmiStatus.Success);

        host.AssertEntry(realm, nsIpa, 1, 1, RmiRttEntryState.Table, rtt, Ripas.Empty);
        host.AssertEntry(realm, nsIpa + L2Span, 3, 2, RmiRttEntryState.Unassigned, 0, Ripas.Empty);
        host.AssertEntry(realm, 3 * L1Span, 1, 1, RmiRttEntryState.Unassigned, 0, Ripas.Empty);
        host.AssertEntry(realm, (1UL << 40) - L1Span, 3, 1, RmiRttEntryState.Unassigned, 0, Ripas.Empty);

        // The start level is not a valid RTT level to create, and the L1 root entry can hold an unprotected block.
        RmmTestHost.Expect(host.RttCreate(realm.Rd, host.Delegated(), 0, 1), RmiStatus.ErrorInput);
        RmmTestHost.Expect(host.MapNs(realm.Rd, nsIpa + L1Span, 1, (5 * L1Span) | NsAttrs), RmiStatus.Success);
        host.AssertEntry(realm, nsIpa + L1Span, 1, 1, RmiRttEntryState.Assigned, (5 * L1Span) | NsAttrs, Ripas.Empty);
    }

    private static T Do<T>(Action setUp, T expected)
    {
        setUp();
        return expected;
    }

    private static ulong DataCreate(RmmTestHost host, RealmHandle realm, ulong ipa)
    {
        ulong data = host.Delegated();
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiDataCreate, realm.Rd, data, ipa, host.NsGranule(), 0), RmiStatus.Success);
        return data;
    }

    /// <summary>ASSIGNED DESTROYED: DATA_CREATE_UNKNOWN on an UNASSIGNED DESTROYED entry (spec: x3 = PA; TF-RMM rel0 gave 0).</summary>
    private static ulong AssignDestroyed(RmmTestHost host, RealmHandle realm, ulong ipa)
    {
        DataCreate(host, realm, ipa);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiDataDestroy, realm.Rd, ipa), RmiStatus.Success);
        return host.AssignUnknown(realm, ipa);
    }
}
