using CcaSim.Rmm.Granules;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rtt;
using CcaSim.Rmm.Tests.Infrastructure;
using static CcaSim.Rmm.Tests.Infrastructure.DataRipasHelpers;

namespace CcaSim.Rmm.Tests.Rmi;

/// <summary>RMI_DATA_CREATE and RMI_DATA_CREATE_UNKNOWN (rmm-1.0.md §3.11, §11.3).</summary>
public sealed class RmiDataCreateTests
{
    private const ulong TargetIpa = 0x3000;

    /// <summary>
    /// One row per failure condition of §3.11 in ACS order (flags first, as TF-RMM checks it before anything),
    /// then rows that break two conditions and expect the one the spec orders first.
    /// </summary>
    public static TheoryData<string, RmiStatus, int> DataCreateFailures => new()
    {
        { "flags", RmiStatus.ErrorInput, 0 },
        { "src_align", RmiStatus.ErrorInput, 0 },
        { "src_bound", RmiStatus.ErrorInput, 0 },
        { "src_pas_delegated", RmiStatus.ErrorInput, 0 },
        { "src_pas_secure", RmiStatus.ErrorInput, 0 },
        { "data_align", RmiStatus.ErrorInput, 0 },
        { "data_bound", RmiStatus.ErrorInput, 0 },
        { "data_state_undelegated", RmiStatus.ErrorInput, 0 },
        { "data_state_data", RmiStatus.ErrorInput, 0 },
        { "data_state_rd", RmiStatus.ErrorInput, 0 },
        { "data_bound2", RmiStatus.ErrorInput, 0 },
        { "rd_align", RmiStatus.ErrorInput, 0 },
        { "rd_bound", RmiStatus.ErrorInput, 0 },
        { "rd_state_delegated", RmiStatus.ErrorInput, 0 },
        { "rd_state_destroyed", RmiStatus.ErrorInput, 0 },
        { "ipa_align", RmiStatus.ErrorInput, 0 },
        { "ipa_bound_unprotected", RmiStatus.ErrorInput, 0 },
        { "ipa_bound_ipa_size", RmiStatus.ErrorInput, 0 },
        { "realm_state_active", RmiStatus.ErrorRealm, 0 },
        { "realm_state_system_off", RmiStatus.ErrorRealm, 0 },
        { "rtt_walk_l0", RmiStatus.ErrorRtt, 0 },
        { "rtt_walk_l1", RmiStatus.ErrorRtt, 1 },
        { "rtt_walk_l2", RmiStatus.ErrorRtt, 2 },
        { "rtte_state_assigned_empty", RmiStatus.ErrorRtt, 3 },
        { "rtte_state_assigned_ram", RmiStatus.ErrorRtt, 3 },
        { "ipa_bound_beats_rtt_walk", RmiStatus.ErrorInput, 0 },
        { "ipa_bound_beats_rtte_state", RmiStatus.ErrorInput, 0 },
        { "ipa_align_beats_rtt_walk", RmiStatus.ErrorInput, 0 },
        { "realm_state_beats_rtt_walk", RmiStatus.ErrorRealm, 0 },
        { "realm_state_beats_rtte_state", RmiStatus.ErrorRealm, 0 },
        { "src_pas_beats_realm_state", RmiStatus.ErrorInput, 0 },
        { "data_state_beats_realm_state", RmiStatus.ErrorInput, 0 },
        // The spec leaves realm_state unordered against the ipa and data_bound2 checks: TF-RMM checks it first.
        { "realm_state_beats_ipa_bound_unprotected", RmiStatus.ErrorRealm, 0 },
        { "realm_state_beats_ipa_bound_ipa_size", RmiStatus.ErrorRealm, 0 },
        { "realm_state_beats_ipa_align", RmiStatus.ErrorRealm, 0 },
        { "realm_state_beats_data_bound2", RmiStatus.ErrorRealm, 0 },
        { "flags_beats_rtte_state", RmiStatus.ErrorInput, 0 },
    };

