using CcaSim.Rmm.Granules;
using CcaSim.Rmm.Measurement;
using CcaSim.Rmm.Realms;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rsi;
using CcaSim.Rmm.Rtt;
using CcaSim.Rmm.Tests.Infrastructure;
using static CcaSim.Rmm.Tests.Infrastructure.RttGroupHelpers;

namespace CcaSim.Rmm.Tests.Rmi;

/// <summary>
/// rmm-1.0.md §11, "corner cases a naive model gets wrong", one test per case. Cases 5, 9, 10 and 11 are
/// observable only through RSI calls, made here by a scripted realm. The RIM is not readable through any RMI
/// command, so the host-side RIM cases read it from the RD as the realm side would.
/// </summary>
public sealed class CornerCaseTests
{
    private const ulong Ipa = L1Span;

    // ---- 1. RIM depends on the RTT shape, on REC creation order, and only RUNNABLE RECs are measured ----

    [Fact]
    public void Case01_RimOfInitRipas_DependsOnRttShape()
    {
        var host = new RmmTestHost();
        RealmHandle block = host.CreateRealm(new RealmParams { Vmid = 1 });
        RealmHandle pages = host.CreateRealm(new RealmParams { Vmid = 2 });
        host.CreateRtts(block, Ipa, 2);
        host.CreateRtts(pages, Ipa, 3);

        host.InitRipas(block, Ipa, Ipa + L2Span);
        host.InitRipas(pages, Ipa, Ipa + L2Span);

        byte[] expectedBlock = InitialRim(block);
        Measurements.ExtendRipas(RmiHashAlgorithm.Sha256, expectedBlock, Ipa, Ipa + L2Span);
        byte[] expectedPages = InitialRim(pages);
        for (ulong a = Ipa; a < Ipa + L2Span; a += L3Span)
        {
            Measurements.ExtendRipas(RmiHashAlgorithm.Sha256, expectedPages, a, a + L3Span);
        }

        Assert.Equal(expectedBlock, Rim(host, block));
        Assert.Equal(expectedPages, Rim(host, pages));
        Assert.NotEqual(Rim(host, block), Rim(host, pages));
    }

    [Fact]
    public void Case01_RimOfRecCreate_DependsOnOrderAndCountsOnlyRunnableRecs()
    {
        var host = new RmmTestHost();
        RealmHandle ab = host.CreateRealm(new RealmParams { Vmid = 1 });
        RealmHandle ba = host.CreateRealm(new RealmParams { Vmid = 2 });
        RealmHandle abIdle = host.CreateRealm(new RealmParams { Vmid = 3 });
        RealmHandle abc = host.CreateRealm(new RealmParams { Vmid = 4 });

        host.CreateRec(ab, 0, pc: 0x1000);
        host.CreateRec(ab, 1, pc: 0x2000);
        host.CreateRec(ba, 0, pc: 0x2000);
        host.CreateRec(ba, 1, pc: 0x1000);
        host.CreateRec(abIdle, 0, pc: 0x1000);
        host.CreateRec(abIdle, 1, pc: 0x2000);
        host.CreateRec(abIdle, 2, runnable: false, pc: 0x3000);
        host.CreateRec(abc, 0, pc: 0x1000);
        host.CreateRec(abc, 1, pc: 0x2000);
        host.CreateRec(abc, 2, pc: 0x3000);

        Assert.NotEqual(Rim(host, ab), Rim(host, ba));
        Assert.Equal(Rim(host, ab), Rim(host, abIdle));
        Assert.NotEqual(Rim(host, ab), Rim(host, abc));
    }

    // ---- 2. rec_count never decreases ----

