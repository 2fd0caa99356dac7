namespace CcaSim.Platform.Memory;

/// <summary>
/// The machine's DRAM: a contiguous range of 4 KiB granules. Storage is committed in 2 MiB slabs on first write
/// and released when every granule of a slab is zero again, so a pool can describe far more memory (up to 1 TiB)
/// than the host process ever backs.
/// Slabs are pinned: a CPU engine maps granules into the guest by host address (<see cref="HostAddress"/>), and the
/// memory behind a mapped granule must stay put while the guest accesses it directly.
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
    private const int ChunkBytes = ChunkGranules * GranuleSize;

    private static readonly byte[] s_zeroGranule = new byte[GranuleSize];
    private readonly Chunk?[] _chunks;
    private long _committed;
    private long _slabs;

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
        _chunks = new Chunk?[(GranuleCount + ChunkGranules - 1) >> ChunkShift];
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

    /// <summary>Number of 2 MiB slabs of host storage the pool currently holds.</summary>
    public long CommittedSlabs => _slabs;

    /// <summary>Bytes of host storage the pool may hold; writes of the normal world past it fail (see <see cref="MemoryAccessStatus.StorageExhausted"/>).</summary>
    public ulong CommitLimit { get; init; } = ulong.MaxValue;

    /// <summary>Size of one slab of host storage.</summary>
    public const int SlabSize = ChunkBytes;

    /// <summary>True when [pa, pa+length) (inside the pool) can be written without taking storage past <see cref="CommitLimit"/>.</summary>
    internal bool HasStorageFor(ulong pa, ulong length)
    {
        ulong first = GranuleIndex(pa) >> ChunkShift;
        ulong last = GranuleIndex(pa + length - 1) >> ChunkShift;
        ulong needed = 0;
        for (ulong c = first; c <= last; c++)
        {
            needed += _chunks[c] is null ? 1UL : 0UL;
        }

        return needed == 0 || ((ulong)_slabs + needed) <= CommitLimit / ChunkBytes;
    }

    /// <summary>True when [pa, pa+length) lies inside the pool.</summary>
    public bool Contains(ulong pa, ulong length = 1) => pa >= Base && length <= Size && pa - Base <= Size - length;

    /// <summary>Index of the granule holding <paramref name="pa"/>; the address must be in the pool.</summary>
    public ulong GranuleIndex(ulong pa) => (pa - Base) >> GranuleShift;

    /// <summary>Physical address of granule <paramref name="index"/>.</summary>
    public ulong GranuleAddress(ulong index) => Base + (index << GranuleShift);

    internal ReadOnlySpan<byte> ReadGranule(ulong index)
    {
        // A slab's uncommitted granules are kept zero, so the slab can be read whatever the bitmap says.
        Chunk? chunk = _chunks[index >> ChunkShift];
        return chunk is null ? s_zeroGranule : chunk.Granule(index);
    }

    internal bool IsCommitted(ulong index) => _chunks[index >> ChunkShift]?.IsCommitted(index) == true;

    internal Span<byte> WriteGranule(ulong index)
    {
        ref Chunk? slot = ref _chunks[index >> ChunkShift];
        if (slot is null)
        {
            slot = new Chunk();
            _slabs++;
        }

        Chunk chunk = slot;
        if (chunk.Commit(index))
        {
            _committed++;
        }

        return chunk.Granule(index);
    }

    /// <summary>
    /// Host address of granule <paramref name="index"/>'s 4 KiB, committing its storage: a CPU engine maps it into the
    /// guest and accesses it directly. The address stays valid until the granule is zeroed (which its owner does
    /// only after unmapping it from every engine) or the pool is dropped.
    /// </summary>
    internal nint HostAddress(ulong index)
    {
        _ = WriteGranule(index);
        return _chunks[index >> ChunkShift]!.Address(index);
    }

    /// <summary>Zeroes a granule; the slab behind it goes back to the pool once none of its granules holds data.</summary>
    internal void ZeroGranule(ulong index)
    {
        ref Chunk? chunk = ref _chunks[index >> ChunkShift];
        if (chunk is not null && chunk.Release(index))
        {
            _committed--;
            if (chunk.Count == 0)
            {
                chunk.ReturnStorage();
                chunk = null;
                _slabs--;
            }
        }
    }

    /// <summary>
    /// 2 MiB of storage for 512 granules, taken on the first write to any of them. One large array instead of
    /// one per granule: a populated realm is hundreds of thousands of granules, and small arrays would be copied
    /// by every GC promotion and tracked one by one.
    /// </summary>
    private sealed class Chunk
    {
        private readonly byte[] _data = SlabPool.Rent();
        private readonly ulong[] _committed = new ulong[ChunkGranules / 64];

        public int Count { get; private set; }

        public Span<byte> Granule(ulong index) => _data.AsSpan((int)(index & (ChunkGranules - 1)) << GranuleShift, GranuleSize);

        public nint Address(ulong index) => System.Runtime.InteropServices.Marshal.UnsafeAddrOfPinnedArrayElement(_data, (int)(index & (ChunkGranules - 1)) << GranuleShift);

        public bool IsCommitted(ulong index)
        {
            int i = (int)(index & (ChunkGranules - 1));
            return (_committed[i >> 6] & (1UL << i)) != 0;
        }

        /// <summary>Marks the granule as holding data; true when it did not before.</summary>
        public bool Commit(ulong index)
        {
            int i = (int)(index & (ChunkGranules - 1));
            ref ulong word = ref _committed[i >> 6];
            if ((word & (1UL << i)) != 0)
            {
                return false;
            }

            word |= 1UL << i;
            Count++;
            return true;
        }

        /// <summary>Zeroes a committed granule and forgets it; false when it held nothing.</summary>
        public bool Release(ulong index)
        {
            if (!IsCommitted(index))
            {
                return false;
            }

            int i = (int)(index & (ChunkGranules - 1));
            _committed[i >> 6] &= ~(1UL << i);
            Count--;

            Granule(index).Clear();
            return true;
        }

        /// <summary>Hands the (all-zero) storage of an empty chunk back to the pool; the chunk is not used again.</summary>
        public void ReturnStorage() => SlabPool.Return(_data);
    }

    /// <summary>
    /// Zeroed slabs that emptied chunks gave back, for any pool of the process to reuse. Memory the process has
    /// never touched costs a page fault per 4 KiB on first write (1–10 µs on a virtual machine, more than hashing
    /// the page), which the real kernel's page allocator never pays; reusing a slab costs nothing. The pool keeps
    /// at most 1 GiB; a chunk abandoned with its platform is simply collected.
    /// </summary>
    private static class SlabPool
    {
        private const int MaxPooled = 512;
        private static readonly Stack<byte[]> s_slabs = new();
        private static readonly Lock s_lock = new();

        public static byte[] Rent()
        {
            lock (s_lock)
            {
                if (s_slabs.TryPop(out byte[]? slab))
                {
                    return slab;
                }
            }

            return GC.AllocateArray<byte>(ChunkBytes, pinned: true);
        }

        public static void Return(byte[] slab)
        {
            lock (s_lock)
            {
                if (s_slabs.Count < MaxPooled)
                {
                    s_slabs.Push(slab);
                }
            }
        }
    }
}