    /// <summary>The same list without the DATA_CREATE-only conditions (flags, src_*, realm_state).</summary>
    public static TheoryData<string, RmiStatus, int> DataCreateUnknownFailures => new()
    {
        { "data_align", RmiStatus.ErrorInput, 0 },
        { "data_bound", RmiStatus.ErrorInput, 0 },
        { "data_state_undelegated", RmiStatus.ErrorInput, 0 },
        { "data_state_data", RmiStatus.ErrorInput, 0 },
        { "data_state_rd", RmiStatus.ErrorInput, 0 },
        { "data_bound2", RmiStatus.ErrorInput, 0 },
        { "rd_align", RmiStatus.ErrorInput, 0 },
        { "rd_bound", RmiStatus.ErrorInput, 0 },
        { "rd_state_delegated", RmiStatus.ErrorInput, 0 },
        { "rd_state_destroyed", RmiStatus.ErrorInput, 0 },
        { "ipa_align", RmiStatus.ErrorInput, 0 },
        { "ipa_bound_unprotected", RmiStatus.ErrorInput, 0 },
        { "ipa_bound_ipa_size", RmiStatus.ErrorInput, 0 },
        { "rtt_walk_l0", RmiStatus.ErrorRtt, 0 },
        { "rtt_walk_l1", RmiStatus.ErrorRtt, 1 },
        { "rtt_walk_l2", RmiStatus.ErrorRtt, 2 },
        { "rtte_state_assigned_empty", RmiStatus.ErrorRtt, 3 },
        { "rtte_state_assigned_ram", RmiStatus.ErrorRtt, 3 },
        { "ipa_bound_beats_rtt_walk", RmiStatus.ErrorInput, 0 },
        { "ipa_bound_beats_rtte_state", RmiStatus.ErrorInput, 0 },
        { "ipa_align_beats_rtt_walk", RmiStatus.ErrorInput, 0 },
        { "data_state_beats_rtte_state", RmiStatus.ErrorInput, 0 },
        { "rd_state_beats_rtt_walk", RmiStatus.ErrorInput, 0 },
    };

    [Theory]
    [MemberData(nameof(DataCreateFailures))]
    public void DataCreate_WhenConditionFails_ReturnsSpecErrorAndChangesNothing(string condition, RmiStatus status, int index) =>
        RunFailure(condition, status, index, measured: true);

    [Theory]
    [MemberData(nameof(DataCreateUnknownFailures))]
    public void DataCreateUnknown_WhenConditionFails_ReturnsSpecErrorAndChangesNothing(string condition, RmiStatus status, int index) =>
        RunFailure(condition, status, index, measured: false);

    [Theory]
    [InlineData(Ripas.Empty, 1UL)]
    [InlineData(Ripas.Ram, 1UL)]
    [InlineData(Ripas.Destroyed, 1UL)]
    [InlineData(Ripas.Empty, 0UL)]
    [InlineData(Ripas.Destroyed, 0UL)]
    public void DataCreate_WhenValid_AssignsGranuleWithRipasRamAndMeasuresIt(Ripas before, ulong flags)
    {
        RmmTestHost host = NewHost();
        RealmHandle realm = RealmWithL3(host);
        SetUnassignedRipas(host, realm, TargetIpa, before);
        ulong data = host.Delegated();
        ulong src = host.NsGranule();
        byte[] contents = FillPattern(host, src, 0x5a);
        byte[] rim = Rim(host, realm);

        RmmTestHost.Expect(DataCreate(host, realm, data, TargetIpa, src, flags), RmiStatus.Success);

        Assert.Equal(GranuleState.Data, host.StateOf(data));
        Assert.Equal((3, RmiRttEntryState.Assigned, data, (ulong)Ripas.Ram), host.ReadEntry(realm, TargetIpa, 3));
        Assert.Equal((3, RmiRttEntryState.Unassigned, 0UL, (ulong)Ripas.Empty), host.ReadEntry(realm, TargetIpa - L3Span, 3));
        Assert.Equal((3, RmiRttEntryState.Unassigned, 0UL, (ulong)Ripas.Empty), host.ReadEntry(realm, TargetIpa + L3Span, 3));
        Assert.Equal(RimAfterData(rim, TargetIpa, flags, contents), Rim(host, realm));
        Assert.Equal(GranuleState.Undelegated, host.StateOf(src));
        Assert.Equal(contents, ReadNs(host, src));
    }

