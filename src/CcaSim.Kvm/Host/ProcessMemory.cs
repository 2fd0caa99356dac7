using CcaSim.Platform.Memory;

namespace CcaSim.Kvm.Host;

/// <summary>
/// The VMM process's address space, as far as KVM sees it: anonymous mappings backed by non-secure host pages.
/// What a VMM passes as <c>userspace_addr</c> or <c>source_uaddr</c> is a virtual address here; KVM translates
/// it to the backing page (get_user_pages) and the RMM reads that page by physical address. An address no
/// mapping covers is what copy_from_user and pinning report as -EFAULT.
/// </summary>
public sealed class ProcessMemory
{
    /// <summary>Where the first mapping goes: a typical mmap area of an arm64 process.</summary>
    public const ulong MmapBase = 0x7F00_0000_0000;

    private readonly HostPageAllocator _pages;
    private readonly MemoryAccessor _host;
    private readonly SortedList<ulong, Mapping> _mappings = [];
    private ulong _next = MmapBase;

    public ProcessMemory(HostPageAllocator pages, MemoryAccessor host)
    {
        _pages = pages;
        _host = host;
    }

    /// <summary>mmap(NULL, length, RW, MAP_ANONYMOUS|MAP_PRIVATE|MAP_POPULATE): zeroed memory, or -ENOMEM / -EINVAL.</summary>
    public KvmResult Mmap(ulong length)
    {
        if (length == 0)
        {
            return Errno.EINVAL;
        }

        ulong pages = (length + HostPageAllocator.PageSize - 1) / HostPageAllocator.PageSize;
        if (_pages.AllocateContiguous(pages) is not ulong pa)
        {
            return Errno.ENOMEM;
        }

        _host.TryZero(pa, pages * HostPageAllocator.PageSize);
        ulong address = _next;
        _mappings.Add(address, new Mapping(address, pages * HostPageAllocator.PageSize, pa));

        // A guard page between mappings, so running off one never lands in the next.
        _next += (pages + 1) * HostPageAllocator.PageSize;
        return KvmResult.Ok((long)address);
    }

    /// <summary>
    /// Raised by munmap before the pages go back (address, length): the mmu notifier through which KVM drops the
    /// stage-2 mappings of a memslot backed by them, so no engine keeps using freed memory.
    /// </summary>
    public event Action<ulong, ulong>? Unmapping;

    /// <summary>munmap of a whole mapping; -EINVAL for an address that does not start one.</summary>
    public KvmResult Munmap(ulong address)
    {
        if (!_mappings.Remove(address, out Mapping? mapping))
        {
            return Errno.EINVAL;
        }

        Unmapping?.Invoke(mapping.Address, mapping.Length);

        for (ulong off = 0; off < mapping.Length; off += HostPageAllocator.PageSize)
        {
            _pages.Free(mapping.Pa + off);
        }

        return KvmResult.Success;
    }

    /// <summary>The physical page behind a user address (pinning for DMA or the RMM), or null when unmapped.</summary>
    public ulong? Translate(ulong address)
    {
        Mapping? m = Find(address);
        return m is null ? null : m.Pa + (address - m.Address);
    }

    /// <summary>copy_from_user: false when any byte is unmapped.</summary>
    public bool TryRead(ulong address, Span<byte> destination)
    {
        Mapping? m = Find(address);
        if (m is null || (ulong)destination.Length > m.Address + m.Length - address)
        {
            return false;
        }

        return _host.TryRead(m.Pa + (address - m.Address), destination) == MemoryAccessStatus.Ok;
    }

    /// <summary>copy_to_user: false when any byte is unmapped.</summary>
    public bool TryWrite(ulong address, ReadOnlySpan<byte> source)
    {
        Mapping? m = Find(address);
        if (m is null || (ulong)source.Length > m.Address + m.Length - address)
        {
            return false;
        }

        return _host.TryWrite(m.Pa + (address - m.Address), source) == MemoryAccessStatus.Ok;
    }

    private Mapping? Find(ulong address)
    {
        IList<ulong> keys = _mappings.Keys;
        int lo = 0;
        int hi = keys.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) / 2;
            if (keys[mid] <= address)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        if (hi < 0)
        {
            return null;
        }

        Mapping m = _mappings.Values[hi];
        return address - m.Address < m.Length ? m : null;
    }

    private sealed record Mapping(ulong Address, ulong Length, ulong Pa);
}
