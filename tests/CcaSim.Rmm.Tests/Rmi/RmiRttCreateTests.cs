using CcaSim.Platform;
using CcaSim.Rmm.Granules;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rtt;
using CcaSim.Rmm.Tests.Infrastructure;
using static CcaSim.Rmm.Tests.Infrastructure.RttGroupHelpers;

namespace CcaSim.Rmm.Tests.Rmi;

/// <summary>RMI_RTT_CREATE (rmm-1.0.md §3.14).</summary>
public sealed class RmiRttCreateTests
{
    /// <summary>The IPA the valid call creates a level-3 table at: L1 (root entry 0) and L2 (L1 entry 1) exist, L3 does not.</summary>
    private const ulong Ipa = L1Span;

    /// <summary>One row per failure condition of §3.14 in ACS order, then rows breaking two conditions.</summary>
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
        { "rtt_align", RmiStatus.ErrorInput, 0 },
        { "rtt_bound", RmiStatus.ErrorInput, 0 },
        { "rtt_state_undelegated", RmiStatus.ErrorInput, 0 },
        { "rtt_state_rtt", RmiStatus.ErrorInput, 0 },
        { "rtt_state_rd", RmiStatus.ErrorInput, 0 },
        { "rtt_walk", RmiStatus.ErrorRtt, 1 },
        { "rtt_walk_root", RmiStatus.ErrorRtt, 0 },
        { "rtte_state", RmiStatus.ErrorRtt, 2 },
        { "rtte_state_worked_example", RmiStatus.ErrorRtt, 1 },

        // Two broken conditions: the earlier one in the list wins.
        { "ipa_align+rtt_walk", RmiStatus.ErrorInput, 0 },
        { "ipa_bound+rtt_walk", RmiStatus.ErrorInput, 0 },
        { "level_bound+rtte_state", RmiStatus.ErrorInput, 0 },
        { "rtt_state+rtt_walk", RmiStatus.ErrorInput, 0 },
        { "rtt_state+rtte_state", RmiStatus.ErrorInput, 0 },
        { "rd_state+rtte_state", RmiStatus.ErrorInput, 0 },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void RttCreate_WhenConditionFails_ReturnsItsErrorAndChangesNothing(string condition, RmiStatus status, int index)
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm();
        host.CreateRtts(realm, Ipa, 2);
        ulong rd = realm.Rd;
        ulong rtt = host.Delegated();
        ulong ipa = Ipa;
        long level = 3;
        switch (condition)
        {
            case "rd_align": rd += 8; break;
            case "rd_bound": rd = OutsidePool; break;
            case "rd_state": rd = host.Delegated(); break;
            case "level_bound_start": level = 0; ipa = 0; break;
            case "level_bound_4": level = 4; break;
            case "level_bound_negative": level = -1; ipa = 0; break;
            case "ipa_align": ipa += L3Span; break;
            case "ipa_bound": ipa = 1UL << 48; break;
            case "rtt_align": rtt += 8; break;
            case "rtt_bound": rtt = OutsidePool; break;
            case "rtt_state_undelegated": rtt = host.NsGranule(); break;
            case "rtt_state_rtt": rtt = realm.Params.RttBase; break;
            case "rtt_state_rd": rtt = realm.Rd; break;
            case "rtt_walk": ipa = 2 * L1Span; break; // no L2 table there: the walk stops at L1
            case "rtt_walk_root": ipa = 1UL << 40; break; // no L1 table there: the walk stops at the root
            case "rtte_state": host.CreateRtts(realm, Ipa, 3); break;
            case "rtte_state_worked_example": level = 2; break; // L1 entry 1 is already a TABLE
            case "ipa_align+rtt_walk": ipa = (2 * L1Span) + L3Span; break;
            case "ipa_bound+rtt_walk": ipa = (1UL << 48) + L1Span; break;
            case "level_bound+rtte_state": host.CreateRtts(realm, Ipa, 3); level = 4; break; // the level-3 entry is no TABLE either
            case "rtt_state+rtt_walk": rtt = host.NsGranule(); ipa = 2 * L1Span; break;
            case "rtt_state+rtte_state": host.CreateRtts(realm, Ipa, 3); rtt = realm.Params.RttBase; break;
            case "rd_state+rtte_state": host.CreateRtts(realm, Ipa, 3); rd = rtt; break;
            default: throw new ArgumentOutOfRangeException(nameof(condition));
        }

