using CcaSim.Kvm.Host;
using CcaSim.Platform;

namespace CcaSim.Kvm.Tests.Host;

/// <summary>The VMM process's anonymous mappings, as KVM's copy_from_user and page pinning see them.</summary>
public sealed class ProcessMemoryTests
{
    private const ulong Page = HostPageAllocator.PageSize;

    private readonly CcaPlatform _platform = new(new PlatformOptions { MemorySize = 64 * Page });
    private readonly HostPageAllocator _pages;
    private readonly ProcessMemory _process;

    public ProcessMemoryTests()
    {
        _pages = new HostPageAllocator(_platform);
        _process = new ProcessMemory(_pages, _platform.HostMemory);
    }

    [Fact]
    public void Mmap_PlacesTheFirstMappingAtTheMmapBase_AndLeavesAGuardPageBeforeTheNext()
    {
        ulong first = (ulong)_process.Mmap(2 * Page).ReturnValue;
        ulong second = (ulong)_process.Mmap(Page).ReturnValue;

        Assert.Equal(ProcessMemory.MmapBase, first);
        Assert.Equal(first + (3 * Page), second);
        Assert.Null(_process.Translate(first + (2 * Page)));
    }

    [Fact]
    public void Mmap_RoundsUpToWholePages_BackedByContiguousHostPages()
    {
        ulong address = (ulong)_process.Mmap(Page + 1).ReturnValue;

        Assert.Equal(2, _pages.UsedPages);
        ulong pa = _process.Translate(address)!.Value;
        Assert.Equal(pa + Page + 0x10, _process.Translate(address + Page + 0x10));
        Assert.Null(_process.Translate(address + (2 * Page)));
    }

    [Fact]
    public void Mmap_ReturnsZeroedMemory_EvenOverPagesUsedBefore()
    {
        ulong first = (ulong)_process.Mmap(Page).ReturnValue;
        Assert.True(_process.TryWrite(first, [1, 2, 3, 4]));
        Assert.Equal(0, _process.Munmap(first).ReturnValue);

        ulong second = (ulong)_process.Mmap(Page).ReturnValue;

        var bytes = new byte[4];
        Assert.True(_process.TryRead(second, bytes));
        Assert.Equal(new byte[4], bytes);
    }

    [Fact]
    public void Mmap_OfZeroBytes_ReturnsEinval()
    {
        Assert.Equal(Errno.EINVAL, _process.Mmap(0).Error);
    }

    [Fact]
    public void Mmap_LargerThanTheFreePool_ReturnsEnomem()
    {
        Assert.Equal(Errno.ENOMEM, _process.Mmap(65 * Page).Error);
        Assert.Equal(0, _pages.UsedPages);
    }

    [Fact]
    public void TryWriteThenTryRead_RoundTripsThroughTheBackingPages()
    {
        ulong address = (ulong)_process.Mmap(2 * Page).ReturnValue;
        byte[] data = [.. Enumerable.Range(0, 32).Select(i => (byte)i)];

        Assert.True(_process.TryWrite(address + Page - 16, data));

        var back = new byte[32];
        Assert.True(_process.TryRead(address + Page - 16, back));
        Assert.Equal(data, back);
        var host = new byte[32];
        Assert.Equal(Platform.Memory.MemoryAccessStatus.Ok, _platform.HostMemory.TryRead(_process.Translate(address)!.Value + Page - 16, host));
        Assert.Equal(data, host);
    }

    [Fact]
    public void TryReadAndTryWrite_RunningPastTheMappingEnd_Fail()
    {
        ulong address = (ulong)_process.Mmap(Page).ReturnValue;

        Assert.False(_process.TryRead(address + Page - 4, new byte[8]));
        Assert.False(_process.TryWrite(address + Page - 4, new byte[8]));
        Assert.True(_process.TryRead(address + Page - 8, new byte[8]));
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(0x1000UL)]
    [InlineData(ProcessMemory.MmapBase - 1)]
    public void UnmappedAddresses_DoNotTranslate_AndCannotBeCopied(ulong address)
    {
        _process.Mmap(Page);

        Assert.Null(_process.Translate(address));
        Assert.False(_process.TryRead(address, new byte[1]));
        Assert.False(_process.TryWrite(address, new byte[1]));
    }

    [Fact]
    public void Munmap_FreesTheBackingPages_AndTheRangeNoLongerTranslates()
    {
        ulong address = (ulong)_process.Mmap(3 * Page).ReturnValue;

        Assert.Equal(0, _process.Munmap(address).ReturnValue);

        Assert.Equal(0, _pages.UsedPages);
        Assert.Null(_process.Translate(address));
    }

    [Fact]
    public void Munmap_OfAnAddressThatDoesNotStartAMapping_ReturnsEinval()
    {
        ulong address = (ulong)_process.Mmap(2 * Page).ReturnValue;

        Assert.Equal(Errno.EINVAL, _process.Munmap(address + Page).Error);
        Assert.Equal(Errno.EINVAL, _process.Munmap(0x1234_0000).Error);
        Assert.Equal(2, _pages.UsedPages);
    }
}
