using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rtt;
using CcaSim.Rmm.Tests.Infrastructure;
using static CcaSim.Rmm.Tests.Infrastructure.DataRipasHelpers;

namespace CcaSim.Rmm.Tests.Rmi;

/// <summary>RMI_RTT_INIT_RIPAS (rmm-1.0.md §3.20, §8.4, §11.1, §11.4).</summary>
public sealed class RmiRttInitRipasTests
{
    private const ulong Base = 0x1000;
    private const ulong Top = 0x4000;
    private const ulong BlockIpa = 2 * L2Span;

    /// <summary>
    /// One row per failure condition of §3.20 in ACS order, then rows breaking two conditions. The base state:
    /// a NEW realm with an L3 table at IPA 0 and the call (rd, 0x1000, 0x4000).
    /// </summary>
    public static TheoryData<string, RmiStatus, int> Failures => new()
    {
        { "rd_align", RmiStatus.ErrorInput, 0 },
        { "rd_bound", RmiStatus.ErrorInput, 0 },
        { "rd_state_delegated", RmiStatus.ErrorInput, 0 },
        { "rd_state_destroyed", RmiStatus.ErrorInput, 0 },
        { "size_valid_equal", RmiStatus.ErrorInput, 0 },
        { "size_valid_below", RmiStatus.ErrorInput, 0 },
        { "top_bound_unprotected", RmiStatus.ErrorInput, 0 },
        { "top_bound_ipa_size", RmiStatus.ErrorInput, 0 },
        { "top_bound_whole_region_unprotected", RmiStatus.ErrorInput, 0 },
        { "realm_state_active", RmiStatus.ErrorRealm, 0 },
        { "realm_state_system_off", RmiStatus.ErrorRealm, 0 },
        { "base_align_l3", RmiStatus.ErrorRtt, 3 },
        { "base_align_l2", RmiStatus.ErrorRtt, 2 },
        { "base_align_l1", RmiStatus.ErrorRtt, 1 },
        { "rtte_state_assigned", RmiStatus.ErrorRtt, 3 },
        { "rtte_state_assigned_block", RmiStatus.ErrorRtt, 2 },
        { "top_gran_align", RmiStatus.ErrorInput, 0 },
        { "no_progress_destroyed", RmiStatus.ErrorRtt, 3 },
        { "no_progress_l2_entry_past_top", RmiStatus.ErrorRtt, 2 },
        { "top_gran_align_beats_no_progress_l2", RmiStatus.ErrorInput, 0 },
        { "top_gran_align_beats_no_progress_destroyed", RmiStatus.ErrorInput, 0 },
        { "size_valid_beats_realm_state", RmiStatus.ErrorInput, 0 },
        { "top_bound_beats_realm_state", RmiStatus.ErrorInput, 0 },
        { "realm_state_beats_base_align", RmiStatus.ErrorRealm, 0 },
        { "realm_state_beats_rtte_state", RmiStatus.ErrorRealm, 0 },
        { "realm_state_beats_no_progress", RmiStatus.ErrorRealm, 0 },
        // The spec leaves top_gran_align and realm_state unordered: TF-RMM checks top's alignment first.
        { "top_gran_align_beats_realm_state_active", RmiStatus.ErrorInput, 0 },
        { "top_gran_align_beats_realm_state_system_off", RmiStatus.ErrorInput, 0 },
        { "top_gran_align_beats_base_align", RmiStatus.ErrorInput, 0 },
        // A base that is not 4 KiB aligned is base_align (ERROR_RTT at the walk level, after realm_state) as the spec
        // says; TF-RMM answers ERROR_INPUT for it.
        { "realm_state_beats_base_not_granule_aligned", RmiStatus.ErrorRealm, 0 },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void InitRipas_WhenConditionFails_ReturnsSpecErrorAndChangesNothing(string condition, RmiStatus status, int index)
    {
        RmmTestHost host = NewHost();
        RealmHandle realm = RealmWithL3(host);
        ulong rd = realm.Rd;
        ulong baseIpa = Base;
        ulong top = Top;
        ulong end = host.Platform.Memory.End;

        switch (condition)
        {
            case "rd_align": rd += 0x800; break;
            case "rd_bound": rd = end; break;
            case "rd_state_delegated": rd = host.Delegated(); break;
            case "rd_state_destroyed":
                RealmHandle gone = host.CreateRealm(new RealmParams { Vmid = 1 });
                RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmDestroy, gone.Rd), RmiStatus.Success);
                rd = gone.Rd;
                break;
            case "size_valid_equal": top = baseIpa; break;
            case "size_valid_below": top = baseIpa - L3Span; break;
            case "top_bound_unprotected": top = Unprotected48 + L3Span; break;
            case "top_bound_ipa_size": top = (1UL << 48) + L3Span; break;
            case "top_bound_whole_region_unprotected": baseIpa = Unprotected48; top = Unprotected48 + L3Span; break;
            case "realm_state_active": Activate(host, realm); break;
            case "realm_state_system_off": SystemOff(host, realm); break;
            case "base_align_l3": baseIpa = 0x1800; break;
            case "base_align_l2": baseIpa = L2Span + Base; top = L2Span + Top; break;
            case "base_align_l1": baseIpa = L1Span + L2Span; top = L1Span + (2 * L2Span); break;
            case "rtte_state_assigned": Assign(host, realm, Base); break;
            case "rtte_state_assigned_block": FoldAssignedBlock(host, realm, BlockIpa); baseIpa = BlockIpa; top = BlockIpa + L2Span; break;
            case "top_gran_align": top = Top - 0x800; break;
            case "no_progress_destroyed": SetUnassignedRipas(host, realm, Base, Ripas.Destroyed); break;
            case "no_progress_l2_entry_past_top": baseIpa = L2Span; top = L2Span + L3Span; break;
            case "top_gran_align_beats_no_progress_l2": baseIpa = L2Span; top = L2Span + 0x800; break;
            case "top_gran_align_beats_no_progress_destroyed": SetUnassignedRipas(host, realm, Base, Ripas.Destroyed); top = Base + 0x800; break;
            case "size_valid_beats_realm_state": Activate(host, realm); top = baseIpa; break;
            case "top_bound_beats_realm_state": Activate(host, realm); top = Unprotected48 + L3Span; break;
            case "realm_state_beats_base_align": Activate(host, realm); baseIpa = 0x1800; break;
            case "realm_state_beats_rtte_state": Assign(host, realm, Base); Activate(host, realm); break;
            case "realm_state_beats_no_progress": SetUnassignedRipas(host, realm, Base, Ripas.Destroyed); Activate(host, realm); break;
            case "top_gran_align_beats_realm_state_active": Activate(host, realm); top = Top - 0x800; break;
            case "top_gran_align_beats_realm_state_system_off": SystemOff(host, realm); top = Top - 0x800; break;
            case "top_gran_align_beats_base_align": baseIpa = 0x1800; top = Top - 0x800; break;
            case "realm_state_beats_base_not_granule_aligned": Activate(host, realm); baseIpa = Base + 0x10; break;
            default: throw new ArgumentOutOfRangeException(nameof(condition));
        }

