using CcaSim.Kvm.GuestMemfd;
using CcaSim.Kvm.Uapi;

namespace CcaSim.Kvm.Tests.GuestMemfd;

/// <summary>The gfn ↔ file index formula of kvm-realm-abi.md §5.1, and the multi-slot-per-file layout the 6.6 backport breaks.</summary>
public sealed class GmemBindingTests
{
    private const long MiB = 1L << 20;

    [Theory]
    [InlineData(0x80000UL, 0UL, 0x80000UL, 0UL)]
    [InlineData(0x80000UL, 0UL, 0x801FFUL, 0x1FFUL)]
    [InlineData(0x80000UL, 0x400UL, 0x80000UL, 0x400UL)]
    [InlineData(0x80000UL, 0x400UL, 0x80010UL, 0x410UL)]
    [InlineData(0x40000UL, 0x7FFUL, 0x40001UL, 0x800UL)]
    public void IndexOf_IsGfnMinusBaseGfnPlusPgoff_AndGfnOfInvertsIt(ulong baseGfn, ulong pgoff, ulong gfn, ulong index)
    {
        var b = new GmemBinding(baseGfn, 0x200, pgoff);

        Assert.Equal(index, b.IndexOf(gfn));
        Assert.Equal(gfn, b.GfnOf(index));
    }

    [Fact]
    public void IndexOf_OutsideTheSlot_IsNull()
    {
        var b = new GmemBinding(0x80000, 0x200, 0x400);

        Assert.Null(b.IndexOf(0x7FFFF));
        Assert.Null(b.IndexOf(0x80200));
        Assert.Null(b.GfnOf(0x3FF));
        Assert.Null(b.GfnOf(0x600));
    }

    [Fact]
    public void FromRegion_TakesPgoffFromTheGuestMemfdOffset()
    {
        var region = new KvmUserspaceMemoryRegion2
        {
            GuestPhysAddr = 0x4000_0000,
            MemorySize = (ulong)(4 * MiB),
            GuestMemfdOffset = (ulong)(4 * MiB),
            Flags = (uint)KvmMemoryRegionOptions.GuestMemfd,
        };

        Assert.Equal(new GmemBinding(0x40000, 1024, 1024), GmemBinding.FromRegion(region));
    }

    [Theory]
    [InlineData(0UL, 0x10UL, null, null)]
    [InlineData(0x3F0UL, 0x400UL, null, null)]
    [InlineData(0x3F0UL, 0x410UL, 0x80000UL, 0x80010UL)]
    [InlineData(0x500UL, 0x700UL, 0x80100UL, 0x80200UL)]
    [InlineData(0UL, ulong.MaxValue, 0x80000UL, 0x80200UL)]
    [InlineData(0x600UL, 0x700UL, null, null)]
    public void GfnRangeOf_MapsAFileRangeBack_ClippedToTheSlot(ulong startIndex, ulong endIndex, ulong? startGfn, ulong? endGfn)
    {
        var b = new GmemBinding(0x80000, 0x200, 0x400);

        (ulong StartGfn, ulong EndGfn)? r = b.GfnRangeOf(startIndex, endIndex);

        Assert.Equal(startGfn, r?.StartGfn);
        Assert.Equal(endGfn, r?.EndGfn);
    }

    [Fact]
    public void OverlapsIndices_ComparesFileRanges_NotGfns()
    {
        var a = new GmemBinding(0x0, 1024, 0);
        var b = new GmemBinding(0x0, 1024, 1024);
        var c = new GmemBinding(0x99999, 2, 1023);

        Assert.False(a.OverlapsIndices(b));
        Assert.True(a.OverlapsIndices(c));
        Assert.True(b.OverlapsIndices(c));
    }

    /// <summary>set_memory_region_test / private_mem_conversions_test layout: one 8 MiB file, two slots at offsets 0 and 4 MiB.</summary>
    private static (GuestMemfdFile File, GmemBinding Low, GmemBinding High) TwoSlotsOnOneFile()
    {
        GuestMemfdFile f = GuestMemfdFile.Create(new KvmCreateGuestMemfd { Size = (ulong)(8 * MiB) }).Value;
        var low = new GmemBinding(BaseGfn: 0x80000, NumPages: 1024, Pgoff: 0);
        var high = new GmemBinding(BaseGfn: 0xC0000, NumPages: 1024, Pgoff: 1024);
        return (f, low, high);
    }

    [Fact]
    public void TwoSlotsOnOneFile_PopulatingTheSecondSlotsFirstGfn_DoesNotTouchTheFirstSlotsPage()
    {
        (GuestMemfdFile f, GmemBinding low, GmemBinding high) = TwoSlotsOnOneFile();

        Assert.Equal(0, f.PopulatePage(high, 0xC0000).ReturnValue);

        Assert.Equal(GmemPageState.Prepared, f.GetPageState(1024));
        Assert.Equal(GmemPageState.Absent, f.GetPageState(0));
        Assert.Equal(GmemPageState.Absent, f.GetPageState(low, 0x80000));
        Assert.Equal(0, f.PopulatePage(low, 0x80000).ReturnValue); // index = gfn − base would say EEXIST here
    }

    [Fact]
    public void TwoSlotsOnOneFile_PunchInTheSecondHalf_MapsBackOnlyToTheSecondSlot()
    {
        (GuestMemfdFile f, GmemBinding low, GmemBinding high) = TwoSlotsOnOneFile();
        f.PopulatePage(low, 0x80001);
        f.PopulatePage(high, 0xC0001);
        var zapped = new List<(string, ulong, ulong)>();
        f.Invalidating += (_, e) =>
        {
            foreach ((string name, GmemBinding b) in new[] { ("low", low), ("high", high) })
            {
                if (b.GfnRangeOf(e.StartIndex, e.EndIndex) is (ulong s, ulong en))
                {
                    zapped.Add((name, s, en));
                }
            }
        };

        Assert.Equal(0, f.Fallocate(FallocateMode.PunchHole | FallocateMode.KeepSize, 4 * MiB, 8 * 4096).ReturnValue);

        Assert.Equal([("high", 0xC0000UL, 0xC0008UL)], zapped);
        Assert.Equal(GmemPageState.Absent, f.GetPageState(high, 0xC0001));
        Assert.Equal(GmemPageState.Prepared, f.GetPageState(low, 0x80001));
    }
}
