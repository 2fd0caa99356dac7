using CcaSim.Kvm.Host;
using CcaSim.Platform;
using CcaSim.Platform.Memory;

namespace CcaSim.Kvm.Tests.Host;

/// <summary>The host kernel's page allocator: lowest address first, contiguous runs, leaks never come back (kvm-realm-abi.md §2.17).</summary>
public sealed class HostPageAllocatorTests
{
    private const ulong Page = HostPageAllocator.PageSize;
    private const ulong Base = PlatformOptions.DefaultMemoryBase;

    private static HostPageAllocator NewAllocator(ulong pages = 64, params PasRange[] reserved) =>
        new(new CcaPlatform(new PlatformOptions { MemorySize = pages * Page, ReservedRanges = reserved }));

    [Fact]
    public void Allocate_HandsOutPagesLowestAddressFirst()
    {
        HostPageAllocator pages = NewAllocator();

        Assert.Equal(Base, pages.Allocate());
        Assert.Equal(Base + Page, pages.Allocate());
        Assert.Equal(2, pages.UsedPages);
        Assert.Equal(62, pages.FreePages);
    }

    [Fact]
    public void Allocate_AfterFree_ReusesTheLowestFreedPage()
    {
        HostPageAllocator pages = NewAllocator();
        ulong[] taken = [.. Enumerable.Range(0, 5).Select(_ => pages.Allocate()!.Value)];

        pages.Free(taken[3]);
        pages.Free(taken[1]);

        Assert.Equal(taken[1], pages.Allocate());
        Assert.Equal(taken[3], pages.Allocate());
    }

    [Fact]
    public void Allocate_WhenThePoolIsExhausted_ReturnsNull()
    {
        HostPageAllocator pages = NewAllocator(pages: 4);
        for (int i = 0; i < 4; i++)
        {
            Assert.NotNull(pages.Allocate());
        }

        Assert.Null(pages.Allocate());
        Assert.Equal(0, pages.FreePages);
    }

    [Fact]
    public void Constructor_LeavesGranulesOutsideTheNonSecureWorldToNobody()
    {
        HostPageAllocator pages = NewAllocator(8, new PasRange(Base, 2 * Page, Pas.Secure), new PasRange(Base + (5 * Page), Page, Pas.Root));

        Assert.Equal(5, pages.TotalPages);
        ulong[] all = [.. Enumerable.Range(0, 5).Select(_ => pages.Allocate()!.Value)];
        Assert.Equal([Base + (2 * Page), Base + (3 * Page), Base + (4 * Page), Base + (6 * Page), Base + (7 * Page)], all);
        Assert.Null(pages.Allocate());
    }

    [Fact]
    public void AllocateContiguous_ReturnsAnAlignedRunOfFreePages()
    {
        HostPageAllocator pages = NewAllocator();
        pages.Allocate();

        ulong? run = pages.AllocateContiguous(4, 4);

        Assert.Equal(Base + (4 * Page), run);
        Assert.Equal(5, pages.UsedPages);
        Assert.Equal(Base + Page, pages.Allocate());
    }

    [Fact]
    public void AllocateContiguous_SkipsRunsBrokenByAUsedPage()
    {
        HostPageAllocator pages = NewAllocator(pages: 16);
        ulong[] taken = [.. Enumerable.Range(0, 8).Select(_ => pages.Allocate()!.Value)];
        foreach (int i in new[] { 0, 1, 4, 5, 6 })
        {
            pages.Free(taken[i]);
        }

        Assert.Equal(Base + (4 * Page), pages.AllocateContiguous(3));
        Assert.Equal(Base + (8 * Page), pages.AllocateContiguous(4));
    }

    [Fact]
    public void AllocateContiguous_WithoutRoom_ReturnsNull_AndTakesNothing()
    {
        HostPageAllocator pages = NewAllocator(pages: 8);
        pages.Allocate();

        Assert.Null(pages.AllocateContiguous(8));
        Assert.Null(pages.AllocateContiguous(7, 2));
        Assert.Equal(1, pages.UsedPages);
    }

    [Fact]
    public void AllocateContiguous_OfZeroPages_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => NewAllocator().AllocateContiguous(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => NewAllocator().AllocateContiguous(1, 0));
    }

    [Fact]
    public void Free_OfAFreePage_Throws()
    {
        HostPageAllocator pages = NewAllocator();
        ulong pa = pages.Allocate()!.Value;
        pages.Free(pa);

        Assert.Throws<InvalidOperationException>(() => pages.Free(pa));
    }

    [Theory]
    [InlineData(Base + 1)]
    [InlineData(Base - Page)]
    [InlineData(Base + (64 * Page))]
    public void Free_OfAnAddressOutsideThePoolOrMisaligned_Throws(ulong pa)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => NewAllocator().Free(pa));
    }

    [Fact]
    public void Leak_CountsThePage_AndItIsNeverHandedOutAgain()
    {
        HostPageAllocator pages = NewAllocator(pages: 2);
        ulong lost = pages.Allocate()!.Value;

        pages.Leak(lost);

        Assert.Equal(1, pages.Leaked);
        Assert.Equal(0, pages.UsedPages);
        Assert.Equal(1, pages.FreePages);
        Assert.Equal(Base + Page, pages.Allocate());
        Assert.Null(pages.Allocate());
    }

    [Fact]
    public void LeakedPage_FreedLaterByItsOwner_StaysOutOfCirculation()
    {
        HostPageAllocator pages = NewAllocator(pages: 2);
        ulong lost = pages.Allocate()!.Value;
        ulong other = pages.Allocate()!.Value;

        pages.Leak(lost);
        pages.Free(lost);
        pages.Free(other);

        Assert.Equal(1, pages.Leaked);
        Assert.Equal(1, pages.FreePages);
        Assert.Equal(other, pages.Allocate());
        Assert.Null(pages.Allocate());
    }

    [Fact]
    public void Leak_OfAFreePageOrTwice_Throws()
    {
        HostPageAllocator pages = NewAllocator();
        Assert.Throws<InvalidOperationException>(() => pages.Leak(Base));
        ulong pa = pages.Allocate()!.Value;
        pages.Leak(pa);
        Assert.Throws<InvalidOperationException>(() => pages.Leak(pa));
    }
}
