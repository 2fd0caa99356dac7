namespace CcaSim.Kvm.Vcpu;

/// <summary>
/// What a VM's configurable registers may be set to. For a realm these are the RMM's RMI_FEATURES(0) fields
/// (kvm-realm-abi.md §2.9, §2.21); for a normal VM they describe the host CPU. <see cref="NumBps"/>,
/// <see cref="NumWps"/> and the CTX_CMPs value use the ID_AA64DFR0_EL1 field encoding (count − 1): TF-RMM fills
/// NUM_BPS/NUM_WPS straight from the host's BRPs/WRPs fields and KVM copies them back unchanged
/// (<c>kvm_realm_reset_id_aa64dfr0_el1</c>), so no ±1 conversion happens anywhere on the way.
/// </summary>
/// <param name="NumBps">RMM NUM_BPS / host BRPs field: the reset and maximum ID_AA64DFR0_EL1.BRPs.</param>
/// <param name="NumWps">RMM NUM_WPS / host WRPs field: the reset and maximum ID_AA64DFR0_EL1.WRPs.</param>
/// <param name="PmuSupported">RMM PMU_EN / host PMUv3: whether KVM_ARM_VCPU_PMU_V3 is accepted.</param>
/// <param name="PmuNumCtrs">RMM PMU_NUM_CTRS / host PMCR_EL0.N: the reset and maximum PMCR_EL0.N.</param>
/// <param name="SveSupported">RMM SVE_EN / host SVE: whether KVM_ARM_VCPU_SVE is accepted.</param>
/// <param name="SveMaxVq">Largest vector length in quadwords: RMM SVE_VL + 1 (the RMM encodes VQ − 1).</param>
public sealed record RealmRegisterLimits(int NumBps, int NumWps, bool PmuSupported, int PmuNumCtrs, bool SveSupported, int SveMaxVq)
{
    /// <summary>Architectural maximum VQ (2048-bit vectors); KVM_REG_ARM64_SVE_VLS can name up to 512.</summary>
    public const int ArchMaxVq = 16;

    /// <summary>The host's ID_AA64DFR0_EL1.CTX_CMPs; a realm's reset value is clamped to its BRPs.</summary>
    public int HostCtxCmps { get; init; } = 1;

    /// <summary>
    /// Whether the host runs AArch32 at EL0/EL1: without it KVM_ARM_VCPU_EL1_32BIT is -EINVAL for every VM and
    /// PMCR_EL0.LC reads as one.
    /// </summary>
    public bool HostHasAArch32 { get; init; }

    /// <summary>Whether the host has both address and generic pointer authentication (system_has_full_ptr_auth).</summary>
    public bool HostHasPtrAuth { get; init; } = true;

    /// <summary>
    /// The limits a realm gets from the RMM's feature register 0 (bit layout of kvm-realm-abi.md §2.21).
    /// </summary>
    public static RealmRegisterLimits FromRmiFeatureRegister0(ulong featureRegister0) => new(
        NumBps: (int)((featureRegister0 >> 14) & 0x3F),
        NumWps: (int)((featureRegister0 >> 20) & 0x3F),
        PmuSupported: (featureRegister0 & (1UL << 26)) != 0,
        PmuNumCtrs: (int)((featureRegister0 >> 27) & 0x1F),
        SveSupported: (featureRegister0 & (1UL << 9)) != 0,
        SveMaxVq: (int)((featureRegister0 >> 10) & 0xF) + 1);
}
