using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rtt;
using CcaSim.Rmm.Tests.Infrastructure;
using static CcaSim.Rmm.Tests.Infrastructure.RttGroupHelpers;

namespace CcaSim.Rmm.Tests.Rmi;

/// <summary>RMI_RTT_MAP_UNPROTECTED (rmm-1.0.md §3.17).</summary>
public sealed class RmiRttMapUnprotectedTests
{
    /// <summary>L1 at 2^47, L2 and L3 at 2^47 + 1 GiB exist; the valid call maps page 3 of that L3 table.</summary>
    private const ulong Base = Ns + L1Span;

    private const ulong Ipa = Base + (3 * L3Span);

    private const ulong Desc = 0x9000_0000 | NsAttrs;

    /// <summary>A protected level-3 table exists at 1 GiB too (for ipa_bound on a protected IPA).</summary>
    private const ulong ProtectedIpa = L1Span;

    /// <summary>One row per failure condition of §3.17 in ACS order, then rows breaking two conditions.</summary>
    public static TheoryData<string, RmiStatus, int> Failures => new()
    {
        { "attr_valid_bit0", RmiStatus.ErrorInput, 0 },
        { "attr_valid_bit5", RmiStatus.ErrorInput, 0 },
        { "attr_valid_af_bit10", RmiStatus.ErrorInput, 0 },
        { "attr_valid_bit63", RmiStatus.ErrorInput, 0 },
        { "attr_valid_memattr_0b100", RmiStatus.ErrorInput, 0 },
        { "attr_valid_oa_misaligned_l2", RmiStatus.ErrorInput, 0 },
        { "attr_valid_oa_misaligned_l1", RmiStatus.ErrorInput, 0 },
        { "rd_align", RmiStatus.ErrorInput, 0 },
        { "rd_bound", RmiStatus.ErrorInput, 0 },
        { "rd_state", RmiStatus.ErrorInput, 0 },
        { "level_bound_0", RmiStatus.ErrorInput, 0 },
        { "level_bound_4", RmiStatus.ErrorInput, 0 },
        { "level_bound_negative", RmiStatus.ErrorInput, 0 },
        { "addr_bound", RmiStatus.ErrorInput, 0 },
        { "ipa_align", RmiStatus.ErrorInput, 0 },
        { "ipa_align_l2", RmiStatus.ErrorInput, 0 },
        { "ipa_bound_protected", RmiStatus.ErrorInput, 0 },
        { "ipa_bound_size", RmiStatus.ErrorInput, 0 },
        { "rtt_walk", RmiStatus.ErrorRtt, 1 },
        { "rtt_walk_root", RmiStatus.ErrorRtt, 0 },
        { "rtte_state_assigned_ns", RmiStatus.ErrorRtt, 3 },
        { "rtte_state_table", RmiStatus.ErrorRtt, 2 },

        // Two broken conditions: the earlier one in the list wins.
        { "attr_valid+rtt_walk", RmiStatus.ErrorInput, 0 },
        { "addr_bound+rtte_state", RmiStatus.ErrorInput, 0 },
        { "ipa_bound+rtte_state", RmiStatus.ErrorInput, 0 },
        { "ipa_align+rtt_walk", RmiStatus.ErrorInput, 0 },
        { "level_bound+rtte_state", RmiStatus.ErrorInput, 0 },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void RttMapUnprotected_WhenConditionFails_ReturnsItsErrorAndChangesNothing(string condition, RmiStatus status, int index)
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm();
        host.CreateRtts(realm, Base, 3);
        host.CreateRtts(realm, ProtectedIpa, 3);
        ulong rd = realm.Rd;
        ulong ipa = Ipa;
        long level = 3;
        ulong desc = Desc;
        switch (condition)
        {
            case "attr_valid_bit0": desc |= 1; break;
            case "attr_valid_bit5": desc |= 1UL << 5; break;
            case "attr_valid_af_bit10": desc |= 1UL << 10; break;
            case "attr_valid_bit63": desc |= 1UL << 63; break;
            case "attr_valid_memattr_0b100": desc = (desc & ~(0b111UL << 2)) | (0b100UL << 2); break;
            case "attr_valid_oa_misaligned_l2": level = 2; ipa = Base + L2Span; desc = (0x4060_0000 + L3Span) | NsAttrs; break;
            case "attr_valid_oa_misaligned_l1": level = 1; ipa = Ns + (3 * L1Span); desc = (0x1_4000_0000 + L2Span) | NsAttrs; break;
            case "rd_align": rd += 8; break;
            case "rd_bound": rd = OutsidePool; break;
            case "rd_state": rd = realm.Params.RttBase; break;
            case "level_bound_0": level = 0; ipa = Ns + (3UL << 39); desc = NsAttrs; break;
            case "level_bound_4": level = 4; break;
            case "level_bound_negative": level = -1; break;
            case "addr_bound": desc |= 1UL << 48; break;
            case "ipa_align": ipa += 0x800; break;
            case "ipa_align_l2": level = 2; ipa = Base + L2Span + L3Span; desc = 0x4060_0000 | NsAttrs; break;
            case "ipa_bound_protected": ipa = ProtectedIpa + (3 * L3Span); break;
            case "ipa_bound_size": ipa = 1UL << 48; break;
            case "rtt_walk": ipa = Ns + (2 * L1Span); break;
            case "rtt_walk_root": ipa = Ns + (1UL << 40); break;
            case "rtte_state_assigned_ns": RmmTestHost.Expect(host.MapNs(rd, Ipa, 3, 0x8800_0000 | NsAttrs), RmiStatus.Success); break;
            case "rtte_state_table": level = 2; ipa = Base; desc = 0x4060_0000 | NsAttrs; break;
            case "attr_valid+rtt_walk": ipa = Ns + (2 * L1Span); desc |= 1UL << 10; break;
            case "addr_bound+rtte_state":
                RmmTestHost.Expect(host.MapNs(rd, Ipa, 3, 0x8800_0000 | NsAttrs), RmiStatus.Success);
                desc |= 1UL << 48;
                break;
            case "ipa_bound+rtte_state": ipa = ProtectedIpa; level = 2; desc = 0x4060_0000 | NsAttrs; break; // protected and a TABLE
            case "ipa_align+rtt_walk": ipa = Ns + (2 * L1Span) + 0x800; break;
            case "level_bound+rtte_state": level = 0; ipa = Ns; desc = NsAttrs; break; // root entry 256 is a TABLE
            default: throw new ArgumentOutOfRangeException(nameof(condition));
        }

        ulong[] granules = [rd, realm.Rd];
        (ulong, int)[] probes = [(Ipa, 3), (Base + L2Span, 2), (Ns + (3 * L1Span), 1), (Ns + (2 * L1Span), 3), (ProtectedIpa + (3 * L3Span), 3), (ProtectedIpa, 2), (Base, 2)];
        string before = host.Picture(realm, granules, probes);

        RmmTestHost.Expect(host.MapNs(rd, ipa, level, desc), status, index);

        Assert.Equal(before, host.Picture(realm, granules, probes));
    }

