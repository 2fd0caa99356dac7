using CcaSim.Rmm.Granules;
using CcaSim.Rmm.Recs;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Tests.Infrastructure;
using static CcaSim.Rmm.Tests.Infrastructure.RecGroupHelpers;

namespace CcaSim.Rmm.Tests.Rmi;

/// <summary>RMI_REC_CREATE (rmm-1.0.md §3.8).</summary>
public sealed class RmiRecCreateTests
{
    /// <summary>One row per failure condition of §3.8, in ACS order: condition, status.</summary>
    public static TheoryData<string, RmiStatus> Failures => new()
    {
        { "params_align", RmiStatus.ErrorInput },
        { "params_bound", RmiStatus.ErrorInput },
        { "params_pas_delegated", RmiStatus.ErrorInput },
        { "params_pas_secure", RmiStatus.ErrorInput },
        { "rec_align", RmiStatus.ErrorInput },
        { "rec_bound", RmiStatus.ErrorInput },
        { "rec_state_undelegated", RmiStatus.ErrorInput },
        { "rec_state_rd", RmiStatus.ErrorInput },
        { "rec_state_rec", RmiStatus.ErrorInput },
        { "rec_state_rec_aux", RmiStatus.ErrorInput },
        { "rd_align", RmiStatus.ErrorInput },
        { "rd_bound", RmiStatus.ErrorInput },
        { "rd_state_delegated", RmiStatus.ErrorInput },
        { "rd_state_rec", RmiStatus.ErrorInput },
        { "rd_state_destroyed", RmiStatus.ErrorInput },
        { "realm_state_active", RmiStatus.ErrorRealm },
        { "realm_state_system_off", RmiStatus.ErrorRealm },
        { "mpidr_index_wrong", RmiStatus.ErrorInput },
        { "mpidr_index_reused", RmiStatus.ErrorInput },
        { "mpidr_reserved_aff0_high", RmiStatus.ErrorInput },
        { "mpidr_reserved_above_aff3", RmiStatus.ErrorInput },
        { "mpidr_index_of_destroyed_rec", RmiStatus.ErrorInput },
        { "num_aux_0", RmiStatus.ErrorInput },
        { "num_aux_15", RmiStatus.ErrorInput },
        { "num_aux_17", RmiStatus.ErrorInput },
        { "aux_align", RmiStatus.ErrorInput },
        { "aux_bound", RmiStatus.ErrorInput },
        { "aux_state_undelegated", RmiStatus.ErrorInput },
        { "aux_state_rd", RmiStatus.ErrorInput },
        { "aux_state_rec_aux", RmiStatus.ErrorInput },
        { "aux_equals_rec", RmiStatus.ErrorInput },
        { "aux_duplicate", RmiStatus.ErrorInput },
        { "aux_zero", RmiStatus.ErrorInput },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void RecCreate_WhenConditionFails_ReturnsErrorAndChangesNothing(string condition, RmiStatus status)
    {
        var c = new Case();
        c.Break(condition);

        c.RunAndExpect(status);
    }

    /// <summary>Two broken conditions of different status: the one the spec orders first wins.</summary>
    public static TheoryData<string, string, RmiStatus> Orderings => new()
    {
        { "params_pas_delegated", "realm_state_system_off", RmiStatus.ErrorInput },
        { "rec_state_undelegated", "realm_state_active", RmiStatus.ErrorInput },
        { "rec_state_rd", "realm_state_system_off", RmiStatus.ErrorInput },
        { "realm_state_active", "mpidr_index_wrong", RmiStatus.ErrorRealm },
        { "realm_state_active", "mpidr_reserved_aff0_high", RmiStatus.ErrorRealm },
        { "realm_state_active", "num_aux_15", RmiStatus.ErrorRealm },
        // The spec leaves the aux conditions unordered against realm_state: TF-RMM checks num_aux against the
        // maximum and takes each aux granule before it looks at the REC, the RD or the realm.
        { "realm_state_active", "aux_state_undelegated", RmiStatus.ErrorInput },
        { "realm_state_system_off", "aux_duplicate", RmiStatus.ErrorInput },
        { "realm_state_active", "aux_equals_rec", RmiStatus.ErrorInput },
        { "realm_state_active", "aux_bound", RmiStatus.ErrorInput },
        { "realm_state_system_off", "num_aux_17", RmiStatus.ErrorInput },
        // num_aux below REC_AUX_COUNT is checked against the RD last: the realm state comes first.
        { "realm_state_system_off", "num_aux_0", RmiStatus.ErrorRealm },
    };

    [Theory]
    [MemberData(nameof(Orderings))]
    public void RecCreate_WhenTwoConditionsFail_ReportsTheEarlierOne(string first, string second, RmiStatus status)
    {
        var c = new Case();
        c.Break(first);
        c.Break(second);

        c.RunAndExpect(status);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void RecCreate_WhenValid_MakesRecAndAuxGranulesAndConsumesTheIndex(byte hashAlgo)
    {
        RmmTestHost host = NewHost();
        RealmHandle realm = host.CreateRealm(new RealmParams { HashAlgo = hashAlgo });
        ulong rec = host.Delegated();
        RecParams p = NewRecParams(host, mpidr: 0, runnable: true, pc: 0x1234_5000);
        byte[] rimBefore = Rim(host, realm);

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecCreate, realm.Rd, rec, host.WriteRecParams(p)), RmiStatus.Success);

        Assert.Equal(GranuleState.Rec, host.StateOf(rec));
        Assert.All(p.Aux, aux => Assert.Equal(GranuleState.RecAux, host.StateOf(aux)));
        Assert.Equal(ExpectedRimAfterRec(rimBefore, (RmiHashAlgorithm)hashAlgo, p), Rim(host, realm));

        // The realm now holds a REC: it cannot be destroyed, and index 0 is gone while index 1 is next.
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmDestroy, realm.Rd), RmiStatus.ErrorRealm);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecCreate, realm.Rd, host.Delegated(), host.WriteRecParams(NewRecParams(host, 0))), RmiStatus.ErrorInput);
        CreateRec(host, realm, mpidr: 1);
    }

    [Fact]
    public void RecCreate_WhenValid_InitialisesTheVcpuFromParams()
    {
        RmmTestHost host = NewHost();
        RealmHandle realm = host.CreateRealm();
        CreatedRec created = CreateRec(host, realm, mpidr: 0, runnable: true, pc: 0x4_2000);

        var ctx = host.Rmm.RecAt(created.Pa)!.Context;

        Assert.Equal(0x4_2000UL, ctx.Pc);
        Assert.Equal(created.Params.Gprs, ctx.X[..8]);
        Assert.All(ctx.X[8..], x => Assert.Equal(0UL, x));
        Assert.Equal(RecContextReset.Pstate, ctx.Pstate);
        Assert.Equal(RecContextReset.SctlrEl1, ctx.SctlrEl1);
    }

    [Fact]
    public void RecCreate_WhenNotRunnable_LeavesRimUnchanged()
    {
        RmmTestHost host = NewHost();
        RealmHandle realm = host.CreateRealm();
        byte[] rimBefore = Rim(host, realm);

        CreatedRec created = CreateRec(host, realm, mpidr: 0, runnable: false);

        Assert.Equal(GranuleState.Rec, host.StateOf(created.Pa));
        Assert.Equal(rimBefore, Rim(host, realm));

        // A later RUNNABLE REC is measured on top of the unchanged RIM.
        RecParams p = NewRecParams(host, mpidr: 1);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecCreate, realm.Rd, host.Delegated(), host.WriteRecParams(p)), RmiStatus.Success);
        Assert.Equal(ExpectedRimAfterRec(rimBefore, RmiHashAlgorithm.Sha256, p), Rim(host, realm));
    }

    [Theory]
    [InlineData(1, 0x1UL)]
    [InlineData(2, 0x3UL)]
    public void RecCreate_WhenRealmHasMaxRecs_ReturnsErrorRealmWhateverTheMpidr(int maxRecsOrder, ulong nextMpidr)
    {
        RmmTestHost host = NewHost(RealmLifecycleHelpers.WithFeatures(f => f with { MaxRecsOrder = maxRecsOrder }));
        RealmHandle realm = host.CreateRealm();
        for (ulong mpidr = 0; mpidr < nextMpidr; mpidr++)
        {
            CreateRec(host, realm, mpidr: mpidr);
        }

        // The next index (valid MPIDR) and a wrong one both meet num_recs first.
        foreach (ulong mpidr in new[] { nextMpidr, nextMpidr + 1 })
        {
            ulong rec = host.Delegated();
            RecParams p = NewRecParams(host, mpidr);
            RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecCreate, realm.Rd, rec, host.WriteRecParams(p)), RmiStatus.ErrorRealm);
            Assert.Equal(GranuleState.Delegated, host.StateOf(rec));
            Assert.All(p.Aux, aux => Assert.Equal(GranuleState.Delegated, host.StateOf(aux)));
        }
    }

    /// <summary>
    /// num_recs counts the RECs that exist (TF-RMM: the RD reference count, which REC_DESTROY drops), not REC
    /// indices: once a REC is destroyed the realm may create the next index even past 2^MAX_RECS_ORDER − 1.
    /// </summary>
    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 3)]
    public void RecCreate_AfterADestroyBelowMaxRecs_CreatesTheNextIndex(int maxRecsOrder, int recsBefore)
    {
        RmmTestHost host = NewHost(RealmLifecycleHelpers.WithFeatures(f => f with { MaxRecsOrder = maxRecsOrder }));
        RealmHandle realm = host.CreateRealm();
        var recs = new List<ulong>();
        for (int i = 0; i < recsBefore; i++)
        {
            recs.Add(CreateRec(host, realm, mpidr: (ulong)i).Pa);
        }

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecDestroy, recs[0]), RmiStatus.Success);
        ulong rec = host.Delegated();
        RecParams p = NewRecParams(host, (ulong)recsBefore);

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecCreate, realm.Rd, rec, host.WriteRecParams(p)), RmiStatus.Success);

        Assert.Equal(GranuleState.Rec, host.StateOf(rec));

        // The realm is full again: the next index meets num_recs.
        RecParams next = NewRecParams(host, (ulong)recsBefore + 1);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecCreate, realm.Rd, host.Delegated(), host.WriteRecParams(next)), RmiStatus.ErrorRealm);
    }

    [Fact]
    public void RecCreate_AfterSixteenRecs_TheNextIndexIsAff1One()
    {
        RmmTestHost host = NewHost();
        RealmHandle realm = host.CreateRealm();
        for (ulong aff0 = 0; aff0 < 16; aff0++)
        {
            CreateRec(host, realm, mpidr: aff0);
        }

        // Index 16 cannot be spelled in Aff0 (bits [7:4] are reserved) nor as a plain 16.
        foreach (ulong wrong in new ulong[] { 0x10, 0x1_0000, 0x100_0000, 0x101 })
        {
            ulong rec = host.Delegated();
            RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecCreate, realm.Rd, rec, host.WriteRecParams(NewRecParams(host, wrong))), RmiStatus.ErrorInput);
            Assert.Equal(GranuleState.Delegated, host.StateOf(rec));
        }

        CreatedRec aff1 = CreateRec(host, realm, mpidr: 0x100);
        Assert.Equal(16UL, host.Rmm.RecAt(aff1.Pa)!.Index);
        Assert.Equal(0x8000_0100UL, host.Rmm.RecAt(aff1.Pa)!.Context.MpidrEl1 & 0xFFFF_FFFF_FFFF);
        CreateRec(host, realm, mpidr: 0x101);
    }

    /// <summary>MPIDR → REC index (§3.8): Aff0[3:0] | Aff1 &lt;&lt; 4 | Aff2 &lt;&lt; 12 | Aff3 &lt;&lt; 20.</summary>
    [Theory]
    [InlineData(0x0000_0000UL, 0UL)]
    [InlineData(0x0000_000FUL, 15UL)]
    [InlineData(0x0000_0100UL, 16UL)]
    [InlineData(0x0000_FF0FUL, 0xFFFUL)]
    [InlineData(0x0001_0000UL, 0x1000UL)]
    [InlineData(0x00FF_0000UL, 0xF_F000UL)]
    [InlineData(0x0100_0000UL, 0x10_0000UL)]
    [InlineData(0xFF00_0000UL, 0xFF0_0000UL)]
    [InlineData(0x0302_0105UL, 0x30_2015UL)]
    public void MpidrToRecIndex_PacksAffinityFields(ulong mpidr, ulong index) =>
        Assert.Equal(index, RealmManagementMonitor.MpidrToRecIndex(mpidr));

    /// <summary>The vCPU's MPIDR_EL1 keeps Aff0..Aff2 in place and moves Aff3 to [39:32].</summary>
    [Theory]
    [InlineData(0x0302_0105UL, 0x03_8002_0105UL)]
    [InlineData(0xFF00_0000UL, 0xFF_8000_0000UL)]
    [InlineData(0x00FF_FF0FUL, 0x00_80FF_FF0FUL)]
    public void MpidrToMpidrEl1_MovesAff3(ulong mpidr, ulong mpidrEl1) =>
        Assert.Equal(mpidrEl1, RealmManagementMonitor.MpidrToMpidrEl1(mpidr));

    /// <summary>A NEW realm with one REC (index 0) and a valid request for index 1; each row breaks it.</summary>
    private sealed class Case
    {
        private readonly RmmTestHost _host = NewHost();
        private readonly RealmHandle _realm;
        private readonly CreatedRec _existing;
        private readonly ulong _validRec;
        private readonly RecParams _validParams;
        private readonly List<(ulong Pa, GranuleState State)> _watched = [];
        private ulong _rd;
        private ulong _rec;
        private RecParams _params;
        private ulong? _paramsPa;
        private bool _realmStillNew = true;

        public Case()
        {
            _realm = _host.CreateRealm();
            _existing = CreateRec(_host, _realm, mpidr: 0);
            _validRec = _host.Delegated();
            _validParams = NewRecParams(_host, mpidr: 1);
            _rd = _realm.Rd;
            _rec = _validRec;
            _params = Clone(_validParams);
        }

        public void Break(string condition)
        {
            switch (condition)
            {
                case "params_align": _paramsPa = _host.WriteRecParams(_params) + 8; break;
                case "params_bound": _paramsPa = OutOfPool; break;
                case "params_pas_delegated": _paramsPa = _host.Delegated(); break;
                case "params_pas_secure": _paramsPa = SecurePa(_host); break;
                case "rec_align": _rec = _validRec + 8; break;
                case "rec_bound": _rec = OutOfPool; break;
                case "rec_state_undelegated": _rec = _host.NsGranule(); break;
                case "rec_state_rd": _rec = _realm.Rd; break;
                case "rec_state_rec": _rec = _existing.Pa; break;
                case "rec_state_rec_aux": _rec = _existing.Params.Aux[3]; break;
                case "rd_align": _rd = _realm.Rd + 8; break;
                case "rd_bound": _rd = OutOfPool; break;
                case "rd_state_delegated": _rd = _host.Delegated(); break;
                case "rd_state_rec": _rd = _existing.Pa; break;
                case "rd_state_destroyed": _rd = DestroyedRd(_host); break;
                case "realm_state_active":
                    Activate(_host, _realm);
                    _realmStillNew = false;
                    break;
                case "realm_state_system_off":
                    SystemOff(_host, _realm);
                    _realmStillNew = false;
                    break;
                case "mpidr_index_wrong": _params.Mpidr = 2; break;
                case "mpidr_index_reused": _params.Mpidr = 0; break;
                case "mpidr_reserved_aff0_high": _params.Mpidr = 0x11; break;
                case "mpidr_reserved_above_aff3": _params.Mpidr = 1UL | (1UL << 32); break;
                case "mpidr_index_of_destroyed_rec":
                    RmmTestHost.Expect(_host.Smc(RmiFunctionId.RmiRecDestroy, _existing.Pa), RmiStatus.Success);
                    _params.Mpidr = 0;
                    break;
                case "num_aux_0": _params.NumAux = 0; break;
                case "num_aux_15": _params.NumAux = 15; break;
                case "num_aux_17": _params.NumAux = 17; break;
                case "aux_align": _params.Aux[3] += 8; break;
                case "aux_bound": _params.Aux[15] = OutOfPool; break;
                case "aux_state_undelegated": _params.Aux[5] = _host.NsGranule(); break;
                case "aux_state_rd": _params.Aux[0] = _realm.Rd; break;
                case "aux_state_rec_aux": _params.Aux[9] = _existing.Params.Aux[9]; break;
                case "aux_equals_rec": _params.Aux[7] = _validRec; break;
                case "aux_duplicate": _params.Aux[11] = _params.Aux[2]; break;
                case "aux_zero": _params.Aux[1] = 0; break;
                default: throw new ArgumentOutOfRangeException(nameof(condition), condition, null);
            }
        }

        public void RunAndExpect(RmiStatus status)
        {
            ulong paramsPa = _paramsPa ?? _host.WriteRecParams(_params);
            Watch(_validRec);
            Watch(_rec);
            Watch(_rd);
            Watch(_existing.Pa);
            foreach (ulong aux in _params.Aux.Concat(_validParams.Aux).Concat(_existing.Params.Aux))
            {
                Watch(aux);
            }

            byte[] rim = Rim(_host, _realm);

            RmmTestHost.Expect(_host.Smc(RmiFunctionId.RmiRecCreate, _rd, _rec, paramsPa), status);

            Assert.All(_watched, w => Assert.Equal(w.State, _host.StateOf(w.Pa)));
            Assert.Equal(rim, Rim(_host, _realm));
            if (_realmStillNew)
            {
                // Nothing was consumed: the unbroken request (index 1, same granules) still succeeds.
                RmmTestHost.Expect(_host.Smc(RmiFunctionId.RmiRecCreate, _realm.Rd, _validRec, _host.WriteRecParams(_validParams)), RmiStatus.Success);
            }
        }

        private void Watch(ulong pa)
        {
            if (pa % RmmTestHost.GranuleSize == 0 && _host.Platform.Memory.Contains(pa, RmmTestHost.GranuleSize))
            {
                _watched.Add((pa, _host.StateOf(pa)));
            }
        }
    }
}
