using System.Diagnostics;
using CcaSim.Kvm.MemoryAttributes;
using CcaSim.Kvm.Uapi;

namespace CcaSim.Kvm.Tests.MemoryAttributes;

public sealed class AttributeSemanticsTests
{
    private const ulong P = KvmMemoryAttributeBits.Private;
    private const ulong All = ulong.MaxValue;

    /// <summary>A realm's store: PRIVATE over gfns [0x100, 0x200) and [0x300, 0x380), shared elsewhere.</summary>
    private static MemoryAttributeStore Realm()
    {
        var s = new MemoryAttributeStore(P);
        s.Set(0x100, 0x200, P);
        s.Set(0x300, 0x380, P);
        return s;
    }

    [Theory]
    // Exact-match callers (SET_MEMORY_ATTRIBUTES no-op test): mask all-ones.
    [InlineData(0x100UL, 0x200UL, All, P, true)]
    [InlineData(0x180UL, 0x190UL, All, P, true)]
    [InlineData(0x0F0UL, 0x110UL, All, P, false)] // starts shared
    [InlineData(0x1F0UL, 0x210UL, All, P, false)] // ends shared
    [InlineData(0x100UL, 0x380UL, All, P, false)] // hole in the middle
    [InlineData(0x000UL, 0x100UL, All, 0UL, true)] // nothing stored
    [InlineData(0x200UL, 0x300UL, All, 0UL, true)] // the hole exactly
    [InlineData(0x1FFUL, 0x201UL, All, 0UL, false)] // one private gfn inside
    // kvm_gmem_populate: mask = attrs = PRIVATE.
    [InlineData(0x100UL, 0x200UL, P, P, true)]
    [InlineData(0x200UL, 0x300UL, P, P, false)]
    // attrs outside the (narrowed) mask can never match.
    [InlineData(0x100UL, 0x200UL, 0UL, P, false)]
    [InlineData(0x100UL, 0x200UL, 1UL, P, false)] // mask bit 0 only: ANDed with PRIVATE → 0, so PRIVATE is outside it
    [InlineData(0x100UL, 0x200UL, All, P | 1, false)] // bit 0 is unsupported
    [InlineData(0x100UL, 0x200UL, All, 1UL, false)]
    // Single page: the masked value is compared, so a zero mask makes a PRIVATE page "have" attrs 0 …
    [InlineData(0x100UL, 0x101UL, 0UL, 0UL, true)]
    [InlineData(0x100UL, 0x101UL, 1UL, 0UL, true)]
    [InlineData(0x100UL, 0x101UL, All, 0UL, false)]
    [InlineData(0x100UL, 0x101UL, All, P, true)]
    [InlineData(0x0FFUL, 0x100UL, All, P, false)]
    // … but on a longer range attrs 0 means "nothing stored", whatever the mask.
    [InlineData(0x100UL, 0x102UL, 0UL, 0UL, false)]
    [InlineData(0x100UL, 0x102UL, 1UL, 0UL, false)]
    // An empty range is vacuously uniform.
    [InlineData(0x150UL, 0x150UL, All, P, true)]
    [InlineData(0x150UL, 0x150UL, All, 0UL, true)]
    public void RangeHasAttributes_FollowsTheFiveArgumentSemantics(ulong start, ulong end, ulong mask, ulong attrs, bool expected)
    {
        Assert.Equal(expected, Realm().RangeHasAttributes(start, end, mask, attrs));
    }

    [Fact]
    public void RangeHasAttributes_MaskIsNarrowedToSupported_BeforeComparingStoredValues()
    {
        // A value with a bit the VM does not support (only reachable through the raw store): with the mask ANDed
        // with the supported attributes the stray bit is ignored; the backport's exact-match form would say no.
        var s = new MemoryAttributeStore(P);
        s.Set(0, 4, P | 1);

        Assert.True(s.RangeHasAttributes(0, 4, All, P));
        Assert.True(s.RangeHasAttributes(0, 1, All, P));
    }

    [Fact]
    public void RangeHasAttributes_MaskSelectsTheComparedBits_AcrossRangesWithDifferentValues()
    {
        var s = new MemoryAttributeStore(P | 1);
        s.Set(0, 4, P);
        s.Set(4, 8, P | 1);

        Assert.True(s.RangeHasAttributes(0, 8, P, P));
        Assert.False(s.RangeHasAttributes(0, 8, All, P));
        Assert.False(s.RangeHasAttributes(0, 8, All, P | 1));
        Assert.True(s.RangeHasAttributes(4, 8, All, P | 1));
    }

    [Fact]
    public void RangeHasAttributes_OnAVmWithoutPrivateMemory_NeverMatchesPrivate()
    {
        var s = new MemoryAttributeStore(0);
        s.Set(0, 4, P);

        Assert.False(s.RangeHasAttributes(0, 4, All, P));
        Assert.False(s.RangeHasAttributes(0, 1, P, P));
        Assert.True(s.RangeHasAttributes(0, 1, All, 0));
    }

