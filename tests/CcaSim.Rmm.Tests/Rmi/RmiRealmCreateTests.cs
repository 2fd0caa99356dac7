using CcaSim.Platform.Memory;
using CcaSim.Rmm.Granules;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Tests.Infrastructure;

namespace CcaSim.Rmm.Tests.Rmi;

/// <summary>
/// RMI_REALM_CREATE (rd, params_ptr) (rmm-1.0.md §3.4). Every failure is ERROR_INPUT with index 0, so the
/// spec's order between conditions is not observable by the host and there are no two-condition rows here.
/// </summary>
public sealed class RmiRealmCreateTests
{
    private const ulong Lpa2 = RealmParamsLayout.FlagLpa2;
    private const ulong Sve = RealmParamsLayout.FlagSve;
    private const ulong Pmu = RealmParamsLayout.FlagPmu;

    /// <summary>The baseline every failure row starts from: s2sz 32, start level 2, 4 concatenated roots, VMID 7.</summary>
    private static RealmParams Baseline() => new() { S2sz = 32, RttLevelStart = 2, RttNumStart = 4, Vmid = 7 };

    /// <summary>
    /// How to build one failure row: the RMM configuration, the parameter changes (applied before the RD and
    /// roots are delegated) and a final break (applied after, before the params page is written unless it sets
    /// <see cref="CreateCase.ParamsPa"/>).
    /// </summary>
    private sealed record Row(RmmConfig? Config = null, Action<RealmParams>? Params = null, Action<CreateCase>? Break = null);

    private sealed class CreateCase(RmmTestHost host, RealmParams p, ulong rd)
    {
        public RmmTestHost Host { get; } = host;

        public RealmParams P { get; } = p;

        public ulong Rd { get; set; } = rd;

        public ulong ParamsPa { get; set; }

        public ulong Root(int i) => P.RttBase + ((ulong)i * RmmTestHost.GranuleSize);

        public void Undelegate(ulong pa) => RmmTestHost.Expect(Host.Smc(RmiFunctionId.RmiGranuleUndelegate, pa), RmiStatus.Success);
    }

    private static void Geometry(RealmParams p, byte s2sz, long level, uint roots, ulong flags = 0)
    {
        p.S2sz = s2sz;
        p.RttLevelStart = level;
        p.RttNumStart = roots;
        p.Flags |= flags;
    }

