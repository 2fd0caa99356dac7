using CcaSim.Platform;
using CcaSim.Platform.Memory;

namespace CcaSim.Kvm.Host;

/// <summary>
/// The host kernel's page allocator over the platform's memory pool: 4 KiB non-secure granules, lowest address
/// first so that runs are deterministic. KVM takes RDs, RTTs, RECs, aux granules and guest_memfd pages from it;
/// the process model takes user mappings from it. A page whose undelegate failed is never handed back
/// (kvm-realm-abi.md §2.17: it stays leaked), and <see cref="Leaked"/> counts those.
/// </summary>
public sealed class HostPageAllocator
{
    public const ulong PageSize = PhysicalMemory.GranuleSize;

    private readonly PhysicalMemory _memory;
    private readonly ulong[] _used;
    private readonly HashSet<ulong> _leaked = [];
    private ulong _hint;

    public HostPageAllocator(CcaPlatform platform)
    {
        ArgumentNullException.ThrowIfNull(platform);
        _memory = platform.Memory;
        _used = new ulong[(_memory.GranuleCount + 63) / 64];
        for (ulong i = 0; i < _memory.GranuleCount; i++)
        {
            // Granules outside the non-secure world at boot (reserved ranges: firmware, the RMM's own memory)
            // never belong to the kernel.
            if (platform.Gpt[_memory.GranuleAddress(i)] != Pas.NonSecure)
            {
                MarkUsed(i);
                TotalPages--;
            }
        }

        TotalPages += (long)_memory.GranuleCount;
    }

    /// <summary>Pages the kernel may ever hand out.</summary>
    public long TotalPages { get; }

    public long UsedPages { get; private set; }

    public long FreePages => TotalPages - UsedPages - Leaked;

    /// <summary>Pages lost to a failed undelegate.</summary>
    public long Leaked { get; private set; }

    /// <summary>One page, or null when the pool is exhausted (-ENOMEM for the caller).</summary>
    public ulong? Allocate()
    {
        ulong words = (ulong)_used.Length;
        for (ulong n = 0; n < words; n++)
        {
            ulong w = (_hint + n) % words;
            if (_used[w] != ulong.MaxValue)
            {
                int bit = System.Numerics.BitOperations.TrailingZeroCount(~_used[w]);
                ulong index = (w * 64) + (ulong)bit;
                if (index >= _memory.GranuleCount)
                {
                    continue;
                }

                _hint = w;
                MarkUsed(index);
                UsedPages++;
                return _memory.GranuleAddress(index);
            }
        }

        return null;
    }

    /// <summary><paramref name="count"/> physically contiguous pages aligned to <paramref name="alignPages"/> pages, or null.</summary>
    public ulong? AllocateContiguous(ulong count, ulong alignPages = 1)
    {
        if (count == 0 || alignPages == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(count), "a contiguous allocation needs at least one page and a non-zero alignment");
        }

        ulong basePage = _memory.Base >> PhysicalMemory.GranuleShift;
        ulong first = (alignPages - (basePage % alignPages)) % alignPages;
        ulong start = first;
        while (start + count <= _memory.GranuleCount)
        {
            ulong busy = LastUsedIn(start, count);
            if (busy == ulong.MaxValue)
            {
                for (ulong i = start; i < start + count; i++)
                {
                    MarkUsed(i);
                }

                UsedPages += (long)count;
                return _memory.GranuleAddress(start);
            }

            // Resume after the busy page, on the alignment grid.
            start = first + (((busy + 1 - first) + alignPages - 1) / alignPages * alignPages);
        }

        return null;
    }

    /// <summary>
    /// Returns a page. Freeing a leaked page is a no-op: its owner (a guest_memfd file, say) lets go of it, but the
    /// page stays out of circulation because the RMM may still hold it.
    /// </summary>
    public void Free(ulong pa)
    {
        ulong index = Index(pa);
        if (_leaked.Contains(index))
        {
            return;
        }

        if (!IsUsed(index))
        {
            throw new InvalidOperationException($"page 0x{pa:x} freed twice");
        }

        _used[index / 64] &= ~(1UL << (int)(index % 64));
        UsedPages--;
        _hint = Math.Min(_hint, index / 64);
    }

    /// <summary>
    /// Gives up a page for good: its undelegate (or data destroy) failed, so it may still be realm memory (§2.17).
    /// The page stays marked used, so no allocation returns it again.
    /// </summary>
    public void Leak(ulong pa)
    {
        ulong index = Index(pa);
        if (!IsUsed(index) || !_leaked.Add(index))
        {
            throw new InvalidOperationException($"page 0x{pa:x} leaked while free or leaked twice");
        }

        UsedPages--;
        Leaked++;
    }

    private ulong Index(ulong pa)
    {
        if (!_memory.Contains(pa, PageSize) || pa % PageSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(pa), $"0x{pa:x} is not a page of the pool");
        }

        return _memory.GranuleIndex(pa);
    }

    private bool IsUsed(ulong index) => (_used[index / 64] & (1UL << (int)(index % 64))) != 0;

    private void MarkUsed(ulong index) => _used[index / 64] |= 1UL << (int)(index % 64);

    private ulong LastUsedIn(ulong start, ulong count)
    {
        for (ulong i = start + count; i-- > start;)
        {
            if (IsUsed(i))
            {
                return i;
            }
        }

        return ulong.MaxValue;
    }
}
