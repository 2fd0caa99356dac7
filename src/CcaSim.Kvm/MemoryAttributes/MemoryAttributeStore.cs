using CcaSim.Kvm.Uapi;

namespace CcaSim.Kvm.MemoryAttributes;

/// <summary>A gfn range whose attributes KVM_SET_MEMORY_ATTRIBUTES is about to change, or has changed.</summary>
public sealed class MemoryAttributeRangeEventArgs(ulong startGfn, ulong endGfn, ulong attributes) : EventArgs
{
    public ulong StartGfn { get; } = startGfn;

    /// <summary>Exclusive.</summary>
    public ulong EndGfn { get; } = endGfn;

    /// <summary>The new value of every gfn in the range.</summary>
    public ulong Attributes { get; } = attributes;
}

/// <summary>
/// A VM's memory attributes (kvm-realm-abi.md §4.3, §5.2): one value per gfn, default 0, stored as ranges so
/// that a VMM marking a whole 1 TiB guest PRIVATE costs one range rather than 2^28 xarray entries (the per-page
/// store of Linux soft-locks at that size). Holds the VM's supported mask because every query and every
/// KVM_SET_MEMORY_ATTRIBUTES is judged against it: PRIVATE for a VM with private memory (a realm), 0 otherwise.
/// </summary>
public sealed class MemoryAttributeStore
{
    private const int PageShift = 12;
    private const ulong PageMask = (1UL << PageShift) - 1;

    private readonly SparseRangeMap _map = new();

    public MemoryAttributeStore(ulong supportedAttributes) => SupportedAttributes = supportedAttributes;

    /// <summary><c>kvm_supported_mem_attributes(kvm)</c>; also what KVM_CAP_MEMORY_ATTRIBUTES answers on the VM fd.</summary>
    public ulong SupportedAttributes { get; }

    /// <summary>
    /// Raised by <see cref="SetMemoryAttributes"/> before the store changes: the slot where the arch pre-hook
    /// (unmap what the new attribute forbids) attaches. Covers the whole requested gfn range; the VM layer clips it
    /// to memslots as <c>kvm_handle_gfn_range</c> does.
    /// </summary>
    public event EventHandler<MemoryAttributeRangeEventArgs>? RangeChanging;

    /// <summary>Raised after the store changed: the arch post-hook of §2.13 (to PRIVATE: unmap shared; to shared: destroy private).</summary>
    public event EventHandler<MemoryAttributeRangeEventArgs>? RangeChanged;

    /// <summary>Number of stored ranges: the store's memory footprint.</summary>
    public int RangeCount => _map.RunCount;

    /// <summary>The stored ranges in gfn order; gfns outside them have attributes 0.</summary>
    public IReadOnlyList<ValueRange> Ranges => _map.Runs;

    /// <summary><c>kvm_get_memory_attributes(kvm, gfn)</c>.</summary>
    public ulong Get(ulong gfn) => _map.Get(gfn);

    /// <summary>
    /// Stores <paramref name="attributes"/> for every gfn in [startGfn, endGfn), splitting and merging ranges. No
    /// validation and no events: this is the raw store under the ioctl.
    /// </summary>
    public void Set(ulong startGfn, ulong endGfn, ulong attributes) => _map.Set(startGfn, endGfn, attributes);

    /// <summary>
    /// <c>kvm_range_has_memory_attributes(kvm, start, end, mask, attrs)</c> in its five-argument form (§5.2, the
    /// 6.11 form the backport must carry). The mask is first narrowed to the supported attributes; attrs outside
    /// it can never match. One page compares the masked value. attrs == 0 asks "is nothing stored in the range" —
    /// regardless of mask, as the xarray walk does. Otherwise every gfn must have a stored value whose masked bits
    /// equal attrs. An empty range (end ≤ start) is vacuously true.
    /// </summary>
    public bool RangeHasAttributes(ulong startGfn, ulong endGfn, ulong mask, ulong attrs)
    {
        mask &= SupportedAttributes;
        if ((attrs & ~mask) != 0)
        {
            return false;
        }

        if (endGfn > startGfn && endGfn - startGfn == 1)
        {
            return (Get(startGfn) & mask) == attrs;
        }

        if (attrs == 0)
        {
            return !_map.AnyIn(startGfn, endGfn);
        }

        return _map.AllIn(startGfn, endGfn, mask, attrs);
    }

    /// <summary>
    /// The argument checks of KVM_SET_MEMORY_ATTRIBUTES (§4.3), in kernel order: flags ≠ 0; attributes outside
    /// <paramref name="supportedAttributes"/>; size 0 or address + size wrapping (a sum of exactly 2^64 wraps
    /// too); address or size not 4 KiB aligned. Every failure is -EINVAL.
    /// </summary>
    public static KvmResult Validate(in KvmMemoryAttributes request, ulong supportedAttributes)
    {
        if (request.Flags != 0)
        {
            return Errno.EINVAL;
        }

        if ((request.Attributes & ~supportedAttributes) != 0)
        {
            return Errno.EINVAL;
        }

        if (request.Size == 0 || request.Address + request.Size < request.Address)
        {
            return Errno.EINVAL;
        }

        if ((request.Address & PageMask) != 0 || (request.Size & PageMask) != 0)
        {
            return Errno.EINVAL;
        }

        return KvmResult.Success;
    }

    /// <summary>
    /// KVM_SET_MEMORY_ATTRIBUTES on this VM: <see cref="Validate"/>, then the no-op rule — if every gfn already
    /// has exactly the requested value (mask all-ones) nothing happens and no hook runs — else
    /// <see cref="RangeChanging"/>, store, <see cref="RangeChanged"/>. Returns 0 and never writes the struct back.
    /// The -ENOMEM of the kernel's per-page reservation cannot happen with range storage.
    /// </summary>
    public KvmResult SetMemoryAttributes(in KvmMemoryAttributes request)
    {
        KvmResult valid = Validate(request, SupportedAttributes);
        if (!valid.IsSuccess)
        {
            return valid;
        }

        ulong start = request.Address >> PageShift;
        ulong end = (request.Address + request.Size) >> PageShift;
        if (RangeHasAttributes(start, end, ulong.MaxValue, request.Attributes))
        {
            return KvmResult.Success;
        }

        var args = new MemoryAttributeRangeEventArgs(start, end, request.Attributes);
        RangeChanging?.Invoke(this, args);
        _map.Set(start, end, request.Attributes);
        RangeChanged?.Invoke(this, args);
        return KvmResult.Success;
    }
}
