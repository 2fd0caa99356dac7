using CcaSim.Kvm.Uapi;
using CcaSim.Kvm.Vcpu;
using CcaSim.Platform.Execution;

namespace CcaSim.Kvm;

/// <summary>What the host kernel and its CPU offer, independent of the RMM: the values /dev/kvm reports.</summary>
public sealed record KvmHostOptions
{
    /// <summary>The host's stage-2 IPA limit (kvm_ipa_limit) for normal VMs.</summary>
    public int HostIpaLimit { get; init; } = 48;

    /// <summary>KVM_CAP_NR_VCPUS / KVM_CAP_MAX_VCPUS / KVM_CAP_MAX_VCPU_ID.</summary>
    public int MaxVcpus { get; init; } = 512;

    /// <summary>
    /// The host CPU as normal VMs see it: BRPs/WRPs/CTX_CMPs, PMUv3 and PMCR_EL0.N, SVE (KVM_CAP_ARM_SVE) and its
    /// largest VQ, AArch32 EL1 and pointer authentication (KVM_CAP_ARM_PTRAUTH_*). A realm takes its debug, PMU
    /// and SVE limits from the RMM instead (§2.9) and only AArch32, CTX_CMPs and pointer authentication from here.
    /// The default is an Armv8.2 host without SVE, AArch32 or pointer authentication: 6 breakpoints (BRPs field 5),
    /// 4 watchpoints (field 3), 2 context comparators (field 1), 6 PMU counters.
    /// </summary>
    public RealmRegisterLimits HostCpu { get; init; } = new(NumBps: 5, NumWps: 3, PmuSupported: true, PmuNumCtrs: 6, SveSupported: false, SveMaxVq: 0) { HostHasPtrAuth = false };

    /// <summary>Whether the host CPU has SVE (KVM_CAP_ARM_SVE for normal VMs).</summary>
    public bool HostSve => HostCpu.SveSupported;

    /// <summary>Whether the host CPU has both kinds of pointer authentication (KVM_CAP_ARM_PTRAUTH_*).</summary>
    public bool HostPtrauth => HostCpu.HostHasPtrAuth;

    /// <summary>Width of the host's VMIDs (8 or 16): the realm VMID bitmap has 2^bits entries (§2.5).</summary>
    public int VmidBits { get; init; } = 16;

    /// <summary>Capability numbers that moved between series versions (KVM_CAP_ARM_RMI), default v12.</summary>
    public KvmCapabilityNumbers CapabilityNumbers { get; init; } = KvmCapabilityNumbers.V12;

    /// <summary>
    /// The CPU that runs normal VMs' vCPUs (the composition root plugs in the same engine the RMM uses). Without
    /// one, KVM_RUN on a normal VM answers -ENOEXEC (FIDELITY.md); realm vCPUs always run through the RMM.
    /// </summary>
    public IRealmEngine? Engine { get; init; }

    /// <summary>ICH_VTR_EL2.ListRegs + 1 of the host CPU: the list registers a normal VM's vCPU gets.</summary>
    public int GicListRegisters { get; init; } = 4;

    /// <summary>
    /// Compatibility option, off by default: model the v8–v11 series' <c>KVM_ENABLE_CAP(KVM_CAP_ARM_RMI,
    /// args[0] = CONFIG_REALM, args[1] = &amp;struct arm_rme_config)</c> (kvm-realm-abi.md §2.20), through which a VMM
    /// chose the realm's hash algorithm (SHA-256 / SHA-512) and personalisation value before the descriptor exists.
    /// The v12 ABI this model follows has no such call: with the option off, KVM_ENABLE_CAP of KVM_CAP_ARM_RMI answers
    /// -EINVAL as every unknown capability does, and every realm is SHA-256 with an all-zero RPV (§2.5, §2.9). Only
    /// CONFIG_REALM is modelled (the other old sub-commands stay -EINVAL); FIDELITY.md lists the deviation.
    /// </summary>
    public bool PreV12RealmConfig { get; init; }
}
