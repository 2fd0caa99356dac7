using CcaSim.Kvm.GuestMemfd;
using CcaSim.Kvm.Uapi;

namespace CcaSim.Kvm.Memslots;

/// <summary>
/// A VM's memslots and the rules of KVM_SET_USER_MEMORY_REGION(2) (kvm-realm-abi.md §4.2, the 6.8–6.12 generic
/// code the 6.6 backport imports): flag validation, alignment and wrap checks, create / delete / move /
/// flags-only changes, GPA overlap (-EEXIST) and guest_memfd binding (-EINVAL for overlapping bindings of one
/// file, as 6.8–6.12 return).
/// </summary>
public sealed class MemslotTable
{
    public const int PageShift = 12;
    public const ulong PageSize = 1UL << PageShift;

    /// <summary>KVM_USER_MEM_SLOTS on arm64: SHRT_MAX, no private slots; one address space.</summary>
    public const int MaxSlots = short.MaxValue;

    /// <summary>KVM_MEM_MAX_NR_PAGES.</summary>
    public const ulong MaxPages = (1UL << 31) - 1;

    private const KvmMemoryRegionOptions V1Flags = KvmMemoryRegionOptions.LogDirtyPages | KvmMemoryRegionOptions.ReadOnly;

    private readonly SortedDictionary<uint, Memslot> _slots = [];
    private readonly bool _privateMemory;
    private readonly object _vm;

    /// <param name="vm">The owning VM: a guest_memfd may be bound only to the VM it was created on.</param>
    /// <param name="privateMemory">Whether the VM has private memory (a realm): only then is KVM_MEM_GUEST_MEMFD valid.</param>
    public MemslotTable(object vm, bool privateMemory)
    {
        _vm = vm;
        _privateMemory = privateMemory;
    }

    /// <summary>Raised after a slot was deleted or moved away, so mappings of its old range can be torn down.</summary>
    public event Action<Memslot>? SlotRemoved;

    /// <summary>Raised after a slot's flags changed in place (dirty logging on or off): its pages may be re-permissioned.</summary>
    public event Action<Memslot>? SlotFlagsChanged;

    public int Count => _slots.Count;

    public IEnumerable<Memslot> Slots => _slots.Values;

    /// <summary>The slot holding <paramref name="gfn"/>, if any.</summary>
    public Memslot? Find(ulong gfn)
    {
        foreach (Memslot slot in _slots.Values)
        {
            if (slot.ContainsGfn(gfn))
            {
                return slot;
            }
        }

        return null;
    }

    /// <summary>KVM_SET_USER_MEMORY_REGION (v1): the v2-only flag is refused before anything else.</summary>
    public KvmResult SetV1(in KvmUserspaceMemoryRegion region)
    {
        if ((region.Flags & ~(uint)V1Flags) != 0)
        {
            return Errno.EINVAL;
        }

        var v2 = new KvmUserspaceMemoryRegion2
        {
            Slot = region.Slot,
            Flags = region.Flags,
            GuestPhysAddr = region.GuestPhysAddr,
            MemorySize = region.MemorySize,
            UserspaceAddr = region.UserspaceAddr,
        };
        return Set(v2, _ => null);
    }

    /// <summary>
    /// KVM_SET_USER_MEMORY_REGION2. <paramref name="resolveGmem"/> maps the <c>guest_memfd</c> field (an fd) to the
    /// guest_memfd file it names, or null when the fd is not a guest_memfd (a /dev/kvm fd, a VM fd, a plain memfd).
    /// </summary>
    public KvmResult Set(in KvmUserspaceMemoryRegion2 region, Func<uint, GuestMemfdFile?> resolveGmem)
    {
        ArgumentNullException.ThrowIfNull(resolveGmem);
        var flags = (KvmMemoryRegionOptions)region.Flags;
        KvmResult check = CheckFlags(flags);
        if (!check.IsSuccess)
        {
            return check;
        }

        bool gmem = (flags & KvmMemoryRegionOptions.GuestMemfd) != 0;
        ulong size = region.MemorySize;
        ulong gpa = region.GuestPhysAddr;
        uint asId = region.Slot >> 16;
        uint id = region.Slot & 0xFFFF;
        if (size % PageSize != 0 || gpa % PageSize != 0 || region.UserspaceAddr % PageSize != 0
            || region.UserspaceAddr + size < region.UserspaceAddr
            || (gmem && (region.GuestMemfdOffset % PageSize != 0 || region.GuestMemfdOffset + size < region.GuestMemfdOffset))
            || asId != 0 || id >= MaxSlots || gpa + size < gpa || size >> PageShift > MaxPages)
        {
            return Errno.EINVAL;
        }

        _slots.TryGetValue(id, out Memslot? old);
        if (size == 0)
        {
            if (old is null)
            {
                return Errno.EINVAL;
            }

            _slots.Remove(id);
            SlotRemoved?.Invoke(old);
            return KvmResult.Success;
        }

        ulong baseGfn = gpa >> PageShift;
        ulong pages = size >> PageShift;
        bool moving = false;
        if (old is not null)
        {
            // A guest_memfd slot can only be deleted; other slots keep size and READONLY (§4.2).
            if (old.IsGuestMemfd || gmem || ((old.Flags ^ flags) & KvmMemoryRegionOptions.ReadOnly) != 0 || pages != old.NumPages)
            {
                return Errno.EINVAL;
            }

            if (old.BaseGfn == baseGfn && old.Flags == flags)
            {
                return KvmResult.Success;
            }

            moving = old.BaseGfn != baseGfn;
        }

        if ((old is null || moving) && Overlaps(id, baseGfn, pages))
        {
            return Errno.EEXIST;
        }

        GuestMemfdFile? file = null;
        GmemBinding? binding = null;
        if (gmem)
        {
            file = resolveGmem(region.GuestMemfd);
            binding = GmemBinding.FromRegion(region);
            if (file is null || file.IsClosed || !ReferenceEquals(file.Owner, _vm)
                || region.GuestMemfdOffset + size > (ulong)file.Size || _slots.Values.Any(s => ReferenceEquals(s.Gmem, file) && s.Binding!.OverlapsIndices(binding)))
            {
                return Errno.EINVAL;
            }
        }

        var slot = new Memslot(id, baseGfn, pages, flags, region.UserspaceAddr, file, binding);
        _slots[id] = slot;
        if (moving)
        {
            SlotRemoved?.Invoke(old!);
        }
        else if (old is not null)
        {
            SlotFlagsChanged?.Invoke(slot);
        }

        return KvmResult.Success;
    }

    private KvmResult CheckFlags(KvmMemoryRegionOptions flags)
    {
        KvmMemoryRegionOptions valid = V1Flags | (_privateMemory ? KvmMemoryRegionOptions.GuestMemfd : 0);
        if ((flags & ~valid) != 0)
        {
            return Errno.EINVAL;
        }

        bool gmem = (flags & KvmMemoryRegionOptions.GuestMemfd) != 0;
        return gmem && (flags & V1Flags) != 0 ? Errno.EINVAL : KvmResult.Success;
    }

    private bool Overlaps(uint id, ulong baseGfn, ulong pages) =>
        _slots.Values.Any(s => s.Id != id && baseGfn < s.EndGfn && s.BaseGfn < baseGfn + pages);
}