    [Theory]
    [InlineData(0x1000UL, 0x1000UL, P, 1UL, P)] // flags
    [InlineData(0x1000UL, 0x1000UL, 1UL, 0UL, P)] // unsupported attribute bit
    [InlineData(0x1000UL, 0x1000UL, P, 0UL, 0UL)] // PRIVATE on a VM without private memory
    [InlineData(0x1000UL, 0UL, P, 0UL, P)] // size 0
    [InlineData(0xFFFF_FFFF_FFFF_F000UL, 0x1000UL, P, 0UL, P)] // address + size = 2^64 wraps
    [InlineData(0xFFFF_FFFF_FFFF_E000UL, 0x4000UL, P, 0UL, P)]
    [InlineData(0x1800UL, 0x1000UL, P, 0UL, P)] // address unaligned
    [InlineData(0x1000UL, 0x1800UL, P, 0UL, P)] // size unaligned
    [InlineData(0x1001UL, 0x1000UL, P, 0UL, P)]
    public void SetMemoryAttributes_InvalidArgument_ReturnsEinval(ulong address, ulong size, ulong attributes, ulong flags, ulong supported)
    {
        var request = new KvmMemoryAttributes { Address = address, Size = size, Attributes = attributes, Flags = flags };
        var s = new MemoryAttributeStore(supported);

        Assert.Equal(Errno.EINVAL, MemoryAttributeStore.Validate(request, supported).Error);
        Assert.Equal(-22, s.SetMemoryAttributes(request).ReturnValue);
        Assert.Equal(0, s.RangeCount);
    }

    [Theory]
    [InlineData(0x1000UL, 0x1000UL, P, P)]
    [InlineData(0x1000UL, 0x1000UL, 0UL, P)]
    [InlineData(0x1000UL, 0x1000UL, 0UL, 0UL)] // only attributes 0 is accepted without private memory
    [InlineData(0xFFFF_FFFF_FFFF_E000UL, 0x1000UL, P, P)] // ends one page below 2^64
    public void SetMemoryAttributes_ValidArgument_ReturnsZero(ulong address, ulong size, ulong attributes, ulong supported)
    {
        var request = new KvmMemoryAttributes { Address = address, Size = size, Attributes = attributes };

        Assert.Equal(0, MemoryAttributeStore.Validate(request, supported).ReturnValue);
        Assert.Equal(0, new MemoryAttributeStore(supported).SetMemoryAttributes(request).ReturnValue);
    }

    [Fact]
    public void SetMemoryAttributes_StoresTheGfnRange_AndRunsBothHooksInOrder()
    {
        var s = new MemoryAttributeStore(P);
        var log = new List<string>();
        s.RangeChanging += (_, e) => log.Add($"pre {e.StartGfn:x}-{e.EndGfn:x} {e.Attributes} stored={s.Get(e.StartGfn)}");
        s.RangeChanged += (_, e) => log.Add($"post {e.StartGfn:x}-{e.EndGfn:x} {e.Attributes} stored={s.Get(e.StartGfn)}");

        KvmResult r = s.SetMemoryAttributes(new KvmMemoryAttributes { Address = 0x8000_0000, Size = 0x20_0000, Attributes = P });

        Assert.Equal(0, r.ReturnValue);
        Assert.Equal(["pre 80000-80200 8 stored=0", "post 80000-80200 8 stored=8"], log);
        Assert.True(s.RangeHasAttributes(0x80000, 0x80200, All, P));
        Assert.Equal(0UL, s.Get(0x80200));
    }

    [Fact]
    public void SetMemoryAttributes_WholeRangeAlreadyHasTheValue_IsANoOpWithoutHooks()
    {
        var s = new MemoryAttributeStore(P);
        s.Set(0x80000, 0x80200, P);
        int hooks = 0;
        s.RangeChanging += (_, _) => hooks++;
        s.RangeChanged += (_, _) => hooks++;

        Assert.Equal(0, s.SetMemoryAttributes(new KvmMemoryAttributes { Address = 0x8010_0000, Size = 0x1000, Attributes = P }).ReturnValue);
        Assert.Equal(0, s.SetMemoryAttributes(new KvmMemoryAttributes { Address = 0x4000_0000, Size = 0x10_0000, Attributes = 0 }).ReturnValue);

        Assert.Equal(0, hooks);
    }

    [Fact]
    public void SetMemoryAttributes_PartlyDifferentRange_ChangesOnlyWhatItCovers()
    {
        var s = new MemoryAttributeStore(P);
        s.Set(0x80000, 0x80200, P);
        int hooks = 0;
        s.RangeChanged += (_, _) => hooks++;

        s.SetMemoryAttributes(new KvmMemoryAttributes { Address = 0x8010_0000, Size = 0x20_0000, Attributes = 0 });

        Assert.Equal(1, hooks);
        Assert.Equal([(0x80000UL, 0x80100UL, P)], s.Ranges.Select(r => (r.Start, r.End, r.Value)));
    }

    [Fact]
    public void OneTebibytePrivate_SetQueriedAndFlippedBack_IsOneRangeAndFast()
    {
        var s = new MemoryAttributeStore(P);
        var toPrivate = new KvmMemoryAttributes { Address = 0x8000_0000, Size = 1UL << 40, Attributes = P };
        ulong start = 0x8000_0000 >> 12;
        ulong end = start + (1UL << 28);

        var sw = Stopwatch.StartNew();
        KvmResult set = s.SetMemoryAttributes(toPrivate);
        bool allPrivate = s.RangeHasAttributes(start, end, P, P);
        sw.Stop();

        Assert.Equal(0, set.ReturnValue);
        Assert.True(allPrivate);
        Assert.Equal(1, s.RangeCount);
        Assert.Equal([(start, end, P)], s.Ranges.Select(r => (r.Start, r.End, r.Value)));
        Assert.True(sw.Elapsed < TimeSpan.FromMilliseconds(50), $"1 TiB set + query took {sw.Elapsed.TotalMilliseconds} ms");

        Assert.Equal(0, s.SetMemoryAttributes(toPrivate with { Attributes = 0 }).ReturnValue);
        Assert.Equal(0, s.RangeCount);
        Assert.True(s.RangeHasAttributes(start, end, All, 0));
    }
}
