using CcaSim.Platform.Memory;

namespace CcaSim.Platform.Tests.Memory;

public sealed class PhysicalMemoryTests
{
    [Fact]
    public void Pool_Of64GiB_CommitsStorageOnlyForGranulesWritten()
    {
        var platform = new CcaPlatform(new PlatformOptions { MemoryBase = 0x8000_0000, MemorySize = 64UL << 30 });
        ulong last = platform.Memory.End - 0x1000;

        platform.HostMemory.Write64(platform.Memory.Base, 1);
        platform.HostMemory.Write64(last + 0xFF8, 2);
        ulong untouched = platform.HostMemory.Read64(platform.Memory.Base + (32UL << 30));

        Assert.Equal(16UL << 20, platform.Memory.GranuleCount);
        Assert.Equal(2, platform.Memory.CommittedGranules);
        Assert.Equal(0UL, untouched);
        Assert.Equal(2UL, platform.HostMemory.Read64(last + 0xFF8));
    }

    [Fact]
    public void HostWrite_PastTheCommitLimit_ReportsStorageExhaustedAndChangesNothing()
    {
        var platform = new CcaPlatform(new PlatformOptions { MemorySize = 1UL << 30, MaxCommittedBytes = 2UL * PhysicalMemory.SlabSize });
        ulong slab = PhysicalMemory.SlabSize;
        ulong g0 = platform.Memory.Base;

        Assert.Equal(MemoryAccessStatus.Ok, platform.HostMemory.TryWrite64(g0, 1));
        Assert.Equal(MemoryAccessStatus.Ok, platform.HostMemory.TryWrite64(g0 + slab, 2));
        Assert.Equal(MemoryAccessStatus.StorageExhausted, platform.HostMemory.TryWrite64(g0 + (2 * slab), 3));
        Assert.Equal(MemoryAccessStatus.Ok, platform.HostMemory.TryWrite64(g0 + 0x1000, 4));

        Assert.Equal(2, platform.Memory.CommittedSlabs);
        Assert.Equal(0UL, platform.HostMemory.Read64(g0 + (2 * slab)));
    }

    [Fact]
    public void HostWrite_AfterASlabIsReleased_FitsUnderTheCommitLimitAgain()
    {
        var platform = new CcaPlatform(new PlatformOptions { MemorySize = 1UL << 30, MaxCommittedBytes = PhysicalMemory.SlabSize });
        ulong g0 = platform.Memory.Base;
        ulong other = g0 + (5UL * PhysicalMemory.SlabSize);
        platform.HostMemory.Write64(g0, 1);

        Assert.Equal(MemoryAccessStatus.StorageExhausted, platform.HostMemory.TryWrite64(other, 2));
        Assert.Equal(MemoryAccessStatus.Ok, platform.HostMemory.TryZero(g0, PhysicalMemory.GranuleSize));
        Assert.Equal(MemoryAccessStatus.Ok, platform.HostMemory.TryWrite64(other, 2));
        Assert.Equal(2UL, platform.HostMemory.Read64(other));
        Assert.Equal(1, platform.Memory.CommittedSlabs);
    }

    [Fact]
    public void Zeroing_AWholeGranule_ReleasesItsStorage()
    {
        var platform = new CcaPlatform(new PlatformOptions { MemorySize = 1UL << 20 });
        ulong pa = platform.Memory.Base + 0x3000;
        platform.HostMemory.Write64(pa + 8, 0xAB);

        Assert.Equal(MemoryAccessStatus.Ok, platform.HostMemory.TryZero(pa, 0x1000));

        Assert.Equal(0, platform.Memory.CommittedGranules);
        Assert.Equal(0UL, platform.HostMemory.Read64(pa + 8));
    }

    [Fact]
    public void Zeroing_OneGranuleOfASlab_KeepsItsNeighbours()
    {
        var platform = new CcaPlatform(new PlatformOptions { MemorySize = 1UL << 20 });
        ulong pa = platform.Memory.Base;
        platform.HostMemory.Write64(pa, 0x11);
        platform.HostMemory.Write64(pa + 0x1000, 0x22);

        Assert.Equal(MemoryAccessStatus.Ok, platform.HostMemory.TryZero(pa, 0x1000));

        Assert.Equal(1, platform.Memory.CommittedGranules);
        Assert.Equal(0UL, platform.HostMemory.Read64(pa));
        Assert.Equal(0x22UL, platform.HostMemory.Read64(pa + 0x1000));
    }

    [Fact]
    public void Slab_ReleasedByOnePool_ReadsAsZeroWhenAnotherPoolWritesToIt()
    {
        // 2 MiB of 0xFF fills a whole slab; zeroing it hands the slab to the process-wide pool, from which the next
        // first write (here, in another pool) may take it. Whatever it takes, nothing of the first pool shows.
        const ulong slab = 2UL << 20;
        var first = new CcaPlatform(new PlatformOptions { MemorySize = 4UL << 20 });
        byte[] ones = new byte[0x1000];
        Array.Fill(ones, (byte)0xFF);
        for (ulong off = 0; off < slab; off += 0x1000)
        {
            Assert.Equal(MemoryAccessStatus.Ok, first.HostMemory.TryWrite(first.Memory.Base + off, ones));
        }

        Assert.Equal(MemoryAccessStatus.Ok, first.HostMemory.TryZero(first.Memory.Base, slab));
        Assert.Equal(0, first.Memory.CommittedGranules);

        var second = new CcaPlatform(new PlatformOptions { MemorySize = 4UL << 20 });
        second.HostMemory.Write64(second.Memory.Base + 0x5008, 0x5A);
        byte[] contents = new byte[slab];
        Assert.Equal(MemoryAccessStatus.Ok, second.HostMemory.TryRead(second.Memory.Base, contents));

        Assert.Equal(1, second.Memory.CommittedGranules);
        Assert.Equal(0x5A, contents[0x5008]);
        contents[0x5008] = 0;
        Assert.False(contents.AsSpan().ContainsAnyExcept((byte)0));
    }

    [Theory]
    [InlineData(0UL, 0x1000UL)]
    [InlineData(0x1000UL, 0x1001UL)]
    [InlineData(0x800UL, 0x1000UL)]
    [InlineData(0x1000UL, (1UL << 40) + 0x1000)]
    public void Construction_WithBadGeometry_IsRefused(ulong basePa, ulong size)
    {
        Assert.ThrowsAny<ArgumentException>(() => new PhysicalMemory(basePa == 0 ? 0x1000 : basePa, basePa == 0 ? 0 : size));
    }

    [Theory]
    [InlineData(0x8000_0000UL, 8UL, true)]
    [InlineData(0x7FFF_FFF8UL, 8UL, false)]
    [InlineData(0x8010_0000UL - 8, 8UL, true)]
    [InlineData(0x8010_0000UL - 4, 8UL, false)]
    [InlineData(ulong.MaxValue - 3, 8UL, false)]
    public void Contains_ChecksBothEndsWithoutOverflow(ulong pa, ulong length, bool expected)
    {
        var memory = new PhysicalMemory(0x8000_0000, 1UL << 20);

        Assert.Equal(expected, memory.Contains(pa, length));
    }
}
