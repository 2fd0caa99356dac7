using CcaSim.Kvm.Uapi;

namespace CcaSim.Kvm.GuestMemfd;

/// <summary>
/// How one memslot sees its guest_memfd: the slot's gfns [BaseGfn, BaseGfn + NumPages) are the file's pages
/// [Pgoff, Pgoff + NumPages). This is the only place gfns and file indices meet (kvm-realm-abi.md §5.1):
/// index = gfn − base_gfn + pgoff and gfn = index − pgoff + base_gfn. Dropping the pgoff term is the 6.6
/// backport bug that only shows when several slots share one file at different offsets.
/// </summary>
public sealed record GmemBinding(ulong BaseGfn, ulong NumPages, ulong Pgoff)
{
    private const int PageShift = 12;

    public ulong EndGfn => BaseGfn + NumPages;

    /// <summary>One past the last file index the slot covers.</summary>
    public ulong EndIndex => Pgoff + NumPages;

    /// <summary>The binding a KVM_SET_USER_MEMORY_REGION2 describes (its alignment checks are the memslot code's job, §4.2).</summary>
    public static GmemBinding FromRegion(in KvmUserspaceMemoryRegion2 region) =>
        new(region.GuestPhysAddr >> PageShift, region.MemorySize >> PageShift, region.GuestMemfdOffset >> PageShift);

    public bool ContainsGfn(ulong gfn) => gfn >= BaseGfn && gfn - BaseGfn < NumPages;

    public bool ContainsIndex(ulong index) => index >= Pgoff && index - Pgoff < NumPages;

    /// <summary><c>kvm_gmem_get_index</c>: the file page backing <paramref name="gfn"/>, or null when the slot does not cover it.</summary>
    public ulong? IndexOf(ulong gfn) => ContainsGfn(gfn) ? gfn - BaseGfn + Pgoff : null;

    /// <summary>The gfn that file page <paramref name="index"/> backs in this slot, or null when the slot does not map it.</summary>
    public ulong? GfnOf(ulong index) => ContainsIndex(index) ? index - Pgoff + BaseGfn : null;

    /// <summary>
    /// The gfns of file pages [startIndex, endIndex) in this slot, clipped to the slot, or null when they do not
    /// meet: how a punch-hole invalidation is turned into the gfn range to unmap.
    /// </summary>
    public (ulong StartGfn, ulong EndGfn)? GfnRangeOf(ulong startIndex, ulong endIndex)
    {
        ulong start = Math.Max(startIndex, Pgoff);
        ulong end = Math.Min(endIndex, EndIndex);
        return start < end ? (start - Pgoff + BaseGfn, end - Pgoff + BaseGfn) : null;
    }

    /// <summary>Does this binding use any file page <paramref name="other"/> uses (two slots on one file must not, §4.2)?</summary>
    public bool OverlapsIndices(GmemBinding other) => Pgoff < other.EndIndex && other.Pgoff < EndIndex;
}
