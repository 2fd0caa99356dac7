using CcaSim.Kvm.Host;
using CcaSim.Platform.Execution;
using CcaSim.Platform.Memory;

namespace CcaSim.Kvm.Memslots;

/// <summary>
/// A normal VM's stage 2 as KVM builds it on a fault (user_mem_abort): the memslot holding the IPA, its
/// userspace_addr, the VMM page behind that (get_user_pages) and the host memory of that page. Read-only slots are
/// mapped without write permission, so a write faults and becomes MMIO (io_mem_abort). An IPA no slot covers is
/// Unmapped (MMIO); one beyond the VM's IPA size is OutOfRange (kvm_handle_guest_abort injects an abort).
/// </summary>
internal sealed class MemslotStage2(MemslotTable slots, ProcessMemory process, MemoryAccessor host, int ipaBits) : IRealmMemory
{
    private const ulong PageMask = MemslotTable.PageSize - 1;

    public Stage2Page Lookup(ulong ipa)
    {
        if (ipaBits < 64 && ipa >> ipaBits != 0)
        {
            return new Stage2Page(Stage2PageKind.OutOfRange);
        }

        if (HostPage(ipa, out bool writable) is not ulong pa)
        {
            return new Stage2Page(Stage2PageKind.Unmapped);
        }

        nint address = host.TryGetHostAddress(pa);
        return address == 0
            ? new Stage2Page(Stage2PageKind.Unmapped)
            : new Stage2Page(Stage2PageKind.Mapped, address, writable, Executable: true);
    }

    public bool TryRead(ulong ipa, Span<byte> destination) => Copy(ipa, destination, null);

    public bool TryWrite(ulong ipa, ReadOnlySpan<byte> source)
    {
        byte[] buffer = source.ToArray();
        return Copy(ipa, buffer, buffer);
    }

    /// <summary>Page by page through the slots; false as soon as a page is not mapped (or not writable for a write).</summary>
    private bool Copy(ulong ipa, Span<byte> data, byte[]? source)
    {
        int done = 0;
        while (done < data.Length)
        {
            ulong at = ipa + (ulong)done;
            int chunk = (int)Math.Min((ulong)(data.Length - done), MemslotTable.PageSize - (at & PageMask));
            if (HostPage(at, out bool writable) is not ulong pa || (source is not null && !writable))
            {
                return false;
            }

            Span<byte> part = data.Slice(done, chunk);
            MemoryAccessStatus status = source is null ? host.TryRead(pa, part) : host.TryWrite(pa, part);
            if (status != MemoryAccessStatus.Ok)
            {
                return false;
            }

            done += chunk;
        }

        return true;
    }

    /// <summary>The host physical address behind <paramref name="ipa"/>, or null; guest_memfd slots never back a normal VM.</summary>
    private ulong? HostPage(ulong ipa, out bool writable)
    {
        writable = false;
        Memslot? slot = slots.Find(ipa >> MemslotTable.PageShift);
        if (slot is null || slot.IsGuestMemfd)
        {
            return null;
        }

        ulong? pa = process.Translate(slot.HostAddress(ipa >> MemslotTable.PageShift) + (ipa & PageMask));
        writable = (slot.Flags & Uapi.KvmMemoryRegionOptions.ReadOnly) == 0;
        return pa;
    }
}
