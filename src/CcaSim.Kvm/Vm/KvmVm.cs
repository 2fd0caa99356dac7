using CcaSim.Kvm.MemoryAttributes;
using CcaSim.Kvm.Memslots;
using CcaSim.Kvm.Uapi;

namespace CcaSim.Kvm.Vm;

/// <summary>
/// A VM (<c>struct kvm</c>): its type, IPA size, memslots and memory attributes. Realm VMs have private memory
/// (kvm_arch_has_private_mem), which is what makes guest_memfd slots and the PRIVATE attribute valid (§2.2).
/// A VM lives while its VM fd or any guest_memfd created on it is open (§4.1).
/// </summary>
public sealed class KvmVm
{
    internal KvmVm(bool isRealm, int ipaBits)
    {
        IsRealm = isRealm;
        IpaBits = ipaBits;
        Memslots = new MemslotTable(this, privateMemory: isRealm);
        Attributes = new MemoryAttributeStore(SupportedAttributes);
    }

    public bool IsRealm { get; }

    /// <summary>The VM's IPA size in bits; for a realm the top IPA bit selects the shared (unprotected) alias (§2.12).</summary>
    public int IpaBits { get; }

    /// <summary>The attribute mask KVM_SET_MEMORY_ATTRIBUTES accepts on this VM: PRIVATE for realms, none otherwise (§4.3).</summary>
    public ulong SupportedAttributes => IsRealm ? KvmMemoryAttributeBits.Private : 0;

    public MemslotTable Memslots { get; }

    public MemoryAttributeStore Attributes { get; }

    /// <summary>Open references: the VM fd and every guest_memfd created on the VM.</summary>
    internal int References { get; set; } = 1;

    /// <summary>True once the VM fd and every guest_memfd of the VM are closed.</summary>
    public bool IsDestroyed => References == 0;
}