    [Fact]
    public void Case02_RecDestroy_DoesNotFreeTheMpidrIndex()
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm();
        ulong rec0 = host.CreateRec(realm, 0);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecDestroy, rec0), RmiStatus.Success);

        ulong rec = host.Delegated();
        var p = new RecParams { Mpidr = 0, NumAux = RealmManagementMonitor.RecAuxCount };
        for (int i = 0; i < p.Aux.Length; i++)
        {
            p.Aux[i] = host.Delegated();
        }

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecCreate, realm.Rd, rec, host.WriteRecParams(p)), RmiStatus.ErrorInput);
        Assert.Equal(GranuleState.Delegated, host.StateOf(rec));
        Assert.Equal(GranuleState.Delegated, host.StateOf(p.Aux[0]));

        p.Mpidr = 1;
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecCreate, realm.Rd, rec, host.WriteRecParams(p)), RmiStatus.Success);
    }

    // ---- 3. RIPAS after DATA_CREATE, DATA_CREATE_UNKNOWN, DATA_DESTROY and RTT_DESTROY ----

    [Fact]
    public void Case03_RipasTransitionsOfDataAndRttCommands()
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm();
        host.CreateRtts(realm, Ipa, 3);
        host.InitRipas(realm, Ipa + (2 * L3Span), Ipa + (3 * L3Span)); // page 2 RAM
        ulong p0 = Ipa, p1 = Ipa + L3Span, p2 = Ipa + (2 * L3Span), p3 = Ipa + (3 * L3Span);

        // Page 3 DESTROYED: RAM, assigned, destroyed.
        host.InitRipas(realm, p3, p3 + L3Span);
        host.AssignUnknown(realm, p3);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiDataDestroy, realm.Rd, p3), RmiStatus.Success);
        host.AssertEntry(realm, p3, 3, 3, RmiRttEntryState.Unassigned, 0, Ripas.Destroyed);

        ulong d0 = host.Delegated();
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiDataCreate, realm.Rd, d0, p0, host.NsGranule(), 0), RmiStatus.Success);
        ulong d1 = host.AssignUnknown(realm, p1);
        ulong d2 = host.AssignUnknown(realm, p2);
        ulong d3 = host.AssignUnknown(realm, p3);

        host.AssertEntry(realm, p0, 3, 3, RmiRttEntryState.Assigned, d0, Ripas.Ram);       // forced RAM
        host.AssertEntry(realm, p1, 3, 3, RmiRttEntryState.Assigned, d1, Ripas.Empty);     // kept EMPTY
        host.AssertEntry(realm, p2, 3, 3, RmiRttEntryState.Assigned, d2, Ripas.Ram);       // kept RAM
        host.AssertEntry(realm, p3, 3, 3, RmiRttEntryState.Assigned, d3, Ripas.Destroyed); // kept DESTROYED

        foreach (ulong p in new[] { p0, p1, p2, p3 })
        {
            RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiDataDestroy, realm.Rd, p), RmiStatus.Success);
        }

        host.AssertEntry(realm, p0, 3, 3, RmiRttEntryState.Unassigned, 0, Ripas.Destroyed);
        host.AssertEntry(realm, p1, 3, 3, RmiRttEntryState.Unassigned, 0, Ripas.Empty);
        host.AssertEntry(realm, p2, 3, 3, RmiRttEntryState.Unassigned, 0, Ripas.Destroyed);
        host.AssertEntry(realm, p3, 3, 3, RmiRttEntryState.Unassigned, 0, Ripas.Destroyed);

        // The table still holds EMPTY entries; destroying it gives DESTROYED all the same.
        RmmTestHost.Expect(host.RttDestroy(realm.Rd, Ipa, 3), RmiStatus.Success);
        host.AssertEntry(realm, Ipa, 3, 2, RmiRttEntryState.Unassigned, 0, Ripas.Destroyed);
    }

    // ---- 4. INIT_RIPAS re-measures RAM entries and stays within one table ----

    [Fact]
    public void Case04_InitRipas_RemeasuresRamEntriesAndStopsAtTheEndOfTheTable()
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm();
        host.CreateRtts(realm, Ipa, 3);
        host.CreateRtts(realm, Ipa + L2Span, 3);
        host.InitRipas(realm, Ipa, Ipa + L3Span);
        byte[] once = Rim(host, realm);

        host.InitRipas(realm, Ipa, Ipa + L3Span);

        byte[] expected = (byte[])once.Clone();
        Measurements.ExtendRipas(RmiHashAlgorithm.Sha256, expected, Ipa, Ipa + L3Span);
        Assert.Equal(expected, Rim(host, realm));
        host.AssertEntry(realm, Ipa, 3, 3, RmiRttEntryState.Unassigned, 0, Ripas.Ram);

        ulong last = Ipa + L2Span - L3Span;
        SmcResult r = host.Smc(RmiFunctionId.RmiRttInitRipas, realm.Rd, last, last + (2 * L3Span));
        RmmTestHost.Expect(r, RmiStatus.Success);
        Assert.Equal(Ipa + L2Span, r.X1);
        host.AssertEntry(realm, Ipa + L2Span, 3, 3, RmiRttEntryState.Unassigned, 0, Ripas.Empty);
    }

    // ---- 6. ERROR_RTT index: the level reached, except wrong-state cases (the entry's level) ----

    [Fact]
    public void Case06_ErrorRttIndex_IsLevelReachedOrLevelOfWrongEntry()
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm();
        host.CreateRtts(realm, Ipa, 1);

        // Walk stops at level 1 (no L2 table): index 1, not the requested 3.
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiDataCreateUnknown, realm.Rd, host.Delegated(), Ipa), RmiStatus.ErrorRtt, 1);
        RmmTestHost.Expect(host.RttCreate(realm.Rd, host.Delegated(), Ipa, 3), RmiStatus.ErrorRtt, 1);

        // Wrong entry state: the entry's level.
        host.CreateRtts(realm, Ipa, 3);
        host.AssignUnknown(realm, Ipa);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiDataCreateUnknown, realm.Rd, host.Delegated(), Ipa), RmiStatus.ErrorRtt, 3);
        RmmTestHost.Expect(host.RttCreate(realm.Rd, host.Delegated(), Ipa, 2), RmiStatus.ErrorRtt, 1);
        RmmTestHost.Expect(host.RttDestroy(realm.Rd, Ipa, 3), RmiStatus.ErrorRtt, 3);
    }

    // ---- 7. REALM_CREATE fails only with ERROR_INPUT; REC_ENTER uses ERROR_REALM with an index ----

    [Fact]
    public void Case07_RealmCreateErrorsAreAllErrorInput()
    {
        var host = new RmmTestHost();
        host.CreateRealm(new RealmParams { Vmid = 5 });
        RealmParams[] bad =
        [
            new() { Vmid = 5 },                   // VMID in use
            new() { HashAlgo = 2 },               // malformed
            new() { NumBps = 0 },                 // reserved value
            new() { S2sz = 49 },                  // above the feature S2SZ
            new() { RttLevelStart = 1 },          // geometry inconsistent with s2sz
            new() { Flags = RealmParamsLayout.FlagSve }, // SVE not offered
        ];
        foreach (RealmParams p in bad)
        {
            p.RttBase = host.Delegated();
            ulong rd = host.Delegated();
            RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmCreate, rd, host.WriteRealmParams(p)), RmiStatus.ErrorInput);
            Assert.Equal(GranuleState.Delegated, host.StateOf(rd));
        }
    }

    [Fact]
    public void Case07_RecEnter_ReportsRealmNewAsIndex0AndSystemOffAsIndex1()
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm();
        ulong rec = host.CreateRec(realm);
        ulong run = host.NsGranule();

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecEnter, rec, run), RmiStatus.ErrorRealm, 0);

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmActivate, realm.Rd), RmiStatus.Success);
        host.Rmm.RealmAt(realm.Rd)!.TransitionTo(RealmState.SystemOff); // what PSCI SYSTEM_OFF from the realm does

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecEnter, rec, run), RmiStatus.ErrorRealm, 1);
    }

    // ---- 8. A destroyed RD fails rd_state (ERROR_INPUT), not ERROR_REALM ----

    [Fact]
    public void Case08_CommandsOnDestroyedRealm_FailRdStateWithErrorInput()
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm();
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmDestroy, realm.Rd), RmiStatus.Success);
        Assert.Equal(GranuleState.Delegated, host.StateOf(realm.Rd));
        ulong rd = realm.Rd;

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmActivate, rd), RmiStatus.ErrorInput);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmDestroy, rd), RmiStatus.ErrorInput);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecAuxCount, rd), RmiStatus.ErrorInput);
        RmmTestHost.Expect(host.RttCreate(rd, host.Delegated(), 0, 1), RmiStatus.ErrorInput);
        RmmTestHost.Expect(host.RttDestroy(rd, 0, 1), RmiStatus.ErrorInput);
        RmmTestHost.Expect(host.RttFold(rd, 0, 1), RmiStatus.ErrorInput);
        RmmTestHost.Expect(host.ReadEntryRaw(rd, 0, 0), RmiStatus.ErrorInput);
        RmmTestHost.Expect(host.MapNs(rd, Ns, 1, NsAttrs), RmiStatus.ErrorInput);
        RmmTestHost.Expect(host.UnmapNs(rd, Ns, 1), RmiStatus.ErrorInput);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiDataCreateUnknown, rd, host.Delegated(), 0), RmiStatus.ErrorInput);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiDataDestroy, rd, 0), RmiStatus.ErrorInput);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRttInitRipas, rd, 0, L3Span), RmiStatus.ErrorInput);
    }

    // ---- 12. READ_ENTRY reports unprotected entries and TABLE entries with RIPAS EMPTY ----

    [Fact]
    public void Case12_ReadEntry_ReportsRipasEmptyForUnprotectedAndTableEntries()
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm();
        host.CreateRtts(realm, Ipa, 2);
        host.InitRipas(realm, Ipa, Ipa + L2Span);
        ulong l3 = host.Delegated();
        RmmTestHost.Expect(host.RttCreate(realm.Rd, l3, Ipa, 3), RmiStatus.Success);
        host.CreateRtts(realm, Ns, 3);
        RmmTestHost.Expect(host.MapNs(realm.Rd, Ns, 3, 0x9000_0000 | NsAttrs), RmiStatus.Success);

        host.AssertEntry(realm, Ipa, 3, 3, RmiRttEntryState.Unassigned, 0, Ripas.Ram);            // children of a RAM entry
        host.AssertEntry(realm, Ipa, 2, 2, RmiRttEntryState.Table, l3, Ripas.Empty);            // the TABLE itself: EMPTY
        host.AssertEntry(realm, Ns, 3, 3, RmiRttEntryState.Assigned, 0x9000_0000 | NsAttrs, Ripas.Empty);
        host.AssertEntry(realm, Ns + L3Span, 3, 3, RmiRttEntryState.Unassigned, 0, Ripas.Empty);
    }

    // ---- 13. s2sz, sve_vl, num_bps, num_wps, pmu_num_ctrs are 8-bit fields in 8-byte slots ----

    [Fact]
    public void Case13_JunkInUpperBytesOfEightBitParams_NeitherFailsRealmCreateNorChangesRim()
    {
        var host = new RmmTestHost();
        RealmHandle clean = host.CreateRealm(new RealmParams { Vmid = 1 });

        var p = new RealmParams { Vmid = 2, RttBase = host.DelegatedRun(1) };
        byte[] page = new byte[RmmTestHost.GranuleSize];
        p.Encode(page);
        foreach (int slot in new[] { RealmParamsLayout.S2sz, RealmParamsLayout.SveVl, RealmParamsLayout.NumBps, RealmParamsLayout.NumWps, RealmParamsLayout.PmuNumCtrs })
        {
            page[slot + 1] = 0xA5;
            page[slot + 2] = 0x5A;
            page[slot + 3] = 0xFF;
        }

        ulong paramsPa = host.NsGranule();
        host.Host.Write(paramsPa, page);
        ulong rd = host.Delegated();

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmCreate, rd, paramsPa), RmiStatus.Success);

        var junky = new RealmHandle(rd, p, paramsPa);
        Assert.Equal(Rim(host, clean), Rim(host, junky));

        // s2sz was read as 48: the IPA space ends at 2^48.
        RmmTestHost.Expect(host.ReadEntryRaw(rd, (1UL << 48) - (1UL << 39), 0), RmiStatus.Success);
        RmmTestHost.Expect(host.ReadEntryRaw(rd, 1UL << 48, 0), RmiStatus.ErrorInput);
    }

    private static byte[] Rim(RmmTestHost host, RealmHandle realm) => host.Rmm.RealmAt(realm.Rd)!.Measurements[0].ToArray();

    /// <summary>§8.1 for the test's default parameters (SHA-256, 48 bits, 1 BP, 1 WP, no flags).</summary>
    private static byte[] InitialRim(RealmHandle realm)
    {
        byte[] rim = new byte[Measurements.SlotSize];
        RealmParams p = realm.Params;
        Measurements.InitRim(RmiHashAlgorithm.Sha256, p.Flags, p.S2sz, p.SveVl, p.NumBps, p.NumWps, p.PmuNumCtrs, rim);
        return rim;
    }

    // ---- 5. RIPAS REJECT is only observable for requests to RAM ----

    [Theory]
    [InlineData(Ripas.Ram, 1UL)]
    [InlineData(Ripas.Empty, 0UL)]
    public void Case05_RipasReject_IsReportedOnlyForRequestsToRam(Ripas target, ulong reportedResponse)
    {
        var r = new RealmSide();
        r.Script.Enqueue((ulong)RsiFunctionId.RsiIpaStateSet, 0x1000, 0x3000, (ulong)target, 0);
        Assert.Equal(RecExitReason.RipasChange, r.EnterReason());

        Assert.Equal(RecExitReason.Fiq, r.EnterReason(RecRunLayout.EnterFlagRipasResponse));

        ulong[] x = Assert.Single(r.Steps).X;
        Assert.Equal([0UL, 0x1000UL, reportedResponse], x[..3]);
    }

    // ---- 9. TOKEN_CONTINUE after the token was fully read → ERROR_STATE; TOKEN_INIT always restarts ----

    [Fact]
    public void Case09_TokenContinueAfterFullRead_ReturnsErrorState_AndInitRestarts()
    {
        var r = new RealmSide();
        const ulong Init = (ulong)RsiFunctionId.RsiAttestationTokenInit;
        const ulong Continue = (ulong)RsiFunctionId.RsiAttestationTokenContinue;
        r.Script.Enqueue(Init, 1, 2, 3, 4, 5, 6, 7, 8);
        r.Script.Enqueue(Continue, RealmSide.Ram, 0, 0x1000);
        r.Script.Enqueue(Continue, RealmSide.Ram, 0, 0x1000);
        r.Script.Enqueue(Init, 1, 2, 3, 4, 5, 6, 7, 8);
        r.Script.Enqueue(Continue, RealmSide.Ram, 0, 0x1000);

        Assert.Equal(RecExitReason.Fiq, r.EnterReason());

        ulong[] status = [.. r.Steps.Select(c => c.X[0])];
        Assert.Equal([0UL, 0UL, 2UL, 0UL, 0UL], status);
        Assert.Equal(r.Steps[1].X[1], r.Steps[4].X[1]);
    }

    // ---- 10. RSI results: x4 and up preserved unless written; MEASUREMENT_READ zero-fills x5..x8 for SHA-256 ----

    [Fact]
    public void Case10_RsiKeepsUnwrittenRegisters_AndMeasurementReadZeroFillsSha256()
    {
        var r = new RealmSide();
        r.Script.Enqueue((ulong)RsiFunctionId.RsiVersion, 0x10000, 0x22, 0x33, 0x44, 0x55, 0x66);
        r.Script.Enqueue((ulong)RsiFunctionId.RsiMeasurementRead, 0, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88);

        Assert.Equal(RecExitReason.Fiq, r.EnterReason());

        Assert.Equal([0UL, 0x10000UL, 0x10000UL, 0UL, 0x44UL, 0x55UL, 0x66UL], r.Steps[0].X[..7]);
        ulong[] read = r.Steps[1].X;
        Assert.All(read[1..5], v => Assert.NotEqual(0UL, v));
        Assert.Equal([0UL, 0UL, 0UL, 0UL], read[5..9]);
    }

    // ---- 11. The RsiHostCall structure is 256-byte aligned, not 4 KiB ----

    [Theory]
    [InlineData(0x1100UL, RecExitReason.HostCall)]
    [InlineData(0x1F00UL, RecExitReason.HostCall)]
    [InlineData(0x1080UL, RecExitReason.Fiq)]
    public void Case11_HostCall_Needs256ByteAlignmentOnly(ulong addr, RecExitReason exit)
    {
        var r = new RealmSide();
        r.Script.Enqueue((ulong)RsiFunctionId.RsiHostCall, addr);

        Assert.Equal(exit, r.EnterReason());

        if (exit == RecExitReason.Fiq)
        {
            Assert.Equal((ulong)RsiStatus.ErrorInput, Assert.Single(r.Steps).X[0]);
        }
    }
}
