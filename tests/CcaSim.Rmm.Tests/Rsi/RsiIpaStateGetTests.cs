using CcaSim.Rmm.Rsi;
using CcaSim.Rmm.Rtt;
using CcaSim.Rmm.Tests.Infrastructure;

namespace CcaSim.Rmm.Tests.Rsi;

/// <summary>
/// RSI_IPA_STATE_GET (base, top) (rmm-1.0.md §6): ACS base_align, end_align, size_valid, rgn_bound → ERROR_INPUT.
/// Otherwise x1 = top of the run of entries with the RIPAS of the one at base, scanned within the last-level table
/// reached at base and capped at top; x2 = that RIPAS.
/// </summary>
public sealed class RsiIpaStateGetTests
{
    /// <summary>One row per ACS failure condition, in order (all ERROR_INPUT): base, top.</summary>
    public static TheoryData<string, ulong, ulong> Failures => new()
    {
        { "base_align", RealmSide.Ram + 0x800, RealmSide.Ram + 0x2000 },
        { "end_align", RealmSide.Ram, RealmSide.Ram + 0x1800 },
        { "size_valid_equal", RealmSide.Ram, RealmSide.Ram },
        { "size_valid_below", RealmSide.Ram + 0x2000, RealmSide.Ram },
        { "rgn_bound_top", RealmSide.Unprotected - 0x1000, RealmSide.Unprotected + 0x1000 },
        { "rgn_bound_unprotected", RealmSide.Unprotected, RealmSide.Unprotected + 0x1000 },
        { "rgn_bound_outside_ipa_space", RealmSide.IpaEnd, RealmSide.IpaEnd + 0x1000 },
        { "base_align_and_rgn_bound", RealmSide.Unprotected + 8, RealmSide.Unprotected + 0x1000 },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void IpaStateGet_WhenConditionFails_ReturnsErrorInput(string condition, ulong baseIpa, ulong top)
    {
        var realm = new RealmSide();

        ulong[] x = realm.CallInside(RsiFunctionId.RsiIpaStateGet, RealmSide.Args(baseIpa, top));

        Assert.True((ulong)RsiStatus.ErrorInput == x[0], condition);
    }

    /// <summary>Runs of RIPAS over the realm's layout (see <see cref="RealmSide"/>): base, top → x1, x2.</summary>
    public static TheoryData<string, ulong, ulong, ulong, Ripas> Runs => new()
    {
        { "empty_page_before_ram", 0, 0x20_0000, RealmSide.Ram, Ripas.Empty },
        { "assigned_and_unassigned_ram_form_one_run", RealmSide.Ram, 0x20_0000, RealmSide.RipasEnd, Ripas.Ram },
        { "run_capped_at_top", RealmSide.Ram, RealmSide.Ram + 0x2000, RealmSide.Ram + 0x2000, Ripas.Ram },
        { "unassigned_ram_only", RealmSide.UnmappedRam, 0x20_0000, RealmSide.RipasEnd, Ripas.Ram },
        { "empty_to_end_of_table", RealmSide.RipasEnd, 0x100_0000, RealmSide.L3TableEnd, Ripas.Empty },
        { "single_page", RealmSide.RipasEnd, RealmSide.RipasEnd + 0x1000, RealmSide.RipasEnd + 0x1000, Ripas.Empty },
        { "level2_block_ram", RealmSide.BlockRam, 0x100_0000, 0x40_0000, Ripas.Ram },
        { "inside_level2_block", RealmSide.BlockRam + 0x3000, 0x100_0000, 0x40_0000, Ripas.Ram },
        { "level2_empty_to_end_of_level2_table", 0x40_0000, 0x8000_0000, 0x4000_0000, Ripas.Empty },
        { "last_protected_page", RealmSide.Unprotected - 0x1000, RealmSide.Unprotected, RealmSide.Unprotected, Ripas.Empty },
    };

    [Theory]
    [MemberData(nameof(Runs))]
    public void IpaStateGet_ReturnsTheRunOfEqualRipasFromBase(string condition, ulong baseIpa, ulong top, ulong expectedTop, Ripas ripas)
    {
        var realm = new RealmSide();

        ulong[] x = realm.CallInside(RsiFunctionId.RsiIpaStateGet, RealmSide.Args(baseIpa, top));

        Assert.True((ulong)RsiStatus.Success == x[0], condition);
        Assert.Equal(expectedTop, x[1]);
        Assert.Equal((ulong)ripas, x[2]);
    }

    [Fact]
    public void IpaStateGet_OfDestroyedPages_ReportsDestroyedRunsBetweenRam()
    {
        var realm = new RealmSide();
        realm.Unmap(RealmSide.Ram + 0x1000);
        realm.Unmap(RealmSide.Ram + 0x2000);
        realm.Map(RealmSide.Ram + 0x2000);

        ulong[] first = realm.CallInside(RsiFunctionId.RsiIpaStateGet, RealmSide.Ram, RealmSide.L3TableEnd);
        ulong[] destroyed = realm.CallInside(RsiFunctionId.RsiIpaStateGet, RealmSide.Ram + 0x1000, RealmSide.L3TableEnd);
        ulong[] rest = realm.CallInside(RsiFunctionId.RsiIpaStateGet, RealmSide.Ram + 0x3000, RealmSide.L3TableEnd);

        Assert.Equal([0UL, RealmSide.Ram + 0x1000, (ulong)Ripas.Ram], first[..3]);
        Assert.Equal([0UL, RealmSide.Ram + 0x3000, (ulong)Ripas.Destroyed], destroyed[..3]);
        Assert.Equal([0UL, RealmSide.RipasEnd, (ulong)Ripas.Ram], rest[..3]);
    }
}