    /// <summary>One row per failure condition of the §3.4 list (and its sub-cases), in the ACS order.</summary>
    private static readonly Dictionary<string, Row> s_rows = new()
    {
        // 1. params_align, params_bound, params_pas
        ["params_align"] = new(Break: c => c.ParamsPa = c.Host.WriteRealmParams(c.P) + 8),
        ["params_bound_below"] = new(Break: c => c.ParamsPa = RealmLifecycleHelpers.BelowPool),
        ["params_bound_above"] = new(Break: c => c.ParamsPa = RealmLifecycleHelpers.AbovePool),
        ["params_pas_delegated"] = new(Break: c =>
        {
            c.ParamsPa = c.Host.WriteRealmParams(c.P);
            RmmTestHost.Expect(c.Host.Smc(RmiFunctionId.RmiGranuleDelegate, c.ParamsPa), RmiStatus.Success);
        }),
        ["params_pas_secure"] = new(Break: c => c.ParamsPa = c.Host.G(RealmLifecycleHelpers.SecureGranule)),

        // 2. params_valid
        ["params_valid_hash_algo_2"] = new(Params: p => p.HashAlgo = 2),
        ["params_valid_hash_algo_255"] = new(Params: p => p.HashAlgo = 255),
        ["params_valid_num_bps_0"] = new(Params: p => p.NumBps = 0),
        ["params_valid_num_wps_0"] = new(Params: p => p.NumWps = 0),
        ["params_valid_s2sz_31"] = new(Params: p => Geometry(p, 31, 1, 1)),
        ["params_valid_s2sz_0"] = new(Params: p => Geometry(p, 0, 1, 1)),
        ["params_valid_s2sz_49_without_lpa2"] = new(Params: p => Geometry(p, 49, 0, 2)),
        ["params_valid_s2sz_52_without_lpa2"] = new(Params: p => Geometry(p, 52, 0, 16)),
        ["params_valid_s2sz_53_with_lpa2"] = new(Params: p => Geometry(p, 53, -1, 1, Lpa2)),
        ["params_valid_level_0_s2sz_39"] = new(Params: p => Geometry(p, 39, 0, 1)),
        ["params_valid_level_1_s2sz_44"] = new(Params: p => Geometry(p, 44, 1, 32)),
        ["params_valid_level_1_s2sz_48"] = new(Params: p => Geometry(p, 48, 1, 1)),
        ["params_valid_level_2_s2sz_35"] = new(Params: p => Geometry(p, 35, 2, 32)),
        ["params_valid_level_3_s2sz_32"] = new(Params: p => Geometry(p, 32, 3, 1)),
        ["params_valid_level_4"] = new(Params: p => Geometry(p, 32, 4, 1)),
        ["params_valid_level_minus_1_without_lpa2"] = new(Params: p => Geometry(p, 48, -1, 1)),
        ["params_valid_level_minus_1_s2sz_48_with_lpa2"] = new(Params: p => Geometry(p, 48, -1, 1, Lpa2)),
        ["params_valid_level_minus_2_with_lpa2"] = new(Params: p => Geometry(p, 52, -2, 1, Lpa2)),

        // 3. params_supp (reference features: S2SZ 48, LPA2, 1 BP, 1 WP, no SVE, PMU 31 ctrs, both hashes)
        ["params_supp_lpa2_absent"] = new(
            RealmLifecycleHelpers.WithFeatures(f => f with { Lpa2 = false }),
            p => Geometry(p, 48, 0, 1, Lpa2)),
        ["params_supp_s2sz_above_feature"] = new(
            RealmLifecycleHelpers.WithFeatures(f => f with { S2sz = 40 }),
            p => Geometry(p, 41, 1, 4)),
        ["params_supp_s2sz_52_above_feature_48"] = new(Params: p => Geometry(p, 52, -1, 1, Lpa2)),
        ["params_supp_num_bps_above_feature"] = new(Params: p => p.NumBps = 2),
        ["params_supp_num_wps_above_feature"] = new(Params: p => p.NumWps = 2),
        ["params_supp_num_bps_above_feature_4"] = new(RealmLifecycleHelpers.WithFeatures(f => f with { NumBps = 4, NumWps = 4 }), p => p.NumBps = 5),
        ["params_supp_sve_absent"] = new(Params: p => p.Flags |= Sve),
        ["params_supp_sve_vl_above_max"] = new(
            RealmLifecycleHelpers.WithFeatures(f => f with { SveEnabled = true, SveVl = 3 }),
            p => { p.Flags |= Sve; p.SveVl = 4; }),
        ["params_supp_pmu_absent"] = new(
            RealmLifecycleHelpers.WithFeatures(f => f with { PmuEnabled = false, PmuNumCtrs = 0 }, hpmn0: true),
            p => { p.Flags |= Pmu; p.PmuNumCtrs = 0; }),
        ["params_supp_pmu_ctrs_above_max"] = new(Params: p => { p.Flags |= Pmu; p.PmuNumCtrs = 32; }),
        ["params_supp_pmu_ctrs_above_max_4"] = new(
            RealmLifecycleHelpers.WithFeatures(f => f with { PmuNumCtrs = 4 }),
            p => { p.Flags |= Pmu; p.PmuNumCtrs = 5; }),
        ["params_supp_pmu_zero_ctrs_without_hpmn0"] = new(Params: p => { p.Flags |= Pmu; p.PmuNumCtrs = 0; }),
        ["params_supp_sha256_not_offered"] = new(RealmLifecycleHelpers.WithFeatures(f => f with { HashSha256 = false }), p => p.HashAlgo = 0),
        ["params_supp_sha512_not_offered"] = new(RealmLifecycleHelpers.WithFeatures(f => f with { HashSha512 = false }), p => p.HashAlgo = 1),

        // 4. alias
        ["alias_rd_is_first_root"] = new(Break: c => c.Rd = c.Root(0)),
        ["alias_rd_is_last_root"] = new(Break: c => c.Rd = c.Root(3)),

        // 5. rd_align, rd_bound, rd_state
        ["rd_align"] = new(Break: c => c.Rd += 8),
        ["rd_bound_below"] = new(Break: c => c.Rd = RealmLifecycleHelpers.BelowPool),
        ["rd_bound_above"] = new(Break: c => c.Rd = RealmLifecycleHelpers.AbovePool),
        ["rd_state_undelegated"] = new(Break: c => c.Undelegate(c.Rd)),
        ["rd_state_rd"] = new(Break: c => c.Rd = c.Host.CreateRealm().Rd),
        ["rd_state_rtt"] = new(Break: c => c.Rd = c.Host.CreateRealm().Params.RttBase),
        ["rd_state_secure"] = new(Break: c => c.Rd = c.Host.G(RealmLifecycleHelpers.SecureGranule)),

        // 6. rtt_align, rtt_bound, rtt_num_level, rtt_state
        ["rtt_align"] = new(Break: c => c.P.RttBase += 8),
        ["rtt_bound_below"] = new(Break: c => c.P.RttBase = RealmLifecycleHelpers.BelowPool),
        ["rtt_bound_above"] = new(Break: c => c.P.RttBase = RealmLifecycleHelpers.AbovePool),
        ["rtt_bound_run_past_end"] = new(Break: c =>
        {
            c.P.RttBase = c.Host.G(RealmLifecycleHelpers.LastGranule);
            RmmTestHost.Expect(c.Host.Smc(RmiFunctionId.RmiGranuleDelegate, c.P.RttBase), RmiStatus.Success);
        }),
        ["rtt_num_level_zero"] = new(Params: p => p.RttNumStart = 0),
        ["rtt_num_level_too_few"] = new(Params: p => p.RttNumStart = 2),
        ["rtt_num_level_too_many"] = new(Params: p => p.RttNumStart = 8),
        ["rtt_num_level_concatenated_where_one"] = new(Params: p => Geometry(p, 48, 0, 2)),
        ["rtt_num_level_one_where_concatenated"] = new(Params: p => Geometry(p, 40, 1, 1)),
        ["rtt_state_root_0_undelegated"] = new(Break: c => c.Undelegate(c.Root(0))),
        ["rtt_state_root_1_undelegated"] = new(Break: c => c.Undelegate(c.Root(1))),
        ["rtt_state_root_2_undelegated"] = new(Break: c => c.Undelegate(c.Root(2))),
        ["rtt_state_root_3_undelegated"] = new(Break: c => c.Undelegate(c.Root(3))),
        ["rtt_state_roots_of_another_realm"] = new(Break: c =>
        {
            var other = new RealmParams { S2sz = 32, RttLevelStart = 2, RttNumStart = 4 };
            c.P.RttBase = c.Host.CreateRealm(other).Params.RttBase;
        }),
        ["rtt_state_root_2_is_an_rd"] = new(Break: c =>
        {
            var other = new RealmParams { RttBase = c.Host.Delegated() };
            RmmTestHost.Expect(c.Host.Smc(RmiFunctionId.RmiRealmCreate, c.Root(2), c.Host.WriteRealmParams(other)), RmiStatus.Success);
        }),

        // 7. vmid_valid
        ["vmid_valid_in_use"] = new(Break: c => c.Host.CreateRealm(new RealmParams { Vmid = c.P.Vmid })),
        ["vmid_valid_256_with_8_bit_vmids"] = new(new RmmConfig { VmidBits = 8 }, p => p.Vmid = 256),
        ["vmid_valid_max_with_8_bit_vmids"] = new(new RmmConfig { VmidBits = 8 }, p => p.Vmid = ushort.MaxValue),
    };

