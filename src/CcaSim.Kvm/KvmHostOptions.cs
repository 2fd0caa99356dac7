using CcaSim.Kvm.Uapi;

namespace CcaSim.Kvm;

/// <summary>What the host kernel and its CPU offer, independent of the RMM: the values /dev/kvm reports.</summary>
public sealed record KvmHostOptions
{
    /// <summary>The host's stage-2 IPA limit (kvm_ipa_limit) for normal VMs.</summary>
    public int HostIpaLimit { get; init; } = 48;

    /// <summary>KVM_CAP_NR_VCPUS / KVM_CAP_MAX_VCPUS / KVM_CAP_MAX_VCPU_ID.</summary>
    public int MaxVcpus { get; init; } = 512;

    /// <summary>Whether the host CPU has SVE (KVM_CAP_ARM_SVE for normal VMs).</summary>
    public bool HostSve { get; init; }

    /// <summary>Whether the host CPU has pointer authentication.</summary>
    public bool HostPtrauth { get; init; }

    /// <summary>Width of the host's VMIDs (8 or 16): the realm VMID bitmap has 2^bits entries (§2.5).</summary>
    public int VmidBits { get; init; } = 16;

    /// <summary>Capability numbers that moved between series versions (KVM_CAP_ARM_RMI), default v12.</summary>
    public KvmCapabilityNumbers CapabilityNumbers { get; init; } = KvmCapabilityNumbers.V12;
}
