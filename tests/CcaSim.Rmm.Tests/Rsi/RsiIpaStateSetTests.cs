using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rsi;
using CcaSim.Rmm.Rtt;
using CcaSim.Rmm.Tests.Infrastructure;

namespace CcaSim.Rmm.Tests.Rsi;

/// <summary>
/// RSI_IPA_STATE_SET (base, top, ripas, flags) and the RIPAS change round trip (rmm-1.0.md §6, §5.5, §3.21):
/// ACS base_align, top_align, size_valid, rgn_bound, ripas_valid → ERROR_INPUT; otherwise the REC exits with
/// RIPAS_CHANGE (ripas_base/top/value), the host applies it with RMI_RTT_SET_RIPAS and answers ACCEPT or REJECT on
/// the next entry, where the realm's call returns x1 = first address not changed and x2 = ACCEPT/REJECT.
/// </summary>
public sealed class RsiIpaStateSetTests
{
    private const ulong Accept = 0;
    private const ulong Reject = 1;
    private const ulong ChangeDestroyed = 1;

    /// <summary>EMPTY pages after the RAM of <see cref="RealmSide"/>: a request to RAM changes them.</summary>
    private const ulong Base = RealmSide.RipasEnd;
    private const ulong Top = RealmSide.RipasEnd + 0x4000;

