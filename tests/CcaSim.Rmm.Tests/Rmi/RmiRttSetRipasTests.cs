using CcaSim.Rmm.Recs;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rtt;
using CcaSim.Rmm.Tests.Infrastructure;
using static CcaSim.Rmm.Tests.Infrastructure.DataRipasHelpers;

namespace CcaSim.Rmm.Tests.Rmi;

/// <summary>RMI_RTT_SET_RIPAS (rmm-1.0.md §3.21, §5.5).</summary>
public sealed class RmiRttSetRipasTests
{
    private const ulong RequestBase = 0x1000;
    private const ulong RequestTop = 0x10000;
    private const ulong CallTop = 0x4000;

    /// <summary>
    /// One row per failure condition of §3.21 in ACS order, then rows breaking two conditions. The base state: an
    /// ACTIVE realm with an L3 table at IPA 0, a REC whose pending request is [0x1000, 0x10000) → RAM with
    /// next = 0x1000, and the call (rd, rec, 0x1000, 0x4000).
    /// </summary>
    public static TheoryData<string, RmiStatus, int> Failures => new()
    {
        { "rd_align", RmiStatus.ErrorInput, 0 },
        { "rd_bound", RmiStatus.ErrorInput, 0 },
        { "rd_state_delegated", RmiStatus.ErrorInput, 0 },
        { "rd_state_destroyed", RmiStatus.ErrorInput, 0 },
        { "rec_align", RmiStatus.ErrorInput, 0 },
        { "rec_bound", RmiStatus.ErrorInput, 0 },
        { "rec_gran_state_delegated", RmiStatus.ErrorInput, 0 },
        { "rec_gran_state_rd", RmiStatus.ErrorInput, 0 },
        { "rec_owner", RmiStatus.ErrorRec, 0 },
        { "rec_running", RmiStatus.ErrorRec, 0 },
        { "size_valid_equal", RmiStatus.ErrorInput, 0 },
        { "size_valid_below", RmiStatus.ErrorInput, 0 },
        { "base_bound_ahead_of_next", RmiStatus.ErrorInput, 0 },
        { "base_bound_behind_next", RmiStatus.ErrorInput, 0 },
        { "base_bound_no_request", RmiStatus.ErrorInput, 0 },
        { "top_bound", RmiStatus.ErrorInput, 0 },
        { "base_align_l2", RmiStatus.ErrorRtt, 2 },
        { "top_gran_align", RmiStatus.ErrorInput, 0 },
        { "no_progress_destroyed", RmiStatus.ErrorRtt, 3 },
        { "no_progress_l2_entry_past_top", RmiStatus.ErrorRtt, 2 },
        { "base_bound_beats_base_align", RmiStatus.ErrorInput, 0 },
        { "top_gran_align_beats_no_progress_l2", RmiStatus.ErrorInput, 0 },
        { "top_gran_align_beats_no_progress_destroyed", RmiStatus.ErrorInput, 0 },
        // size_valid is unordered against rd_*, rec_* and rec_owner in the spec: TF-RMM checks it first.
        { "size_valid_beats_rec_owner", RmiStatus.ErrorInput, 0 },
        { "size_valid_beats_rec_running", RmiStatus.ErrorInput, 0 },
        { "size_valid_beats_rec_gran_state", RmiStatus.ErrorInput, 0 },
        { "rec_owner_beats_base_bound", RmiStatus.ErrorRec, 0 },
        { "top_bound_beats_no_progress", RmiStatus.ErrorInput, 0 },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void SetRipas_WhenConditionFails_ReturnsSpecErrorAndChangesNothing(string condition, RmiStatus status, int index)
    {
        RmmTestHost host = NewHost();
        RealmHandle realm = RealmWithL3(host);
        if (condition is "no_progress_destroyed" or "top_gran_align_beats_no_progress_destroyed" or "top_bound_beats_no_progress")
        {
            SetUnassignedRipas(host, realm, RequestBase, Ripas.Destroyed);
        }

        ulong rec = host.CreateRec(realm);
        Activate(host, realm);
        RipasChangeRequest request = Request(host, rec, RequestBase, RequestTop, Ripas.Ram);
        ulong rd = realm.Rd;
        ulong recArg = rec;
        ulong baseIpa = RequestBase;
        ulong top = CallTop;
        ulong end = host.Platform.Memory.End;
        RealmHandle? other = null;

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
            case "rec_align": recArg += 0x800; break;
            case "rec_bound": recArg = end; break;
            case "rec_gran_state_delegated": recArg = host.Delegated(); break;
            case "rec_gran_state_rd": recArg = rd; break;
            case "rec_owner" or "size_valid_beats_rec_owner" or "rec_owner_beats_base_bound":
                other = RealmWithL3(host, p: new RealmParams { Vmid = 1 });
                recArg = host.CreateRec(other);
                Activate(host, other);
                Request(host, recArg, RequestBase, RequestTop, Ripas.Ram);
                top = condition == "size_valid_beats_rec_owner" ? baseIpa : top;
                baseIpa = condition == "rec_owner_beats_base_bound" ? RequestBase + L3Span : baseIpa;
                break;
            case "rec_running": host.Rmm.RecAt(rec)!.State = RecState.Running; break;
            case "size_valid_beats_rec_running": host.Rmm.RecAt(rec)!.State = RecState.Running; top = baseIpa; break;
            case "size_valid_beats_rec_gran_state": recArg = host.Delegated(); top = baseIpa - L3Span; break;
            case "size_valid_equal": top = baseIpa; break;
            case "size_valid_below": top = baseIpa - L3Span; break;
            case "base_bound_ahead_of_next": baseIpa = RequestBase + L3Span; break;
            case "base_bound_behind_next": request = Request(host, rec, RequestBase, RequestTop, Ripas.Ram, next: RequestBase + L3Span); break;
            case "base_bound_no_request": host.Rmm.RecAt(rec)!.PendingRipas = null; break;
            case "top_bound": top = RequestTop + L3Span; break;
            case "base_align_l2":
                request = Request(host, rec, L2Span + RequestBase, L2Span + RequestTop, Ripas.Ram);
                baseIpa = L2Span + RequestBase;
                top = L2Span + CallTop;
                break;
            case "top_gran_align": top = CallTop - 0x800; break;
            case "no_progress_destroyed": break;
            case "no_progress_l2_entry_past_top":
                request = Request(host, rec, L2Span, 2 * L2Span, Ripas.Ram);
                baseIpa = L2Span;
                top = L2Span + L3Span;
                break;
            case "base_bound_beats_base_align":
                request = Request(host, rec, L2Span + RequestBase, L2Span + RequestTop, Ripas.Ram);
                baseIpa = L2Span + RequestBase + L3Span;
                top = L2Span + CallTop;
                break;
            case "top_gran_align_beats_no_progress_l2":
                request = Request(host, rec, L2Span, 2 * L2Span, Ripas.Ram);
                baseIpa = L2Span;
                top = L2Span + 0x800;
                break;
            case "top_gran_align_beats_no_progress_destroyed": top = RequestBase + 0x800; break;
            case "top_bound_beats_no_progress": top = RequestTop + L3Span; break;
            default: throw new ArgumentOutOfRangeException(nameof(condition));
        }

        RealmHandle[] realms = other is null ? [realm] : [realm, other];
        ulong[] ipas = [baseIpa, RequestBase, RequestBase + L3Span, CallTop - L3Span, L2Span];
        ulong nextBefore = request.Next;
        Snapshot before = Take(host, realms, [rd, recArg, rec, realm.Rd], ipas);

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRttSetRipas, rd, recArg, baseIpa, top), status, index);

        before.AssertUnchanged(Take(host, realms, [rd, recArg, rec, realm.Rd], ipas));
        Assert.Equal(nextBefore, request.Next);
    }

    [Fact]
    public void SetRipas_ToRam_ChangesUnassignedAndAssignedEmptyEntriesAndAdvancesNext()
    {
        RmmTestHost host = NewHost();
        RealmHandle realm = RealmWithL3(host);
        ulong assignedEmpty = Assign(host, realm, 0x2000);
        SetUnassignedRipas(host, realm, 0x3000, Ripas.Ram);
        ulong assignedRam = AssignWithRipas(host, realm, 0x4000, Ripas.Ram);
        ulong rec = host.CreateRec(realm);
        Activate(host, realm);
        RipasChangeRequest request = Request(host, rec, RequestBase, RequestTop, Ripas.Ram);
        byte[] rim = Rim(host, realm);

        SmcResult r = host.Smc(RmiFunctionId.RmiRttSetRipas, realm.Rd, rec, RequestBase, 0x5000);

        RmmTestHost.Expect(r, RmiStatus.Success);
        Assert.Equal(0x5000UL, r.X1);
        Assert.Equal(0x5000UL, request.Next);
        Assert.Equal((3, RmiRttEntryState.Unassigned, 0UL, (ulong)Ripas.Ram), host.ReadEntry(realm, 0x1000, 3));
        Assert.Equal((3, RmiRttEntryState.Assigned, assignedEmpty, (ulong)Ripas.Ram), host.ReadEntry(realm, 0x2000, 3));
        Assert.Equal((3, RmiRttEntryState.Unassigned, 0UL, (ulong)Ripas.Ram), host.ReadEntry(realm, 0x3000, 3));
        Assert.Equal((3, RmiRttEntryState.Assigned, assignedRam, (ulong)Ripas.Ram), host.ReadEntry(realm, 0x4000, 3));
        Assert.Equal((3, RmiRttEntryState.Unassigned, 0UL, (ulong)Ripas.Empty), host.ReadEntry(realm, 0x5000, 3));
        Assert.Equal((3, RmiRttEntryState.Unassigned, 0UL, (ulong)Ripas.Empty), host.ReadEntry(realm, 0, 3));
        Assert.Equal(rim, Rim(host, realm));
    }

    [Fact]
    public void SetRipas_ToEmpty_ChangesUnassignedAndAssignedRamEntriesAndAdvancesNext()
    {
        RmmTestHost host = NewHost();
        RealmHandle realm = RealmWithL3(host);
        SetUnassignedRipas(host, realm, 0x1000, Ripas.Ram);
        ulong assignedRam = AssignWithRipas(host, realm, 0x2000, Ripas.Ram);
        ulong assignedEmpty = Assign(host, realm, 0x4000);
        SetUnassignedRipas(host, realm, 0x5000, Ripas.Ram);
        ulong rec = host.CreateRec(realm);
        Activate(host, realm);
        RipasChangeRequest request = Request(host, rec, RequestBase, RequestTop, Ripas.Empty);
        byte[] rim = Rim(host, realm);

        SmcResult r = host.Smc(RmiFunctionId.RmiRttSetRipas, realm.Rd, rec, RequestBase, 0x5000);

        RmmTestHost.Expect(r, RmiStatus.Success);
        Assert.Equal(0x5000UL, r.X1);
        Assert.Equal(0x5000UL, request.Next);
        Assert.Equal((3, RmiRttEntryState.Unassigned, 0UL, (ulong)Ripas.Empty), host.ReadEntry(realm, 0x1000, 3));
        Assert.Equal((3, RmiRttEntryState.Assigned, assignedRam, (ulong)Ripas.Empty), host.ReadEntry(realm, 0x2000, 3));
        Assert.Equal((3, RmiRttEntryState.Unassigned, 0UL, (ulong)Ripas.Empty), host.ReadEntry(realm, 0x3000, 3));
        Assert.Equal((3, RmiRttEntryState.Assigned, assignedEmpty, (ulong)Ripas.Empty), host.ReadEntry(realm, 0x4000, 3));
        Assert.Equal((3, RmiRttEntryState.Unassigned, 0UL, (ulong)Ripas.Ram), host.ReadEntry(realm, 0x5000, 3));
        Assert.Equal(rim, Rim(host, realm));
    }

    [Theory]
    [InlineData(Ripas.Ram)]
    [InlineData(Ripas.Empty)]
    public void SetRipas_WithoutChangeDestroyed_StopsAtDestroyedEntry(Ripas target)
    {
        RmmTestHost host = NewHost();
        RealmHandle realm = RealmWithL3(host);
        SetUnassignedRipas(host, realm, 0x2000, Ripas.Destroyed);
        ulong assignedDestroyed = AssignWithRipas(host, realm, 0x3000, Ripas.Destroyed);
        ulong rec = host.CreateRec(realm);
        Activate(host, realm);
        RipasChangeRequest request = Request(host, rec, RequestBase, RequestTop, target);

        SmcResult r = host.Smc(RmiFunctionId.RmiRttSetRipas, realm.Rd, rec, RequestBase, CallTop);

        RmmTestHost.Expect(r, RmiStatus.Success);
        Assert.Equal(0x2000UL, r.X1);
        Assert.Equal(0x2000UL, request.Next);
        Assert.Equal((ulong)target, host.ReadEntry(realm, 0x1000, 3).Ripas);
        Assert.Equal((3, RmiRttEntryState.Unassigned, 0UL, (ulong)Ripas.Destroyed), host.ReadEntry(realm, 0x2000, 3));
        Assert.Equal((3, RmiRttEntryState.Assigned, assignedDestroyed, (ulong)Ripas.Destroyed), host.ReadEntry(realm, 0x3000, 3));
    }

    [Theory]
    [InlineData(Ripas.Ram)]
    [InlineData(Ripas.Empty)]
    public void SetRipas_WithChangeDestroyed_ChangesDestroyedEntries(Ripas target)
    {
        RmmTestHost host = NewHost();
        RealmHandle realm = RealmWithL3(host);
        SetUnassignedRipas(host, realm, 0x1000, Ripas.Destroyed);
        ulong assignedDestroyed = AssignWithRipas(host, realm, 0x2000, Ripas.Destroyed);
        ulong rec = host.CreateRec(realm);
        Activate(host, realm);
        RipasChangeRequest request = Request(host, rec, RequestBase, RequestTop, target, changeDestroyed: true);

        SmcResult r = host.Smc(RmiFunctionId.RmiRttSetRipas, realm.Rd, rec, RequestBase, CallTop);

        RmmTestHost.Expect(r, RmiStatus.Success);
        Assert.Equal(CallTop, r.X1);
        Assert.Equal(CallTop, request.Next);
        Assert.Equal((3, RmiRttEntryState.Unassigned, 0UL, (ulong)target), host.ReadEntry(realm, 0x1000, 3));
        Assert.Equal((3, RmiRttEntryState.Assigned, assignedDestroyed, (ulong)target), host.ReadEntry(realm, 0x2000, 3));
        Assert.Equal((ulong)target, host.ReadEntry(realm, 0x3000, 3).Ripas);
    }

    [Fact]
    public void SetRipas_InSuccessiveCalls_EachStartsAtTheRequestsNext()
    {
        RmmTestHost host = NewHost();
        RealmHandle realm = RealmWithL3(host);
        ulong rec = host.CreateRec(realm);
        Activate(host, realm);
        RipasChangeRequest request = Request(host, rec, RequestBase, RequestTop, Ripas.Ram);

        SmcResult first = host.Smc(RmiFunctionId.RmiRttSetRipas, realm.Rd, rec, RequestBase, 0x3000);
        SmcResult second = host.Smc(RmiFunctionId.RmiRttSetRipas, realm.Rd, rec, first.X1, RequestTop);

        RmmTestHost.Expect(first, RmiStatus.Success);
        RmmTestHost.Expect(second, RmiStatus.Success);
        Assert.Equal(0x3000UL, first.X1);
        Assert.Equal(RequestTop, second.X1);
        Assert.Equal(RequestTop, request.Next);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRttSetRipas, realm.Rd, rec, RequestBase, RequestTop), RmiStatus.ErrorInput);
        for (ulong ipa = RequestBase; ipa < RequestTop; ipa += L3Span)
        {
            Assert.Equal((ulong)Ripas.Ram, host.ReadEntry(realm, ipa, 3).Ripas);
        }
    }

    [Fact]
    public void SetRipas_OverL2Entry_ProcessesItAsOneUnitAndStopsAtTableEntry()
    {
        RmmTestHost host = NewHost();
        RealmHandle realm = RealmWithL3(host);
        host.CreateRtts(realm, 2 * L2Span, 3);
        ulong rec = host.CreateRec(realm);
        Activate(host, realm);
        RipasChangeRequest request = Request(host, rec, L2Span, 4 * L2Span, Ripas.Ram);

        SmcResult r = host.Smc(RmiFunctionId.RmiRttSetRipas, realm.Rd, rec, L2Span, 4 * L2Span);

        RmmTestHost.Expect(r, RmiStatus.Success);
        Assert.Equal(2 * L2Span, r.X1);
        Assert.Equal(2 * L2Span, request.Next);
        Assert.Equal((2, RmiRttEntryState.Unassigned, 0UL, (ulong)Ripas.Ram), host.ReadEntry(realm, L2Span, 3));
        Assert.Equal((ulong)Ripas.Empty, host.ReadEntry(realm, 2 * L2Span, 3).Ripas);
    }

    [Fact]
    public void SetRipas_StopsAtTheEndOfTheL3TableReached()
    {
        RmmTestHost host = NewHost();
        RealmHandle realm = RealmWithL3(host);
        ulong rec = host.CreateRec(realm);
        Activate(host, realm);
        RipasChangeRequest request = Request(host, rec, L2Span - (2 * L3Span), 2 * L2Span, Ripas.Ram);

        SmcResult r = host.Smc(RmiFunctionId.RmiRttSetRipas, realm.Rd, rec, L2Span - (2 * L3Span), 2 * L2Span);

        RmmTestHost.Expect(r, RmiStatus.Success);
        Assert.Equal(L2Span, r.X1);
        Assert.Equal(L2Span, request.Next);
        Assert.Equal((ulong)Ripas.Ram, host.ReadEntry(realm, L2Span - L3Span, 3).Ripas);
        Assert.Equal((2, RmiRttEntryState.Unassigned, 0UL, (ulong)Ripas.Empty), host.ReadEntry(realm, L2Span, 3));
    }

    [Theory]
    [InlineData("new")]
    [InlineData("active")]
    [InlineData("system_off")]
    public void SetRipas_IsAllowedInAnyRealmState(string state)
    {
        RmmTestHost host = NewHost();
        RealmHandle realm = RealmWithL3(host);
        ulong rec = host.CreateRec(realm);
        if (state == "active")
        {
            Activate(host, realm);
        }
        else if (state == "system_off")
        {
            SystemOff(host, realm);
        }

        Request(host, rec, RequestBase, RequestTop, Ripas.Ram);

        SmcResult r = host.Smc(RmiFunctionId.RmiRttSetRipas, realm.Rd, rec, RequestBase, CallTop);

        RmmTestHost.Expect(r, RmiStatus.Success);
        Assert.Equal(CallTop, r.X1);
    }

    /// <summary>The pending RIPAS change RSI_IPA_STATE_SET would leave in the REC (realm side not built, §5.5).</summary>
    private static RipasChangeRequest Request(RmmTestHost host, ulong rec, ulong baseIpa, ulong top, Ripas value, bool changeDestroyed = false, ulong? next = null)
    {
        var request = new RipasChangeRequest { Base = baseIpa, Top = top, Next = next ?? baseIpa, Value = value, ChangeDestroyed = changeDestroyed };
        host.Rmm.RecAt(rec)!.PendingRipas = request;
        return request;
    }
}
