using CcaSim.Rmm.Granules;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rtt;
using CcaSim.Rmm.Tests.Infrastructure;
using static CcaSim.Rmm.Tests.Infrastructure.RttGroupHelpers;

namespace CcaSim.Rmm.Tests.Rmi;

/// <summary>RMI_RTT_FOLD (rmm-1.0.md §3.16): x1 = the folded RTT's PA.</summary>
public sealed class RmiRttFoldTests
{
    /// <summary>The valid call folds the level-3 table at 1 GiB (512 UNASSIGNED EMPTY entries).</summary>
    private const ulong Ipa = L1Span;

    /// <summary>An unprotected level-3 table of UNASSIGNED_NS entries.</summary>
    private const ulong NsIpa = Ns + L1Span;

    private const ulong NsOa = 0x1_0000_0000;

    /// <summary>One row per failure condition of §3.16 in ACS order, rtte_homo broken every way, then two-condition rows.</summary>
    public static TheoryData<string, RmiStatus, int> Failures => new()
    {
        { "rd_align", RmiStatus.ErrorInput, 0 },
        { "rd_bound", RmiStatus.ErrorInput, 0 },
        { "rd_state", RmiStatus.ErrorInput, 0 },
        { "level_bound_start", RmiStatus.ErrorInput, 0 },
        { "level_bound_4", RmiStatus.ErrorInput, 0 },
        { "level_bound_negative", RmiStatus.ErrorInput, 0 },
        { "ipa_align", RmiStatus.ErrorInput, 0 },
        { "ipa_bound", RmiStatus.ErrorInput, 0 },
        { "rtt_walk", RmiStatus.ErrorRtt, 1 },
        { "rtte_state", RmiStatus.ErrorRtt, 2 },
        { "rtte_homo_mixed_ripas", RmiStatus.ErrorRtt, 3 },
        { "rtte_homo_mixed_states", RmiStatus.ErrorRtt, 3 },
        { "rtte_homo_assigned_mixed_ripas", RmiStatus.ErrorRtt, 3 },
        { "rtte_homo_assigned_noncontiguous", RmiStatus.ErrorRtt, 3 },
        { "rtte_homo_assigned_misaligned", RmiStatus.ErrorRtt, 3 },
        { "rtte_homo_ns_attrs_differ", RmiStatus.ErrorRtt, 3 },
        { "rtte_homo_ns_misaligned", RmiStatus.ErrorRtt, 3 },
        { "rtte_homo_ns_mixed_states", RmiStatus.ErrorRtt, 3 },

        // Two broken conditions: the earlier one in the list wins.
        { "level_bound+rtt_walk", RmiStatus.ErrorInput, 0 },
        { "level_bound+rtte_state", RmiStatus.ErrorInput, 0 },
        { "ipa_align+rtt_walk", RmiStatus.ErrorInput, 0 },
        { "ipa_align+rtte_homo", RmiStatus.ErrorInput, 0 },
        { "rd_state+rtte_homo", RmiStatus.ErrorInput, 0 },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void RttFold_WhenConditionFails_ReturnsItsErrorAndChangesNothing(string condition, RmiStatus status, int index)
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
            case "rtte_state": ipa += L2Span; break;
            case "rtte_homo_mixed_ripas": host.InitRipas(realm, Ipa, Ipa + L3Span); break;
            case "rtte_homo_mixed_states": host.AssignUnknown(realm, Ipa + (5 * L3Span)); break;
            case "rtte_homo_assigned_mixed_ripas":
                host.InitRipas(realm, Ipa, Ipa + L3Span);
                host.AssignL3(realm, Ipa, host.DelegatedRun(512, L2Span));
                break;
            case "rtte_homo_assigned_noncontiguous":
                host.AssignL3(realm, Ipa, host.DelegatedRun(512, L2Span), i => i switch { 1 => 2, 2 => 1, _ => i });
                break;
            case "rtte_homo_assigned_misaligned":
                host.AssignL3(realm, Ipa, host.DelegatedRun(513, L2Span) + L3Span);
                break;
            case "rtte_homo_ns_attrs_differ":
                host.MapAllNs(realm, NsIpa, 3, NsOa, NsAttrs, i => i == 7 ? NsAttrs & ~(1UL << 7) : NsAttrs);
                ipa = NsIpa;
                break;
            case "rtte_homo_ns_misaligned":
                host.MapAllNs(realm, NsIpa, 3, NsOa + L3Span, NsAttrs);
                ipa = NsIpa;
                break;
            case "rtte_homo_ns_mixed_states":
                host.MapAllNs(realm, NsIpa, 3, NsOa, NsAttrs);
                RmmTestHost.Expect(host.UnmapNs(rd, NsIpa + (511 * L3Span), 3), RmiStatus.Success);
                ipa = NsIpa;
                break;
            case "level_bound+rtt_walk": level = 4; ipa = 2 * L1Span; break;
            case "level_bound+rtte_state": level = 4; break;
            case "ipa_align+rtt_walk": ipa = (2 * L1Span) + L3Span; break;
            case "ipa_align+rtte_homo": host.InitRipas(realm, Ipa, Ipa + L3Span); ipa += L3Span; break;
            case "rd_state+rtte_homo": host.InitRipas(realm, Ipa, Ipa + L3Span); rd = host.Delegated(); break;
            default: throw new ArgumentOutOfRangeException(nameof(condition));
        }