        ulong[] ipas = [baseIpa, Base, Base + L3Span, Top - L3Span, L2Span, BlockIpa];
        Snapshot before = Take(host, [realm], [rd, realm.Rd], ipas);

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRttInitRipas, rd, baseIpa, top), status, index);

        before.AssertUnchanged(Take(host, [realm], [rd, realm.Rd], ipas));
    }

    [Fact]
    public void InitRipas_OverEmptyL3Entries_SetsRamAndMeasuresOneDescriptorPerEntry()
    {
        RmmTestHost host = NewHost();
        RealmHandle realm = RealmWithL3(host);
        byte[] rim = Rim(host, realm);

        SmcResult r = host.Smc(RmiFunctionId.RmiRttInitRipas, realm.Rd, Base, Top);

        RmmTestHost.Expect(r, RmiStatus.Success);
        Assert.Equal(Top, r.X1);
        for (ulong ipa = Base; ipa < Top; ipa += L3Span)
        {
            Assert.Equal((3, RmiRttEntryState.Unassigned, 0UL, (ulong)Ripas.Ram), host.ReadEntry(realm, ipa, 3));
        }

        Assert.Equal((ulong)Ripas.Empty, host.ReadEntry(realm, 0, 3).Ripas);
        Assert.Equal((ulong)Ripas.Empty, host.ReadEntry(realm, Top, 3).Ripas);
        Assert.Equal(RimAfterRipas(rim, (0x1000, 0x2000), (0x2000, 0x3000), (0x3000, 0x4000)), Rim(host, realm));
    }

    [Fact]
    public void InitRipas_OverL2UnassignedEntry_ProcessesItAsOneUnit()
    {
        RmmTestHost host = NewHost();
        RealmHandle realm = RealmWithL3(host);
        byte[] rim = Rim(host, realm);

        SmcResult r = host.Smc(RmiFunctionId.RmiRttInitRipas, realm.Rd, L2Span, 2 * L2Span);

        RmmTestHost.Expect(r, RmiStatus.Success);
        Assert.Equal(0x400000UL, r.X1);
        Assert.Equal((2, RmiRttEntryState.Unassigned, 0UL, (ulong)Ripas.Ram), host.ReadEntry(realm, L2Span, 3));
        Assert.Equal((ulong)Ripas.Empty, host.ReadEntry(realm, 2 * L2Span, 3).Ripas);
        Assert.Equal(RimAfterRipas(rim, (L2Span, 2 * L2Span)), Rim(host, realm));
    }

    [Theory]
    [InlineData(0x200000UL, 0x800000UL, 0x800000UL)]
    [InlineData(0x200000UL, 0x900000UL, 0x800000UL)]
    [InlineData(0x1FE000UL, 0x400000UL, 0x200000UL)]
    [InlineData(0x3FE00000UL, 0x80000000UL, 0x40000000UL)]
    [InlineData(0x7F8000000000UL, 0x800000000000UL, 0x800000000000UL)]
    public void InitRipas_StopsAtTableEndOrAtFirstEntryPastTop(ulong baseIpa, ulong top, ulong expected)
    {
        RmmTestHost host = NewHost();
        RealmHandle realm = RealmWithL3(host);
        SmcResult probe = host.Smc(RmiFunctionId.RmiRttReadEntry, realm.Rd, baseIpa, 3);
        int level = (int)(long)probe.X1;
        ulong span = RmmTestHost.Span(level);
        byte[] rim = Rim(host, realm);

        SmcResult r = host.Smc(RmiFunctionId.RmiRttInitRipas, realm.Rd, baseIpa, top);

        RmmTestHost.Expect(r, RmiStatus.Success);
        Assert.Equal($"0x{expected:x}", $"0x{r.X1:x}");
        var spans = new List<(ulong, ulong)>();
        for (ulong a = baseIpa; a < expected; a += span)
        {
            spans.Add((a, a + span));
            Assert.Equal((ulong)Ripas.Ram, host.ReadEntry(realm, a, 3).Ripas);
        }

        Assert.Equal((ulong)Ripas.Empty, host.ReadEntry(realm, expected, level).Ripas);
        Assert.Equal(RimAfterRipas(rim, [.. spans]), Rim(host, realm));
    }

    [Theory]
    [InlineData("destroyed")]
    [InlineData("assigned")]
    public void InitRipas_StopsAtDestroyedOrAssignedEntry(string blocker)
    {
        RmmTestHost host = NewHost();
        RealmHandle realm = RealmWithL3(host);
        const ulong stop = 0x5000;
        if (blocker == "destroyed")
        {
            SetUnassignedRipas(host, realm, stop, Ripas.Destroyed);
        }
        else
        {
            Assign(host, realm, stop);
        }

        var before = host.ReadEntry(realm, stop, 3);
        byte[] rim = Rim(host, realm);

        SmcResult r = host.Smc(RmiFunctionId.RmiRttInitRipas, realm.Rd, Base, 0x10000);

        RmmTestHost.Expect(r, RmiStatus.Success);
        Assert.Equal(stop, r.X1);
        Assert.Equal(before, host.ReadEntry(realm, stop, 3));
        Assert.Equal((ulong)Ripas.Empty, host.ReadEntry(realm, stop + L3Span, 3).Ripas);
        Assert.Equal(RimAfterRipas(rim, (0x1000, 0x2000), (0x2000, 0x3000), (0x3000, 0x4000), (0x4000, 0x5000)), Rim(host, realm));
    }

    [Fact]
    public void InitRipas_OverEntriesAlreadyRam_SucceedsAndMeasuresThemAgain()
    {
        RmmTestHost host = NewHost();
        RealmHandle realm = RealmWithL3(host);
        byte[] rim = Rim(host, realm);
        InitRipas(host, realm, Base, 0x3000);

        SmcResult r = host.Smc(RmiFunctionId.RmiRttInitRipas, realm.Rd, Base, 0x3000);

        RmmTestHost.Expect(r, RmiStatus.Success);
        Assert.Equal(0x3000UL, r.X1);
        Assert.Equal(RimAfterRipas(rim, (0x1000, 0x2000), (0x2000, 0x3000), (0x1000, 0x2000), (0x2000, 0x3000)), Rim(host, realm));
    }

    [Fact]
    public void InitRipas_RimDependsOnRttShape()
    {
        RmmTestHost host = NewHost();
        RealmHandle coarse = RealmWithL3(host);
        RealmHandle fine = RealmWithL3(host, L2Span, new RealmParams { Vmid = 1 });
        byte[] rim = Rim(host, coarse);
        Assert.Equal(rim, Rim(host, fine));

        InitRipas(host, coarse, L2Span, 2 * L2Span);
        InitRipas(host, fine, L2Span, 2 * L2Span);

        var pages = Enumerable.Range(0, 512).Select(i => (L2Span + ((ulong)i * L3Span), L2Span + ((ulong)(i + 1) * L3Span))).ToArray();
        Assert.Equal(RimAfterRipas(rim, (L2Span, 2 * L2Span)), Rim(host, coarse));
        Assert.Equal(RimAfterRipas(rim, pages), Rim(host, fine));
        Assert.NotEqual(Rim(host, coarse), Rim(host, fine));
    }
}