        ulong[] granules = [rtt, rd, realm.Rd, realm.Params.RttBase];
        (ulong, int)[] probes = [(Ipa, 3), (Ipa, 2), (2 * L1Span, 2), (0, 1), (Ns, 1)];
        string before = host.Picture(realm, granules, probes);

        SmcResult r = host.RttCreate(rd, rtt, ipa, level);

        RmmTestHost.Expect(r, status, index);
        Assert.Equal(before, host.Picture(realm, granules, probes));
        if (condition == "rtte_state_worked_example")
        {
            Assert.Equal(0x104UL, r.X0);
        }
    }

    [Fact]
    public void RttCreate_WhenRttAbove48BitsWithoutLpa2_ReturnsErrorInput_AndSucceedsWithLpa2()
    {
        // A pool straddling 2^48: the realms' own granules lie below it, the candidate RTTs above.
        const ulong Base = (1UL << 48) - (8UL << 20);
        var host = new RmmTestHost(platform: new PlatformOptions { MemoryBase = Base, MemorySize = RmmTestHost.PoolSize });
        RealmHandle plain = host.CreateRealm();
        RealmHandle lpa2 = host.CreateRealm(new RealmParams { Flags = RealmParamsLayout.FlagLpa2, Vmid = 1 });
        ulong high = host.G(2048);
        Assert.Equal(1UL << 48, high);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiGranuleDelegate, high), RmiStatus.Success);

        RmmTestHost.Expect(host.RttCreate(plain.Rd, high, 0, 1), RmiStatus.ErrorInput);
        Assert.Equal(GranuleState.Delegated, host.StateOf(high));
        host.AssertEntry(plain, 0, 0, 0, RmiRttEntryState.Unassigned, 0, Ripas.Empty);

        RmmTestHost.Expect(host.RttCreate(lpa2.Rd, high, 0, 1), RmiStatus.Success);
        Assert.Equal(GranuleState.Rtt, host.StateOf(high));
        host.AssertEntry(lpa2, 0, 0, 0, RmiRttEntryState.Table, high, Ripas.Empty);
    }

    [Theory]
    [InlineData(Ripas.Empty)]
    [InlineData(Ripas.Ram)]
    [InlineData(Ripas.Destroyed)]
    public void RttCreate_UnderUnassignedEntry_MakesParentTableAndChildrenInheritRipas(Ripas ripas)
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm();
        host.CreateRtts(realm, Ipa, 2);
        if (ripas == Ripas.Ram)
        {
            host.InitRipas(realm, Ipa, Ipa + L2Span); // one level-2 entry
        }
        else if (ripas == Ripas.Destroyed)
        {
            host.CreateRtts(realm, Ipa, 3);
            RmmTestHost.Expect(host.RttDestroy(realm.Rd, Ipa, 3), RmiStatus.Success);
        }

        host.AssertEntry(realm, Ipa, 3, 2, RmiRttEntryState.Unassigned, 0, ripas);
        ulong rtt = host.Delegated();

        RmmTestHost.Expect(host.RttCreate(realm.Rd, rtt, Ipa, 3), RmiStatus.Success);

        Assert.Equal(GranuleState.Rtt, host.StateOf(rtt));
        host.AssertEntry(realm, Ipa, 2, 2, RmiRttEntryState.Table, rtt, Ripas.Empty);
        for (int i = 0; i < 512; i++)
        {
            host.AssertEntry(realm, Ipa + ((ulong)i * L3Span), 3, 3, RmiRttEntryState.Unassigned, 0, ripas);
        }

        host.AssertEntry(realm, Ipa + L2Span, 3, 2, RmiRttEntryState.Unassigned, 0, Ripas.Empty);
    }

    [Fact]
    public void RttCreate_InUnprotectedHalf_BuildsTablesOfUnassignedNsEntriesAtEveryLevel()
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm();
        ulong ipa = Ns + L1Span + L2Span;
        for (int level = 1; level <= 3; level++)
        {
            ulong aligned = ipa & ~(RmmTestHost.Span(level - 1) - 1);
            ulong rtt = host.Delegated();

            RmmTestHost.Expect(host.RttCreate(realm.Rd, rtt, aligned, level), RmiStatus.Success);

            Assert.Equal(GranuleState.Rtt, host.StateOf(rtt));
            host.AssertEntry(realm, aligned, level - 1, level - 1, RmiRttEntryState.Table, rtt, Ripas.Empty);
            foreach (int i in new[] { 0, 1, 511 })
            {
                host.AssertEntry(realm, aligned + ((ulong)i * RmmTestHost.Span(level)), level, level, RmiRttEntryState.Unassigned, 0, Ripas.Empty);
            }
        }

        // The children really are UNASSIGNED_NS: an unprotected mapping is accepted at level 3.
        RmmTestHost.Expect(host.MapNs(realm.Rd, ipa, 3, 0x9000_0000 | NsAttrs), RmiStatus.Success);
    }

    [Theory]
    [InlineData(Ripas.Empty)]
    [InlineData(Ripas.Ram)]
    [InlineData(Ripas.Destroyed)]
    public void RttCreate_UnderFoldedAssignedBlock_UnfoldsIntoConsecutivePagesWithSameRipas(Ripas ripas)
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm();
        ulong dataBase = host.AssignedL3(realm, Ipa, ripas);
        RmmTestHost.Expect(host.RttFold(realm.Rd, Ipa, 3), RmiStatus.Success);
        host.AssertEntry(realm, Ipa, 3, 2, RmiRttEntryState.Assigned, dataBase, ripas);
        ulong rtt = host.Delegated();

        RmmTestHost.Expect(host.RttCreate(realm.Rd, rtt, Ipa, 3), RmiStatus.Success);

        host.AssertEntry(realm, Ipa, 2, 2, RmiRttEntryState.Table, rtt, Ripas.Empty);
        for (int i = 0; i < 512; i++)
        {
            host.AssertEntry(realm, Ipa + ((ulong)i * L3Span), 3, 3, RmiRttEntryState.Assigned, dataBase + ((ulong)i * L3Span), ripas);
            Assert.Equal(GranuleState.Data, host.StateOf(dataBase + ((ulong)i * L3Span)));
        }

        // The unfolded pages are individually live: the table cannot be destroyed, a page can be.
        RmmTestHost.Expect(host.RttDestroy(realm.Rd, Ipa, 3), RmiStatus.ErrorRtt, 3);
        SmcResult d = host.Smc(RmiFunctionId.RmiDataDestroy, realm.Rd, Ipa + (7 * L3Span));
        RmmTestHost.Expect(d, RmiStatus.Success);
        Assert.Equal(dataBase + (7 * L3Span), d.X1);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void RttCreate_UnderAssignedNsBlock_UnfoldsIntoConsecutiveMappingsWithSameAttributes(int level)
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm();
        ulong span = RmmTestHost.Span(level);
        ulong parentSpan = RmmTestHost.Span(level - 1);
        ulong ipa = Ns + (3 * parentSpan);
        ulong oa = 5 * parentSpan;
        host.CreateRtts(realm, ipa, level - 1);
        RmmTestHost.Expect(host.MapNs(realm.Rd, ipa, level - 1, oa | NsAttrs), RmiStatus.Success);
        ulong rtt = host.Delegated();

        RmmTestHost.Expect(host.RttCreate(realm.Rd, rtt, ipa, level), RmiStatus.Success);

        host.AssertEntry(realm, ipa, level - 1, level - 1, RmiRttEntryState.Table, rtt, Ripas.Empty);
        for (int i = 0; i < 512; i++)
        {
            host.AssertEntry(realm, ipa + ((ulong)i * span), level, level, RmiRttEntryState.Assigned, (oa + ((ulong)i * span)) | NsAttrs, Ripas.Empty);
        }

        SmcResult u = host.UnmapNs(realm.Rd, ipa + span, level);
        RmmTestHost.Expect(u, RmiStatus.Success);
        Assert.Equal(ipa + (2 * span), u.X1);
    }
}