    /// <summary>One row per ACS failure condition, in order (all ERROR_INPUT): base, top, ripas.</summary>
    public static TheoryData<string, ulong, ulong, ulong> Failures => new()
    {
        { "base_align", Base + 0x10, Top, 1 },
        { "top_align", Base, Top + 0x10, 1 },
        { "size_valid_equal", Base, Base, 1 },
        { "size_valid_below", Top, Base, 1 },
        { "rgn_bound_top_unprotected", RealmSide.Unprotected - 0x1000, RealmSide.Unprotected + 0x1000, 1 },
        { "rgn_bound_unprotected", RealmSide.Unprotected, RealmSide.Unprotected + 0x2000, 0 },
        { "rgn_bound_outside_ipa_space", RealmSide.IpaEnd, RealmSide.IpaEnd + 0x1000, 1 },
        { "ripas_valid_destroyed", Base, Top, (ulong)Ripas.Destroyed },
        { "ripas_valid_3", Base, Top, 3 },
        { "ripas_valid_max", Base, Top, ulong.MaxValue },
        { "base_align_and_ripas_valid", Base + 0x10, Top, 2 },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void IpaStateSet_WhenConditionFails_ReturnsErrorInputWithoutExit(string condition, ulong baseIpa, ulong top, ulong ripas)
    {
        var realm = new RealmSide();

        ulong[] x = realm.CallInside(RsiFunctionId.RsiIpaStateSet, RealmSide.Args(baseIpa, top, ripas, 0));

        Assert.True((ulong)RsiStatus.ErrorInput == x[0], condition);
        Assert.Null(realm.Host.Rmm.RecAt(realm.Rec)!.PendingRipas);
        RealmSide.Expect(realm.Host.Smc(RmiFunctionId.RmiRttSetRipas, realm.Realm.Rd, realm.Rec, Base, Top), RmiStatus.ErrorInput);
    }

    [Theory]
    [InlineData(Ripas.Ram)]
    [InlineData(Ripas.Empty)]
    public void IpaStateSet_ExitsWithRipasChangeCarryingTheRequest(Ripas ripas)
    {
        var realm = new RealmSide();
        realm.Call(RsiFunctionId.RsiIpaStateSet, RealmSide.Args(Base, Top, (ulong)ripas, 0));

        RecExitView exit = realm.EnterOk();

        Assert.Equal(RecExitReason.RipasChange, exit.Reason);
        Assert.Equal(Base, exit.RipasBase);
        Assert.Equal(Top, exit.RipasTop);
        Assert.Equal((byte)ripas, exit.RipasValue);
        Assert.Equal(0UL, exit.Esr);
        Assert.All(exit.Gprs, g => Assert.Equal(0UL, g));
        Assert.Empty(realm.Completed);
    }

    /// <summary>
    /// The round trip: request, host progress (how far SET_RIPAS gets), host response → what the realm sees.
    /// REJECT is reported only for a request to RAM that did not reach its top (§5.5, §11 item 5).
    /// </summary>
    public static TheoryData<string, Ripas, ulong, ulong, ulong, ulong> RoundTrips => new()
    {
        { "ram_full_accept", Ripas.Ram, Top, Accept, Top, Accept },
        { "ram_full_reject_flag_is_not_reported", Ripas.Ram, Top, Reject, Top, Accept },
        { "ram_partial_accept", Ripas.Ram, Base + 0x1000, Accept, Base + 0x1000, Accept },
        { "ram_partial_reject", Ripas.Ram, Base + 0x1000, Reject, Base + 0x1000, Reject },
        { "ram_no_action_accept", Ripas.Ram, Base, Accept, Base, Accept },
        { "ram_no_action_reject", Ripas.Ram, Base, Reject, Base, Reject },
        { "empty_full_accept", Ripas.Empty, Top, Accept, Top, Accept },
        { "empty_partial_reject_not_reported", Ripas.Empty, Base + 0x2000, Reject, Base + 0x2000, Accept },
        { "empty_no_action_reject_not_reported", Ripas.Empty, Base, Reject, Base, Accept },
    };

    [Theory]
    [MemberData(nameof(RoundTrips))]
    public void IpaStateSet_RoundTrip_ReturnsProgressAndResponse(string condition, Ripas ripas, ulong hostTop, ulong response, ulong x1, ulong x2)
    {
        var realm = new RealmSide();
        (ulong b, ulong t) = ripas == Ripas.Ram ? (Base, Top) : (RealmSide.Ram, RealmSide.Ram + 0x4000);
        hostTop = hostTop - Base + b;
        x1 = x1 - Base + b;
        realm.Call(RsiFunctionId.RsiIpaStateSet, RealmSide.Args(b, t, (ulong)ripas, 0));
        Assert.Equal(RecExitReason.RipasChange, realm.EnterOk().Reason);

        if (hostTop != b)
        {
            SmcResult set = realm.Host.Smc(RmiFunctionId.RmiRttSetRipas, realm.Realm.Rd, realm.Rec, b, hostTop);
            RealmSide.Expect(set, RmiStatus.Success);
            Assert.Equal(hostTop, set.X1);
        }

        Assert.Equal(RecExitReason.Fiq, realm.EnterOk(flags: response == Reject ? RecRunLayout.EnterFlagRipasResponse : 0).Reason);

        CompletedCall done = Assert.Single(realm.Completed);
        Assert.True(done.Status == RsiStatus.Success, condition);
        Assert.Equal(x1, done.X[1]);
        Assert.Equal(x2, done.X[2]);
        Assert.Null(realm.Host.Rmm.RecAt(realm.Rec)!.PendingRipas);
        for (ulong ipa = b; ipa < t; ipa += 0x1000)
        {
            Ripas expected = ipa < hostTop ? ripas : (ripas == Ripas.Ram ? Ripas.Empty : Ripas.Ram);
            Assert.Equal((ulong)expected, realm.Entry(ipa).Ripas);
        }

        // The request is over: the host can no longer apply it.
        RealmSide.Expect(realm.Host.Smc(RmiFunctionId.RmiRttSetRipas, realm.Realm.Rd, realm.Rec, x1, t), RmiStatus.ErrorInput);
    }

    [Fact]
    public void IpaStateSet_AfterAcceptedChange_IpaStateGetSeesTheNewRipas()
    {
        var realm = new RealmSide();
        realm.Call(RsiFunctionId.RsiIpaStateSet, Base, Top, (ulong)Ripas.Ram, 0);
        realm.EnterOk();
        RealmSide.Expect(realm.Host.Smc(RmiFunctionId.RmiRttSetRipas, realm.Realm.Rd, realm.Rec, Base, Top), RmiStatus.Success);
        realm.Call(RsiFunctionId.RsiIpaStateGet, RealmSide.Ram, RealmSide.L3TableEnd);

        realm.EnterOk();

        Assert.Equal(2, realm.Completed.Count);
        Assert.Equal([0UL, Top, (ulong)Ripas.Ram], realm.Completed[1].X[..3]);
    }

    [Fact]
    public void IpaStateSet_InPieces_HostCallsMustStartAtTheNextAddress()
    {
        var realm = new RealmSide();
        realm.Call(RsiFunctionId.RsiIpaStateSet, Base, Top, (ulong)Ripas.Ram, 0);
        realm.EnterOk();
        ulong rd = realm.Realm.Rd;

        RealmSide.Expect(realm.Host.Smc(RmiFunctionId.RmiRttSetRipas, rd, realm.Rec, Base, Base + 0x1000), RmiStatus.Success);
        RealmSide.Expect(realm.Host.Smc(RmiFunctionId.RmiRttSetRipas, rd, realm.Rec, Base, Top), RmiStatus.ErrorInput);
        RealmSide.Expect(realm.Host.Smc(RmiFunctionId.RmiRttSetRipas, rd, realm.Rec, Base + 0x1000, Base + 0x3000), RmiStatus.Success);
        realm.EnterOk();

        Assert.Equal([0UL, Base + 0x3000, Accept], realm.Last.X[..3]);
    }

    /// <summary>
    /// DESTROYED pages change only if the realm asked with CHANGE_DESTROYED (flags bit 0, §5.5): without it the host's
    /// SET_RIPAS makes no progress (ERROR_RTT at level 3) and the realm sees x1 = base.
    /// </summary>
    [Theory]
    [InlineData(0UL, false)]
    [InlineData(ChangeDestroyed, true)]
    [InlineData(2UL, false)]
    public void IpaStateSet_OverDestroyedPages_ChangesThemOnlyWithChangeDestroyed(ulong flags, bool changes)
    {
        var realm = new RealmSide();
        ulong b = RealmSide.Ram + 0x1000;
        ulong t = RealmSide.Ram + 0x3000;
        realm.Unmap(b);
        realm.Unmap(b + 0x1000);
        realm.Call(RsiFunctionId.RsiIpaStateSet, b, t, (ulong)Ripas.Ram, flags);
        realm.EnterOk();

        SmcResult set = realm.Host.Smc(RmiFunctionId.RmiRttSetRipas, realm.Realm.Rd, realm.Rec, b, t);
        realm.EnterOk(flags: RecRunLayout.EnterFlagRipasResponse);

        if (changes)
        {
            RealmSide.Expect(set, RmiStatus.Success);
            Assert.Equal([0UL, t, Accept], realm.Last.X[..3]);
            Assert.Equal((ulong)Ripas.Ram, realm.Entry(b).Ripas);
        }
        else
        {
            RealmSide.Expect(set, RmiStatus.ErrorRtt, 3);
            Assert.Equal([0UL, b, Reject], realm.Last.X[..3]);
            Assert.Equal((ulong)Ripas.Destroyed, realm.Entry(b).Ripas);
        }
    }

    /// <summary>
    /// RsiRipasChangeFlags: CHANGE_DESTROYED is bit 0 (rmm-1.0.md §5.5); the other bits are reserved and do not turn
    /// it off. (TF-RMM rel0 compares the whole register with 1; the spec wins.)
    /// </summary>
    [Fact]
    public void IpaStateSet_WhenFlagsHaveBitZeroAndReservedBits_ChangesDestroyed()
    {
        var realm = new RealmSide();
        ulong b = RealmSide.Ram + 0x1000;
        realm.Unmap(b);
        realm.Call(RsiFunctionId.RsiIpaStateSet, b, b + 0x1000, (ulong)Ripas.Ram, 0x8000_0000_0000_0003);
        realm.EnterOk();

        SmcResult set = realm.Host.Smc(RmiFunctionId.RmiRttSetRipas, realm.Realm.Rd, realm.Rec, b, b + 0x1000);

        RealmSide.Expect(set, RmiStatus.Success);
        Assert.Equal((ulong)Ripas.Ram, realm.Entry(b).Ripas);
    }

    [Fact]
    public void IpaStateSet_ToEmptyOfAssignedRam_LeavesThePageAssignedButUnusable()
    {
        var realm = new RealmSide();
        ulong page = RealmSide.Ram + 0x4000;
        realm.Call(RsiFunctionId.RsiIpaStateSet, page, page + 0x1000, (ulong)Ripas.Empty, 0);
        realm.EnterOk();
        RealmSide.Expect(realm.Host.Smc(RmiFunctionId.RmiRttSetRipas, realm.Realm.Rd, realm.Rec, page, page + 0x1000), RmiStatus.Success);
        realm.Call(RsiFunctionId.RsiRealmConfig, page);

        realm.EnterOk();

        Assert.Equal((RmiRttEntryState.Assigned, (ulong)Ripas.Empty), (realm.Entry(page).State, realm.Entry(page).Ripas));
        Assert.Equal([0UL, page + 0x1000, Accept], realm.Completed[0].X[..3]);
        Assert.Equal(RsiStatus.ErrorInput, realm.Completed[1].Status);
    }
}