    public static TheoryData<int, ulong, ulong, ulong> Mappings => new()
    {
        { 3, Base + (5 * L3Span), 0x1234_5000, NsAttrs },
        { 3, Base + (511 * L3Span), 0xFFFF_FFFF_F000, 0 },
        { 2, Base + L2Span, 0x4060_0000, (0b001UL << 2) | (0b01UL << 6) },
        { 1, Ns + (3 * L1Span), 0x1_4000_0000, (0b111UL << 2) | (0b10UL << 6) },
    };

    [Theory]
    [MemberData(nameof(Mappings))]
    public void RttMapUnprotected_WhenValid_MakesEntryAssignedNsWithHostDescriptor(int level, ulong ipa, ulong oa, ulong attrs)
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm();
        host.CreateRtts(realm, Base, 3);
        ulong span = RmmTestHost.Span(level);

        RmmTestHost.Expect(host.MapNs(realm.Rd, ipa, level, oa | attrs), RmiStatus.Success);

        host.AssertEntry(realm, ipa, level, level, RmiRttEntryState.Assigned, oa | attrs, Ripas.Empty);
        ulong neighbour = (ipa / span % 512) == 511 ? ipa - span : ipa + span;
        host.AssertEntry(realm, neighbour, level, level, RmiRttEntryState.Unassigned, 0, Ripas.Empty);

        // The mapping is live: mapping it again is refused at its level.
        RmmTestHost.Expect(host.MapNs(realm.Rd, ipa, level, oa | attrs), RmiStatus.ErrorRtt, level);
    }

    /// <summary>
    /// §3.17: level_bound is 1..3 whatever the start level, so level 1 in a realm starting at level 2 is no
    /// ERROR_INPUT; the walk cannot reach level 1 and stops at the root, level 2 (TF-RMM behaves the same).
    /// </summary>
    [Fact]
    public void RttMapUnprotected_AtLevelAboveStartLevel_ReturnsErrorRttAtStartLevel()
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm(new RealmParams { S2sz = 32, RttLevelStart = 2, RttNumStart = 4 });
        const ulong NsHalf = 1UL << 31;

        RmmTestHost.Expect(host.MapNs(realm.Rd, NsHalf, 1, L1Span | NsAttrs), RmiStatus.ErrorRtt, 2);
        SmcResult u = host.UnmapNs(realm.Rd, NsHalf, 1);
        RmmTestHost.Expect(u, RmiStatus.ErrorRtt, 2);
        Assert.Equal(NsHalf + (512 * L2Span), u.X1);

        host.AssertEntry(realm, NsHalf, 2, 2, RmiRttEntryState.Unassigned, 0, Ripas.Empty);
        RmmTestHost.Expect(host.MapNs(realm.Rd, NsHalf, 2, L2Span | NsAttrs), RmiStatus.Success);
    }

    /// <summary>§3.17 host descriptor: with LPA2, bits [49:48] and [9:8] carry OA[49:48] and OA[51:50]; without it they are invalid.</summary>
    [Fact]
    public void RttMapUnprotected_WithLpa2_AcceptsHighOaBitsAndReadsThemBack()
    {
        var host = new RmmTestHost();
        RealmHandle plain = host.CreateRealm(new RealmParams { Vmid = 1 });
        RealmHandle lpa2 = host.CreateRealm(new RealmParams { Vmid = 2, Flags = RealmParamsLayout.FlagLpa2 });
        host.CreateRtts(plain, Base, 3);
        host.CreateRtts(lpa2, Base, 3);
        ulong desc = (1UL << 49) | (0b01UL << 8) | 0x9000_0000 | NsAttrs;

        RmmTestHost.Expect(host.MapNs(plain.Rd, Ipa, 3, desc), RmiStatus.ErrorInput);
        RmmTestHost.Expect(host.MapNs(plain.Rd, Ipa, 3, (0b01UL << 8) | 0x9000_0000 | NsAttrs), RmiStatus.ErrorInput);
        RmmTestHost.Expect(host.MapNs(lpa2.Rd, Ipa, 3, desc), RmiStatus.Success);

        host.AssertEntry(lpa2, Ipa, 3, 3, RmiRttEntryState.Assigned, desc, Ripas.Empty);
        host.AssertEntry(plain, Ipa, 3, 3, RmiRttEntryState.Unassigned, 0, Ripas.Empty);
    }
}
