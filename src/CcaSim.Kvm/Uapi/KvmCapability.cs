namespace CcaSim.Kvm.Uapi;

/// <summary>
/// KVM_CHECK_EXTENSION numbers (include/uapi/linux/kvm.h). The generic guest_memfd/attribute caps use upstream
/// numbering (kvm-realm-abi.md §2.1); the arch caps are the ones a realm VM fd's allow-list mentions (§2.10).
/// <c>KVM_CAP_ARM_RMI</c> is not a stable number (§1) and lives in <see cref="KvmCapabilityNumbers"/>.
/// </summary>
public enum KvmCapability
{
    Irqchip = 0,
    NrVcpus = 9,
    MaxVcpus = 66,
    ArmPsci = 87,
    ArmPsci02 = 102,
    ArmPmuV3 = 126,
    MaxVcpuId = 128,
    MsiDevid = 131,
    ArmVmIpaSize = 165,
    ArmSve = 170,
    ArmPtrauthAddress = 171,
    ArmPtrauthGeneric = 172,

    /// <summary>KVM_CAP_ARM_NISV_TO_USER: KVM_ENABLE_CAP on a VM fd turns syndrome-less MMIO aborts into KVM_EXIT_ARM_NISV.</summary>
    ArmNisvToUser = 177,

    /// <summary>Explicitly answered 0 on a realm VM fd (§2.10).</summary>
    StealTime = 187,

    /// <summary>KVM_ARM_SET_COUNTER_OFFSET is available; not on a realm VM fd (§2.10, §2.16).</summary>
    CounterOffset = 227,
    UserMemory2 = 231,
    MemoryFaultInfo = 232,

    /// <summary>Answers the supported attribute mask, not 1 (§4.3).</summary>
    MemoryAttributes = 233,
    GuestMemfd = 234,
    VmTypes = 235,
}

/// <summary>
/// The capability numbers that moved between series versions (§1): "next free number" at each rebase. The model
/// takes them as configuration, defaulting to v12.
/// </summary>
public sealed record KvmCapabilityNumbers
{
    /// <summary>KVM_CAP_ARM_RMI in v12 (v13: 248, v14: 249; the deepin 6.6 backport's value is unknown, §7).</summary>
    public const int ArmRmiV12 = 247;

    public static KvmCapabilityNumbers V12 { get; } = new();

    public int ArmRmi { get; init; } = ArmRmiV12;
}