    [Fact]
    public void DataCreate_WithDifferentContents_MeasuresTheContents()
    {
        RmmTestHost host = NewHost();
        RealmHandle a = RealmWithL3(host);
        RealmHandle b = RealmWithL3(host, p: new RealmParams { Vmid = 1 });
        ulong srcA = host.NsGranule();
        ulong srcB = host.NsGranule();
        FillPattern(host, srcA, 1);
        FillPattern(host, srcB, 2);
        Assert.Equal(Rim(host, a), Rim(host, b));

        RmmTestHost.Expect(DataCreate(host, a, host.Delegated(), TargetIpa, srcA), RmiStatus.Success);
        RmmTestHost.Expect(DataCreate(host, b, host.Delegated(), TargetIpa, srcB), RmiStatus.Success);

        Assert.NotEqual(Rim(host, a), Rim(host, b));
    }

    [Theory]
    [InlineData(Ripas.Empty)]
    [InlineData(Ripas.Ram)]
    [InlineData(Ripas.Destroyed)]
    public void DataCreateUnknown_WhenValid_AssignsGranuleKeepingRipasWithoutMeasuring(Ripas ripas)
    {
        RmmTestHost host = NewHost();
        RealmHandle realm = RealmWithL3(host);
        SetUnassignedRipas(host, realm, TargetIpa, ripas);
        ulong data = host.Delegated();
        byte[] rim = Rim(host, realm);

        RmmTestHost.Expect(DataCreateUnknown(host, realm, data, TargetIpa), RmiStatus.Success);

        Assert.Equal(GranuleState.Data, host.StateOf(data));
        Assert.Equal((3, RmiRttEntryState.Assigned, data, (ulong)ripas), host.ReadEntry(realm, TargetIpa, 3));
        Assert.Equal(rim, Rim(host, realm));
    }