    public static TheoryData<string> Failures => [.. s_rows.Keys];

    private static CreateCase Build(Row row)
    {
        RmmTestHost host = RealmLifecycleHelpers.NewHost(row.Config);
        RealmParams p = Baseline();
        row.Params?.Invoke(p);
        ulong rd = host.Delegated();
        p.RttBase = host.DelegatedRun((int)Math.Clamp(p.RttNumStart, 1u, 64u));
        var c = new CreateCase(host, p, rd);
        row.Break?.Invoke(c);
        if (c.ParamsPa == 0)
        {
            c.ParamsPa = host.WriteRealmParams(p);
        }

        return c;
    }

    [Fact]
    public void RealmCreate_WhenBaselineOfTheFailureRowsIsUnbroken_Succeeds()
    {
        CreateCase c = Build(new Row());

        RmmTestHost.Expect(c.Host.Smc(RmiFunctionId.RmiRealmCreate, c.Rd, c.ParamsPa), RmiStatus.Success);

        Assert.Equal(GranuleState.Rd, c.Host.StateOf(c.Rd));
        Assert.All(Enumerable.Range(0, 4), i => Assert.Equal(GranuleState.Rtt, c.Host.StateOf(c.Root(i))));
    }

    [Theory]
    [MemberData(nameof(Failures))]
    public void RealmCreate_WhenConditionFails_ReturnsErrorInputAndChangesNothing(string condition)
    {
        CreateCase c = Build(s_rows[condition]);
        ulong[] watched = [c.Rd, c.ParamsPa, .. Enumerable.Range(0, 4).Select(c.Root)];
        var before = GranuleSnapshot.Take(c.Host, watched);
        byte[] paramsBefore = ReadIfNs(c.Host, c.ParamsPa);

        RmmTestHost.Expect(c.Host.Smc(RmiFunctionId.RmiRealmCreate, c.Rd, c.ParamsPa), RmiStatus.ErrorInput, 0);

        Assert.Equal(before, GranuleSnapshot.Take(c.Host, watched));
        Assert.Equal(paramsBefore, ReadIfNs(c.Host, c.ParamsPa));
        if (RealmLifecycleHelpers.StateOrNull(c.Host, c.Rd) != GranuleState.Rd)
        {
            // No realm appeared at rd: commands that need an RD still reject it.
            RmmTestHost.Expect(c.Host.Smc(RmiFunctionId.RmiRecAuxCount, c.Rd), RmiStatus.ErrorInput);
        }
    }

