namespace CcaSim.Kvm.Uapi;

/// <summary>
/// The arm64 KVM_CREATE_VM type word (kvm-realm-abi.md §2.1, §2.2): bits[7:0] IPA size (0 = default 40),
/// bits[11:8] machine type. Any other bit is -EINVAL at creation.
/// </summary>
public static class KvmVmType
{
    public const ulong IpaSizeMask = 0xFF;
    public const int ArmShift = 8;
    public const ulong ArmMask = 0xF00;
    public const ulong ArmNormal = 0x000;
    public const ulong ArmRealm = 0x100;

    /// <summary>Every bit a v12 arm64 kernel interprets; the rest must be zero.</summary>
    public const ulong ValidMask = IpaSizeMask | ArmMask;

    /// <summary>The IPA size an unset field means.</summary>
    public const int DefaultIpaBits = 40;

    public static int IpaSize(ulong type) => (int)(type & IpaSizeMask);

    public static ulong MachineType(ulong type) => type & ArmMask;

    /// <summary>KVM_VM_TYPE_ARM_IPA_SIZE(bits) | machine type, as a VMM builds it.</summary>
    public static ulong Make(ulong machineType, int ipaBits) => (machineType & ArmMask) | ((ulong)ipaBits & IpaSizeMask);
}

/// <summary><c>kvm_userspace_memory_region2.flags</c> (§4.2).</summary>
[Flags]
public enum KvmMemoryRegionOptions : uint
{
    None = 0,
    LogDirtyPages = 1u << 0,
    ReadOnly = 1u << 1,

    /// <summary>Only valid on KVM_SET_USER_MEMORY_REGION2 and only for VMs with private memory (realms).</summary>
    GuestMemfd = 1u << 2,
}

/// <summary>Memory attribute bits of KVM_SET_MEMORY_ATTRIBUTES (§2.1, §4.3). PRIVATE is the only one defined.</summary>
public static class KvmMemoryAttributeBits
{
    public const ulong Private = 1UL << 3;
}

/// <summary><c>kvm_run.exit_reason</c> values a realm can produce (§2.11, §6).</summary>
public enum KvmExitReason : uint
{
    Unknown = 0,
    Hypercall = 3,
    Mmio = 6,
    Shutdown = 8,

    /// <summary>KVM_EXIT_INTR: KVM_RUN returned -EINTR (a signal, or in CcaSim a host interrupt; FIDELITY.md).</summary>
    Intr = 10,
    InternalError = 17,
    SystemEvent = 24,

    /// <summary>KVM_EXIT_ARM_NISV: a data abort outside memslots without a valid syndrome, for a VMM that enabled KVM_CAP_ARM_NISV_TO_USER.</summary>
    ArmNisv = 28,

    /// <summary>KVM_EXIT_MEMORY_FAULT: KVM_RUN also returns -EFAULT (§4.4).</summary>
    MemoryFault = 39,
}

/// <summary><c>kvm_run.memory_fault.flags</c> (§4.4): only PRIVATE is defined; RWX is never reported.</summary>
public static class KvmMemoryExitFlag
{
    public const ulong Private = 1UL << 3;
}

/// <summary><c>kvm_arm_rmi_populate.flags</c> (§2.1).</summary>
public static class KvmArmRmiPopulateFlags
{
    public const uint Measure = 1u << 0;

    public const uint Valid = Measure;
}

/// <summary>fallocate(2) mode bits (include/uapi/linux/falloc.h), for the guest_memfd rules of §4.1.</summary>
[Flags]
public enum FallocateMode
{
    Allocate = 0,
    KeepSize = 0x01,
    PunchHole = 0x02,
    NoHideStale = 0x04,
    CollapseRange = 0x08,
    ZeroRange = 0x10,
    InsertRange = 0x20,
    UnshareRange = 0x40,
}
