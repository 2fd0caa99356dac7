namespace CcaSim.Platform.Memory;

/// <summary>
/// The machine's DRAM: a contiguous range of 4 KiB granules. Storage is committed per granule on first write,
/// so a pool can describe far more memory (up to 1 TiB) than the host process ever backs.
/// A granule with no storage reads as zero. There is no access check here: every access goes through a
/// <see cref="MemoryAccessor"/>, which applies the granule protection check for its world.
/// </summary>
public sealed class PhysicalMemory
{
    public const int GranuleShift = 12;
    public const int GranuleSize = 1 << GranuleShift;
    public const ulong MaxSize = 1UL << 40;

    private const int ChunkShift = 9;
    private const int ChunkGranules = 1 << ChunkShift;

    private static readonly byte[] s_zeroGranule = new byte[GranuleSize];
    private readonly byte[]?[]?[] _chunks;
    private long _committed;

    public PhysicalMemory(ulong basePa, ulong size)
    {
        string? problem = Validate(basePa, size);
        if (problem is not null)
        {
            throw new ArgumentOutOfRangeException(nameof(size), problem);
        }

        Base = basePa;
        Size = size;
        GranuleCount = size >> GranuleShift;
        _chunks = new byte[]?[]?[(GranuleCount + ChunkGranules - 1) >> ChunkShift];
    }

    /// <summary>Why a pool of this base and size cannot exist, or null when it can.</summary>
    public static string? Validate(ulong basePa, ulong size)
    {
        if (size == 0 || size % GranuleSize != 0 || size > MaxSize)
        {
            return $"pool size must be a non-zero multiple of 4 KiB, at most 1 TiB (was 0x{size:x})";
        }

        if (basePa % GranuleSize != 0 || basePa + size < basePa || basePa + size > 1UL << 52)
        {
            return $"pool base must be 4 KiB aligned and the pool must end below 2^52 (was 0x{basePa:x})";
        }

        return null;
    }

    /// <summary>Physical address of the first granule.</summary>
    public ulong Base { get; }

    /// <summary>Size of the pool in bytes.</summary>
    public ulong Size { get; }

    /// <summary>First address past the pool.</summary>
    public ulong End => Base + Size;

    public ulong GranuleCount { get; }

    /// <summary>Number of granules that currently have host storage behind them.</summary>
    public long CommittedGranules => _committed;

    /// <summary>True when [pa, pa+length) lies inside the pool.</summary>
    public bool Contains(ulong pa, ulong length = 1) => pa >= Base && length <= Size && pa - Base <= Size - length;

    /// <summary>Index of the granule holding <paramref name="pa"/>; the address must be in the pool.</summary>
    public ulong GranuleIndex(ulong pa) => (pa - Base) >> GranuleShift;

    /// <summary>Physical address of granule <paramref name="index"/>.</summary>
    public ulong GranuleAddress(ulong index) => Base + (index << GranuleShift);

    internal ReadOnlySpan<byte> ReadGranule(ulong index)
    {
        byte[]?[]? chunk = _chunks[index >> ChunkShift];
        return chunk?[index & (ChunkGranules - 1)] ?? s_zeroGranule;
    }

    internal bool IsCommitted(ulong index) => _chunks[index >> ChunkShift]?[index & (ChunkGranules - 1)] is not null;

    internal Span<byte> WriteGranule(ulong index)
    {
        ref byte[]?[]? chunk = ref _chunks[index >> ChunkShift];
        chunk ??= new byte[ChunkGranules][];
        ref byte[]? granule = ref chunk[index & (ChunkGranules - 1)];
        if (granule is null)
        {
            granule = new byte[GranuleSize];
            _committed++;
        }

        return granule;
    }

    /// <summary>Zeroes a granule by releasing its storage.</summary>
    internal void ZeroGranule(ulong index)
    {
        byte[]?[]? chunk = _chunks[index >> ChunkShift];
        if (chunk is not null && chunk[index & (ChunkGranules - 1)] is not null)
        {
            chunk[index & (ChunkGranules - 1)] = null;
            _committed--;
        }
    }
}