    [Theory]
    [InlineData("active")]
    [InlineData("system_off")]
    public void DataCreateUnknown_InActiveOrSystemOffRealm_Succeeds(string state)
    {
        RmmTestHost host = NewHost();
        RealmHandle realm = RealmWithL3(host);
        if (state == "active")
        {
            Activate(host, realm);
        }
        else
        {
            SystemOff(host, realm);
        }

        ulong data = host.Delegated();

        RmmTestHost.Expect(DataCreateUnknown(host, realm, data, TargetIpa), RmiStatus.Success);

        Assert.Equal(GranuleState.Data, host.StateOf(data));
        Assert.Equal((3, RmiRttEntryState.Assigned, data, (ulong)Ripas.Empty), host.ReadEntry(realm, TargetIpa, 3));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void DataCreate_WithDataAbove2Pow48InLpa2Realm_Succeeds(bool measured)
    {
        RmmTestHost host = NewHighHost();
        RealmHandle realm = RealmWithL3(host, p: new RealmParams { Flags = RealmParamsLayout.FlagLpa2 });
        ulong src = host.NsGranule();
        ulong data = host.DelegatedRun(1, 1UL << 48);
        Assert.True(data >= 1UL << 48);

        SmcResult r = measured ? DataCreate(host, realm, data, TargetIpa, src) : DataCreateUnknown(host, realm, data, TargetIpa);

        RmmTestHost.Expect(r, RmiStatus.Success);
        Assert.Equal(GranuleState.Data, host.StateOf(data));
        Assert.Equal(RmiRttEntryState.Assigned, host.ReadEntry(realm, TargetIpa, 3).State);
    }

    private static void RunFailure(string condition, RmiStatus status, int index, bool measured)
    {
        bool high = condition is "data_bound2" or "realm_state_beats_data_bound2";
        RmmTestHost host = high ? NewHighHost() : NewHost();
        RealmHandle realm = RealmWithL3(host);
        var realms = new List<RealmHandle> { realm };
        ulong rd = realm.Rd;
        ulong data = host.Delegated();
        ulong src = host.NsGranule();
        byte[] contents = FillPattern(host, src, 0x33);
        ulong originalSrc = src;
        ulong ipa = TargetIpa;
        ulong flags = 1;
        ulong end = host.Platform.Memory.End;

        switch (condition)
        {
            case "flags": flags = 2; break;
            case "src_align": src += 8; break;
            case "src_bound": src = end; break;
            case "src_pas_delegated": src = host.Delegated(); break;
            case "src_pas_secure": src = host.G(SecureGranule); break;
            case "data_align": data += 0x800; break;
            case "data_bound": data = host.Platform.Memory.Base - RmmTestHost.GranuleSize; break;
            case "data_state_undelegated": data = host.NsGranule(); break;
            case "data_state_data": data = Assign(host, realm, 0x5000); break;
            case "data_state_rd": data = realm.Rd; break;
            case "data_bound2": data = host.DelegatedRun(1, 1UL << 48); break;
            case "rd_align": rd += 0x800; break;
            case "rd_bound": rd = end; break;
            case "rd_state_delegated": rd = host.Delegated(); break;
            case "rd_state_destroyed":
                RealmHandle gone = host.CreateRealm(new RealmParams { Vmid = 1 });
                RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmDestroy, gone.Rd), RmiStatus.Success);
                rd = gone.Rd;
                break;
            case "ipa_align": ipa += 0x800; break;
            case "ipa_bound_unprotected": ipa = Unprotected48 + TargetIpa; break;
            case "ipa_bound_ipa_size": ipa = 1UL << 48; break;
            case "realm_state_active": Activate(host, realm); break;
            case "realm_state_system_off": SystemOff(host, realm); break;
            case "rtt_walk_l0": ipa = L0Span; break;
            case "rtt_walk_l1": ipa = L1Span; break;
            case "rtt_walk_l2": ipa = L2Span; break;
            case "rtte_state_assigned_empty": Assign(host, realm, ipa); break;
            case "rtte_state_assigned_ram": AssignWithRipas(host, realm, ipa, Ripas.Ram); break;
            case "ipa_bound_beats_rtt_walk": ipa = Unprotected48; break;
            case "ipa_bound_beats_rtte_state":
                ipa = Unprotected48 + TargetIpa;
                host.CreateRtts(realm, ipa, 3);
                RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRttMapUnprotected, rd, ipa, 3, host.NsGranule()), RmiStatus.Success);
                break;
            case "ipa_align_beats_rtt_walk": ipa = L2Span + 0x800; break;
            case "realm_state_beats_rtt_walk": Activate(host, realm); ipa = L2Span; break;
            case "realm_state_beats_rtte_state": Assign(host, realm, ipa); Activate(host, realm); break;
            case "src_pas_beats_realm_state": Activate(host, realm); src = host.Delegated(); break;
            case "data_state_beats_realm_state": Activate(host, realm); data = host.NsGranule(); break;
            case "realm_state_beats_ipa_bound_unprotected": Activate(host, realm); ipa = Unprotected48 + TargetIpa; break;
            case "realm_state_beats_ipa_bound_ipa_size": SystemOff(host, realm); ipa = 1UL << 48; break;
            case "realm_state_beats_ipa_align": Activate(host, realm); ipa += 0x800; break;
            case "realm_state_beats_data_bound2": Activate(host, realm); data = host.DelegatedRun(1, 1UL << 48); break;
            case "flags_beats_rtte_state": Assign(host, realm, ipa); flags = 2; break;
            case "data_state_beats_rtte_state": Assign(host, realm, ipa); data = host.NsGranule(); break;
            case "rd_state_beats_rtt_walk": rd = host.Delegated(); ipa = L2Span; break;
            default: throw new ArgumentOutOfRangeException(nameof(condition));
        }

        Snapshot before = Take(host, [.. realms], [data, src, rd, realm.Rd], [ipa, TargetIpa]);

        SmcResult r = measured
            ? host.Smc(RmiFunctionId.RmiDataCreate, rd, data, ipa, src, flags)
            : host.Smc(RmiFunctionId.RmiDataCreateUnknown, rd, data, ipa);

        RmmTestHost.Expect(r, status, index);
        before.AssertUnchanged(Take(host, [.. realms], [data, src, rd, realm.Rd], [ipa, TargetIpa]));
        Assert.Equal(contents, ReadNs(host, originalSrc));
    }
}