        ulong nsL3 = host.ReadEntry(realm, NsIpa, 2).Desc;
        ulong[] granules = [rd, realm.Rd, l3, nsL3];
        (ulong, int)[] probes = [(Ipa, 2), (Ipa, 3), (Ipa + L3Span, 3), (Ipa + (2 * L3Span), 3), (Ipa + (5 * L3Span), 3), (NsIpa, 2), (NsIpa, 3), (NsIpa + (7 * L3Span), 3), (NsIpa + (511 * L3Span), 3), (2 * L1Span, 2)];
        string before = host.Picture(realm, granules, probes);

        SmcResult r = host.RttFold(rd, ipa, level);

        RmmTestHost.Expect(r, status, index);
        Assert.Equal(before, host.Picture(realm, granules, probes));
    }

    [Theory]
    [InlineData(Ripas.Empty)]
    [InlineData(Ripas.Ram)]
    [InlineData(Ripas.Destroyed)]
    public void RttFold_OfUnassignedTableWithOneRipas_MakesParentUnassignedWithThatRipas(Ripas ripas)
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm();
        host.PrepareUnassignedL3(realm, Ipa, ripas);
        ulong l3 = host.ReadEntry(realm, Ipa, 2).Desc;

        SmcResult r = host.RttFold(realm.Rd, Ipa, 3);

        RmmTestHost.Expect(r, RmiStatus.Success);
        Assert.Equal(l3, r.X1);
        Assert.Equal(GranuleState.Delegated, host.StateOf(l3));
        host.AssertEntry(realm, Ipa, 3, 2, RmiRttEntryState.Unassigned, 0, ripas);
    }

    [Fact]
    public void RttFold_OfUnassignedTables_WorksAtEveryLevel()
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm();
        host.CreateRtts(realm, 0, 3);
        for (int level = 3; level >= 1; level--)
        {
            ulong table = host.ReadEntry(realm, 0, level - 1).Desc;

            SmcResult r = host.RttFold(realm.Rd, 0, level);

            RmmTestHost.Expect(r, RmiStatus.Success);
            Assert.Equal(table, r.X1);
            host.AssertEntry(realm, 0, 3, level - 1, RmiRttEntryState.Unassigned, 0, Ripas.Empty);
        }
    }

    [Fact]
    public void RttFold_OfUnassignedNsTable_MakesParentUnassignedNs()
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm();
        host.CreateRtts(realm, NsIpa, 3);
        ulong l3 = host.ReadEntry(realm, NsIpa, 2).Desc;

        SmcResult r = host.RttFold(realm.Rd, NsIpa, 3);

        RmmTestHost.Expect(r, RmiStatus.Success);
        Assert.Equal(l3, r.X1);
        host.AssertEntry(realm, NsIpa, 3, 2, RmiRttEntryState.Unassigned, 0, Ripas.Empty);
        RmmTestHost.Expect(host.MapNs(realm.Rd, NsIpa, 2, NsOa | NsAttrs), RmiStatus.Success);
    }

    [Theory]
    [InlineData(Ripas.Empty)]
    [InlineData(Ripas.Ram)]
    [InlineData(Ripas.Destroyed)]
    public void RttFold_OfContiguousAlignedPages_MakesAssignedBlockReadableAtLevel2(Ripas ripas)
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm();
        ulong dataBase = host.AssignedL3(realm, Ipa, ripas);
        ulong l3 = host.ReadEntry(realm, Ipa, 2).Desc;

        SmcResult r = host.RttFold(realm.Rd, Ipa, 3);

        RmmTestHost.Expect(r, RmiStatus.Success);
        Assert.Equal(l3, r.X1);
        Assert.Equal(GranuleState.Delegated, host.StateOf(l3));
        host.AssertEntry(realm, Ipa, 2, 2, RmiRttEntryState.Assigned, dataBase, ripas);
        host.AssertEntry(realm, Ipa + (9 * L3Span), 3, 2, RmiRttEntryState.Assigned, dataBase, ripas);
        Assert.Equal(GranuleState.Data, host.StateOf(dataBase + (511 * L3Span)));

        // The block is no page: DATA_DESTROY walks to level 2 only; the parent table is live.
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiDataDestroy, realm.Rd, Ipa), RmiStatus.ErrorRtt, 2);
        RmmTestHost.Expect(host.RttDestroy(realm.Rd, Ipa, 2), RmiStatus.ErrorRtt, 2);
    }

    [Fact]
    public void RttFold_OfIdenticalNsMappings_MakesAssignedNsBlock()
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm();
        host.CreateRtts(realm, NsIpa, 3);
        host.MapAllNs(realm, NsIpa, 3, NsOa, NsAttrs);
        ulong l3 = host.ReadEntry(realm, NsIpa, 2).Desc;

        SmcResult r = host.RttFold(realm.Rd, NsIpa, 3);

        RmmTestHost.Expect(r, RmiStatus.Success);
        Assert.Equal(l3, r.X1);
        host.AssertEntry(realm, NsIpa, 2, 2, RmiRttEntryState.Assigned, NsOa | NsAttrs, Ripas.Empty);
        SmcResult u = host.UnmapNs(realm.Rd, NsIpa, 2);
        RmmTestHost.Expect(u, RmiStatus.Success);
        Assert.Equal(NsIpa + L1Span, u.X1);
    }

    /// <summary>
    /// A fold of a level-1 table of blocks would create a level-0 block: refused with ERROR_RTT(level − 1).
    /// A protected level-1 table of ASSIGNED 1 GiB blocks needs 512 GiB of DATA granules, so this uses the
    /// unprotected equivalent (512 ASSIGNED_NS 1 GiB mappings), which the same rule covers.
    /// </summary>
    [Fact]
    public void RttFold_OfAssignedLevel1Table_ReturnsErrorRttAtLevel0()
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm();
        host.CreateRtts(realm, Ns, 1);
        host.MapAllNs(realm, Ns, 1, 0, NsAttrs);
        ulong l1 = host.ReadEntry(realm, Ns, 0).Desc;
        (ulong, int)[] probes = [(Ns, 0), (Ns, 1), (Ns + (511 * L1Span), 1)];
        string before = host.Picture(realm, [l1], probes);

        RmmTestHost.Expect(host.RttFold(realm.Rd, Ns, 1), RmiStatus.ErrorRtt, 0);

        Assert.Equal(before, host.Picture(realm, [l1], probes));
        Assert.Equal(GranuleState.Rtt, host.StateOf(l1));
    }

    /// <summary>
    /// A level-1 table whose 512 entries are all TABLE is not homogeneous (rtte_homo): ERROR_RTT(level) as the spec
    /// says. TF-RMM rel0 answers ERROR_RTT(level − 1) here, because it tests "512 references and level ≤ 1" (its
    /// level-0-block guard) before it looks at the entries; docs/FIDELITY.md lists the case.
    /// </summary>
    [Fact]
    public void RttFold_OfLevel1TableHoldingOnlyTables_ReturnsErrorRttAtItsOwnLevel()
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm();
        host.CreateRtts(realm, 0, 1);
        for (int i = 0; i < 512; i++)
        {
            RmmTestHost.Expect(host.RttCreate(realm.Rd, host.Delegated(), (ulong)i * L1Span, 2), RmiStatus.Success);
        }

        ulong l1 = host.ReadEntry(realm, 0, 0).Desc;
        (ulong, int)[] probes = [(0, 0), (0, 1), (511 * L1Span, 1), (511 * L1Span, 2)];
        string before = host.Picture(realm, [l1], probes);

        SmcResult r = host.RttFold(realm.Rd, 0, 1);

        RmmTestHost.Expect(r, RmiStatus.ErrorRtt, 1);
        Assert.Equal(0UL, r.X1);
        Assert.Equal(before, host.Picture(realm, [l1], probes));
    }
}
