using CcaSim.Kvm.Host;
using CcaSim.Platform;

namespace CcaSim.Kvm.Tests.Host;

/// <summary>The host page allocator KVM takes RDs, RTTs, RECs and guest_memfd pages from (§2.17 leak rule).</summary>
public sealed class HostPageAllocatorTests
{
    private const ulong Page = HostPageAllocator.PageSize;

    private static (CcaPlatform Platform, HostPageAllocator Pages) Pool(ulong pages = 64)
    {
        var platform = new CcaPlatform(new PlatformOptions { MemorySize = pages * Page });
        return (platform, new HostPageAllocator(platform));
    }

    [Fact]
    public void Allocate_HandsOutTheLowestFreePageFirst_AndNullWhenExhausted()
    {
        var (platform, pages) = Pool(4);
        ulong baseAddress = platform.Options.MemoryBase;

        ulong?[] got = [pages.Allocate(), pages.Allocate(), pages.Allocate(), pages.Allocate(), pages.Allocate()];

        Assert.Equal([baseAddress, baseAddress + Page, baseAddress + (2 * Page), baseAddress + (3 * Page), null], got);
        pages.Free(baseAddress + Page);
        Assert.Equal(baseAddress + Page, pages.Allocate());
    }

    [Fact]
    public void AllocateContiguous_StartsOnTheAlignmentGrid_SkippingBusyPages()
    {
        var (platform, pages) = Pool(64);
        ulong baseAddress = platform.Options.MemoryBase;
        Assert.Equal(baseAddress, pages.Allocate());

        ulong? run = pages.AllocateContiguous(4, alignPages: 4);

        Assert.Equal(baseAddress + (4 * Page), run);
        Assert.Equal(5, pages.UsedPages);
        Assert.Null(pages.AllocateContiguous(64));
    }

    [Fact]
    public void Free_OfAFreePage_Throws()
    {
        var (_, pages) = Pool();
        ulong pa = pages.Allocate()!.Value;
        pages.Free(pa);

        Assert.Throws<InvalidOperationException>(() => pages.Free(pa));
    }

    [Fact]
    public void LeakedPage_IsNeverAllocatedAgain_EvenAfterItsOwnerFreesIt()
    {
        var (_, pages) = Pool(2);
        ulong leaked = pages.Allocate()!.Value;
        ulong other = pages.Allocate()!.Value;
        long free = pages.FreePages;

        pages.Leak(leaked);
        pages.Free(leaked);
        pages.Free(other);

        Assert.Equal(1, pages.Leaked);
        Assert.Equal(free + 1, pages.FreePages);
        Assert.Equal(other, pages.Allocate());
        Assert.Null(pages.Allocate());
        Assert.Throws<InvalidOperationException>(() => pages.Leak(leaked));
    }
}
