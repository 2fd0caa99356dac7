using CcaSim.Kvm.GuestMemfd;
using CcaSim.Kvm.Uapi;

namespace CcaSim.Kvm.Memslots;

/// <summary>
/// One memslot (<c>struct kvm_memory_slot</c>): a GPA range backed by host userspace memory and, for a
/// guest_memfd slot, by a range of a guest_memfd file. The file index of a gfn is always taken through
/// <see cref="Binding"/> (gfn − base_gfn + pgoff; kvm-realm-abi.md §5.1).
/// </summary>
public sealed record Memslot(uint Id, ulong BaseGfn, ulong NumPages, KvmMemoryRegionOptions Flags, ulong UserspaceAddr, GuestMemfdFile? Gmem, GmemBinding? Binding)
{
    public ulong EndGfn => BaseGfn + NumPages;

    public bool IsGuestMemfd => Gmem is not null;

    public bool ContainsGfn(ulong gfn) => gfn >= BaseGfn && gfn - BaseGfn < NumPages;

    /// <summary>The host userspace address backing <paramref name="gfn"/> (the shared alias of a realm page).</summary>
    public ulong HostAddress(ulong gfn) => UserspaceAddr + ((gfn - BaseGfn) << MemslotTable.PageShift);
}