    /// <summary>Valid geometries of §10 (s2sz, start level, roots, LPA2).</summary>
    public static TheoryData<byte, long, uint, bool> Geometries => new()
    {
        { 32, 2, 4, false },
        { 33, 2, 8, false },
        { 34, 2, 16, false },
        { 32, 1, 1, false },
        { 39, 1, 1, false },
        { 40, 1, 2, false },
        { 43, 1, 16, false },
        { 40, 0, 1, false },
        { 48, 0, 1, false },
        { 48, 0, 1, true },
        { 49, 0, 2, true },
        { 52, 0, 16, true },
        { 49, -1, 1, true },
        { 52, -1, 1, true },
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void RealmCreate_WhenGeometryIsValid_CreatesRootsWithProtectedHalfEmptyAndUnprotectedHalfNs(byte s2sz, long level, uint roots, bool lpa2)
    {
        RmmTestHost host = RealmLifecycleHelpers.NewHost(RealmLifecycleHelpers.WithFeatures(f => f with { S2sz = 52 }));
        var p = new RealmParams { S2sz = s2sz, RttLevelStart = level, RttNumStart = roots, Flags = lpa2 ? Lpa2 : 0 };
        int vmidsBefore = host.Rmm.VmidsInUse;

        RealmHandle realm = host.CreateRealm(p);

        int sl = (int)level;
        ulong ipaSize = 1UL << s2sz;
        ulong parEnd = ipaSize >> 1;
        ulong span = RmmTestHost.Span(sl);
        ulong rootSpan = ipaSize / roots;
        Assert.Equal(GranuleState.Rd, host.StateOf(realm.Rd));
        Assert.Equal(vmidsBefore + 1, host.Rmm.VmidsInUse);
        for (uint i = 0; i < roots; i++)
        {
            Assert.Equal(GranuleState.Rtt, host.StateOf(p.RttBase + (i * RmmTestHost.GranuleSize)));
            AssertUnassignedEmpty(host.ReadEntry(realm, i * rootSpan, sl), sl);
            AssertUnassignedEmpty(host.ReadEntry(realm, ((i + 1) * rootSpan) - span, sl), sl);
        }

        AssertUnassignedEmpty(host.ReadEntry(realm, parEnd - span, sl), sl);
        AssertUnassignedEmpty(host.ReadEntry(realm, parEnd, sl), sl);

        // Protected half: the last protected entry is UNASSIGNED EMPTY, so RTT_INIT_RIPAS turns it into RAM.
        SmcResult init = host.Smc(RmiFunctionId.RmiRttInitRipas, realm.Rd, parEnd - span, parEnd);
        RmmTestHost.Expect(init, RmiStatus.Success);
        Assert.Equal(parEnd, init.X1);
        Assert.Equal((sl, RmiRttEntryState.Unassigned, 0UL, 1UL), host.ReadEntry(realm, parEnd - span, sl));

        // Unprotected half: the first unprotected entry is UNASSIGNED_NS, so after unfolding to level 3 a page
        // can be mapped unprotected there; it cannot be initialised as RIPAS RAM.
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRttInitRipas, realm.Rd, parEnd, parEnd + span), RmiStatus.ErrorInput);
        host.CreateRtts(realm, parEnd, 3);
        ulong ns = host.NsGranule();
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRttMapUnprotected, realm.Rd, parEnd, 3, ns), RmiStatus.Success);
        Assert.Equal((3, RmiRttEntryState.Assigned, ns, 0UL), host.ReadEntry(realm, parEnd, 3));

        // The realm is NEW and has an RD: it can be activated.
        RealmLifecycleHelpers.Activate(host, realm.Rd);
    }

    [Fact]
    public void RealmCreate_WhenValid_LeavesParamsPageUntouchedAndRealmNew()
    {
        RmmTestHost host = RealmLifecycleHelpers.NewHost();
        var p = new RealmParams { Vmid = 3 };
        p.Rpv[0] = 0xA5;
        ulong rd = host.Delegated();
        p.RttBase = host.DelegatedRun(1);
        ulong paramsPa = host.WriteRealmParams(p);
        byte[] before = ReadIfNs(host, paramsPa);

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmCreate, rd, paramsPa), RmiStatus.Success);

        Assert.Equal(before, ReadIfNs(host, paramsPa));
        SmcResult aux = host.Smc(RmiFunctionId.RmiRecAuxCount, rd);
        RmmTestHost.Expect(aux, RmiStatus.Success);
        var handle = new RealmHandle(rd, p, paramsPa);
        host.CreateRec(handle); // REC_CREATE needs a NEW realm
        RealmLifecycleHelpers.Activate(host, rd);
    }

    /// <summary>Optional features requested within what feature register 0 offers (the success side of params_supp).</summary>
    public static TheoryData<string> SupportedFeatureRequests =>
    [
        "sha512", "bps_wps_at_max", "sve_at_max_vl", "pmu_at_max_ctrs", "pmu_zero_ctrs_with_hpmn0", "lpa2_s2sz_48",
        "sve_vl_unchecked_when_sve_off", "pmu_ctrs_unchecked_when_pmu_off", "vmid_255_with_8_bit_vmids",
        "vmid_65535_with_16_bit_vmids", "vmid_0",
    ];

    [Theory]
    [MemberData(nameof(SupportedFeatureRequests))]
    public void RealmCreate_WhenRequestIsWithinFeatureRegister_Succeeds(string request)
    {
        RmmConfig config = request switch
        {
            "bps_wps_at_max" => RealmLifecycleHelpers.WithFeatures(f => f with { NumBps = 6, NumWps = 5 }),
            "sve_at_max_vl" => RealmLifecycleHelpers.WithFeatures(f => f with { SveEnabled = true, SveVl = 15 }),
            "pmu_zero_ctrs_with_hpmn0" => RealmLifecycleHelpers.WithFeatures(f => f, hpmn0: true),
            "vmid_255_with_8_bit_vmids" => new RmmConfig { VmidBits = 8 },
            _ => new RmmConfig(),
        };
        var p = new RealmParams { Vmid = 1 };
        switch (request)
        {
            case "sha512": p.HashAlgo = 1; break;
            case "bps_wps_at_max": p.NumBps = 6; p.NumWps = 5; break;
            case "sve_at_max_vl": p.Flags = Sve; p.SveVl = 15; break;
            case "pmu_at_max_ctrs": p.Flags = Pmu; p.PmuNumCtrs = 31; break;
            case "pmu_zero_ctrs_with_hpmn0": p.Flags = Pmu; p.PmuNumCtrs = 0; break;
            case "lpa2_s2sz_48": p.Flags = Lpa2; break;
            case "sve_vl_unchecked_when_sve_off": p.SveVl = 15; break;
            case "pmu_ctrs_unchecked_when_pmu_off": p.PmuNumCtrs = 200; break;
            case "vmid_255_with_8_bit_vmids": p.Vmid = 255; break;
            case "vmid_65535_with_16_bit_vmids": p.Vmid = ushort.MaxValue; break;
            case "vmid_0": p.Vmid = 0; break;
            default: throw new ArgumentOutOfRangeException(nameof(request));
        }

        RmmTestHost host = RealmLifecycleHelpers.NewHost(config);

        RealmHandle realm = host.CreateRealm(p);

        Assert.Equal(GranuleState.Rd, host.StateOf(realm.Rd));
        Assert.Equal(1, host.Rmm.VmidsInUse);
    }

    [Fact]
    public void RealmCreate_WhenTwoRealmsUseDifferentVmids_BothExistIndependently()
    {
        RmmTestHost host = RealmLifecycleHelpers.NewHost();

        RealmHandle a = host.CreateRealm(new RealmParams { Vmid = 1 });
        RealmHandle b = host.CreateRealm(new RealmParams { Vmid = 2, S2sz = 40, RttLevelStart = 1, RttNumStart = 2 });

        Assert.Equal(2, host.Rmm.VmidsInUse);
        RealmLifecycleHelpers.Activate(host, a.Rd);
        host.CreateRec(b); // b is still NEW
        Assert.Equal((1, RmiRttEntryState.Unassigned, 0UL, 0UL), host.ReadEntry(b, 0, 1));
    }

    private static void AssertUnassignedEmpty((int Level, RmiRttEntryState State, ulong Desc, ulong Ripas) entry, int level) =>
        Assert.Equal((level, RmiRttEntryState.Unassigned, 0UL, 0UL), entry);

    private static byte[] ReadIfNs(RmmTestHost host, ulong pa)
    {
        if (RealmLifecycleHelpers.StateOrNull(host, pa) != GranuleState.Undelegated
            || host.Host.Check(pa, RmmTestHost.GranuleSize) != MemoryAccessStatus.Ok)
        {
            return [];
        }

        byte[] page = new byte[RmmTestHost.GranuleSize];
        host.Host.Read(pa, page);
        return page;
    }
}
