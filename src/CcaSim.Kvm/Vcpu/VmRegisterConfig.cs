namespace CcaSim.Kvm.Vcpu;

/// <summary>
/// The VM-wide register state of one arm64 VM: the vCPU feature set every vCPU must share (6.6 keeps one per VM),
/// the VM's ID_AA64DFR0_EL1, PMCR_EL0.N and PSCI version, and the SVE limit. For a realm these are the realm
/// parameters userspace configures before the Realm Descriptor exists (kvm-realm-abi.md §2.9); realm creation
/// reads them back through <see cref="NumBps"/>, <see cref="NumWps"/>, <see cref="PmuNumCtrs"/> and
/// <see cref="SveVectorQuadwords"/> (§2.5).
/// </summary>
public sealed class VmRegisterConfig
{
    /// <summary>PSCI_VERSION(0, 1): what a vCPU without KVM_ARM_VCPU_PSCI_0_2 reports.</summary>
    public const uint PsciVersion01 = 0x0000_0001;
    public const uint PsciVersion02 = 0x0000_0002;
    public const uint PsciVersion10 = 0x0001_0000;

    /// <summary>KVM_ARM_PSCI_LATEST of a 6.6 host (PSCI 1.1): the VM's version until userspace lowers it.</summary>
    public const uint PsciVersion11 = 0x0001_0001;

    public VmRegisterConfig(RealmRegisterLimits limits, bool isRealm)
    {
        ArgumentNullException.ThrowIfNull(limits);
        Limits = limits;
        IsRealm = isRealm;
        IdAa64Dfr0El1 = ResetIdAa64Dfr0El1;
        PmuNumCtrs = MaxPmuCounters;
    }

    public RealmRegisterLimits Limits { get; }

    public bool IsRealm { get; }

    /// <summary>
    /// Set by <see cref="Freeze"/>: the realm's RD exists, or a normal VM has run. The configuration is then part
    /// of the realm's identity (its RIM) and cannot move (§2.5).
    /// </summary>
    public bool IsFrozen { get; private set; }

    /// <summary>The <c>features[0]</c> word the first successful KVM_ARM_VCPU_INIT fixed for the VM, or null.</summary>
    public uint? VcpuFeatureSet { get; private set; }

    /// <summary>The VM's vCPUs have PMUv3: realm creation then sets the PMU flag with <see cref="PmuNumCtrs"/>.</summary>
    public bool HasPmu => HasFeature(Uapi.KvmVcpuFeature.PmuV3);

    /// <summary>The VM's vCPUs have SVE: realm creation then needs <see cref="SveVectorQuadwords"/>.</summary>
    public bool HasSve => HasFeature(Uapi.KvmVcpuFeature.Sve);

    /// <summary>The VM-wide ID_AA64DFR0_EL1 as KVM_GET_ONE_REG reports it.</summary>
    public ulong IdAa64Dfr0El1 { get; private set; }

    /// <summary>
    /// The sanitised reset value (read_sanitised_id_aa64dfr0_el1): debug limited to Armv8.0, PMUVer only if the
    /// vCPUs have a PMU, and for a realm BRPs/WRPs from the RMM with CTX_CMPs clamped to them.
    /// </summary>
    public ulong ResetIdAa64Dfr0El1
    {
        get
        {
            int brps = Limits.NumBps;
            int ctxCmps = IsRealm ? Math.Min(Limits.NumBps, Limits.HostCtxCmps) : Limits.HostCtxCmps;
            return IdAa64Dfr0.Make(IdAa64Dfr0.DebugVerImp, HasPmu ? IdAa64Dfr0.PmuVerImp : 0, brps, Limits.NumWps, ctxCmps);
        }
    }

    /// <summary>BRPs field of the VM's ID_AA64DFR0_EL1: the realm parameter num_bps (§2.5).</summary>
    public int NumBps => IdAa64Dfr0.Brps(IdAa64Dfr0El1);

    /// <summary>WRPs field of the VM's ID_AA64DFR0_EL1: the realm parameter num_wps (§2.5).</summary>
    public int NumWps => IdAa64Dfr0.Wrps(IdAa64Dfr0El1);

    /// <summary>PMCR_EL0.N of every vCPU: the realm parameter pmu_num_ctrs when <see cref="HasPmu"/> (§2.5).</summary>
    public int PmuNumCtrs { get; private set; }

    /// <summary>kvm_arm_pmu_get_max_counters: the reset and the ceiling of PMCR_EL0.N.</summary>
    public int MaxPmuCounters => Limits.PmuSupported ? Limits.PmuNumCtrs : 0;

    /// <summary>The largest VQ a KVM_REG_ARM64_SVE_VLS write may name, and a new SVE vCPU's maximum (0 without SVE).</summary>
    public int MaxSveVq => Limits.SveSupported ? Math.Min(Limits.SveMaxVq, RealmRegisterLimits.ArchMaxVq) : 0;

    /// <summary>kvm->arch.psci_version: reported through KVM_REG_ARM_PSCI_VERSION by vCPUs with PSCI 0.2.</summary>
    public uint PsciVersion { get; private set; } = PsciVersion11;

    /// <summary>
    /// Called by the integrator when the RD is created (realm) or the VM first runs (normal VM): from then on ID
    /// register writes that change a value fail -EBUSY, KVM_REG_ARM64_SVE_VLS writes fail -EPERM and PMCR_EL0.N
    /// writes are ignored (§2.5).
    /// </summary>
    public void Freeze() => IsFrozen = true;

    /// <summary>
    /// KVM_SET_ONE_REG(ID_AA64DFR0_EL1), set_id_aa64dfr0_el1 then set_id_reg: a PMUVer of IMP_DEF is taken as
    /// "none"; DebugVer below IMP, BRPs or WRPs of zero or CTX_CMPs above BRPs is -EINVAL; once frozen only the
    /// current value is accepted (-EBUSY otherwise); any writable field above its reset value, or any other bit
    /// differing from the reset value, is -EINVAL (arm64_check_features' -E2BIG, reported as -EINVAL).
    /// </summary>
    public KvmResult SetIdAa64Dfr0El1(ulong value)
    {
        if (IdAa64Dfr0.PmuVer(value) == IdAa64Dfr0.PmuVerImpDef)
        {
            value = IdAa64Dfr0.With(value, IdAa64Dfr0.PmuVerShift, 0);
        }

        int brps = IdAa64Dfr0.Brps(value);
        if (IdAa64Dfr0.DebugVer(value) < IdAa64Dfr0.DebugVerImp || brps == 0 || IdAa64Dfr0.Wrps(value) == 0 || IdAa64Dfr0.CtxCmps(value) > brps)
        {
            return Errno.EINVAL;
        }

        if (IsFrozen)
        {
            return value == IdAa64Dfr0El1 ? KvmResult.Success : Errno.EBUSY;
        }

        if (!IsSafeAgainstReset(value))
        {
            return Errno.EINVAL;
        }

        IdAa64Dfr0El1 = value;
        return KvmResult.Success;
    }

    /// <summary>
    /// The realm's SVE vector length in quadwords (realm_init_sve_param, §2.5): 0 when the VM has no SVE;
    /// otherwise every vCPU must have finalised SVE and all must agree, else -EINVAL. The RMM's sve_vl is this − 1.
    /// </summary>
    public KvmResult<int> SveVectorQuadwords(IEnumerable<VcpuRegisterFile> vcpus)
    {
        ArgumentNullException.ThrowIfNull(vcpus);
        if (!HasSve)
        {
            return KvmResult<int>.Ok(0);
        }

        int agreed = -1;
        foreach (VcpuRegisterFile vcpu in vcpus)
        {
            if (!vcpu.Features.IsSveFinalized || (agreed >= 0 && agreed != vcpu.SveMaxVq))
            {
                return Errno.EINVAL;
            }

            agreed = vcpu.SveMaxVq;
        }

        return KvmResult<int>.Ok(Math.Max(agreed, 0));
    }

    /// <summary>
    /// kvm_vcpu_set_target's VM-wide check: the first INIT fixes the feature set (and initialises the VM's ID
    /// registers from it); a vCPU asking for another set is -EINVAL.
    /// </summary>
    internal bool AcceptsFeatureSet(uint features) => VcpuFeatureSet is null || VcpuFeatureSet == features;

    internal void RecordFeatureSet(uint features)
    {
        if (VcpuFeatureSet is null)
        {
            VcpuFeatureSet = features;
            IdAa64Dfr0El1 = ResetIdAa64Dfr0El1;
        }
    }

    /// <summary>
    /// set_pmcr's VM-wide half: N changes only before the VM is frozen and only within the maximum; anything else
    /// is silently dropped, as upstream does "to maintain compatibility with the existing KVM behavior".
    /// </summary>
    internal void OfferPmcrN(int n)
    {
        if (!IsFrozen && n <= MaxPmuCounters)
        {
            PmuNumCtrs = n;
        }
    }

    /// <summary>set_fw_reg(KVM_REG_ARM_PSCI_VERSION): 0.1 only without PSCI_0_2; 0.2, 1.0 and 1.1 only with it.</summary>
    internal KvmResult SetPsciVersion(ulong value, bool vcpuHasPsci02)
    {
        bool accepted = value switch
        {
            PsciVersion01 => !vcpuHasPsci02,
            PsciVersion02 or PsciVersion10 or PsciVersion11 => vcpuHasPsci02,
            _ => false,
        };
        if (!accepted)
        {
            return Errno.EINVAL;
        }

        PsciVersion = (uint)value;
        return KvmResult.Success;
    }

    private bool HasFeature(int feature) => VcpuFeatureSet is uint f && (f & Uapi.KvmVcpuFeature.Bit(feature)) != 0;

    private bool IsSafeAgainstReset(ulong value)
    {
        ulong limit = ResetIdAa64Dfr0El1;
        if ((value & ~IdAa64Dfr0.WritableMask) != (limit & ~IdAa64Dfr0.WritableMask))
        {
            return false;
        }

        // Every writable field is FTR_LOWER_SAFE for KVM: the reset value is the most a VM may be given.
        ReadOnlySpan<int> shifts = [IdAa64Dfr0.DebugVerShift, IdAa64Dfr0.PmuVerShift, IdAa64Dfr0.BrpsShift, IdAa64Dfr0.WrpsShift, IdAa64Dfr0.CtxCmpsShift];
        foreach (int shift in shifts)
        {
            if (((value >> shift) & 0xF) > ((limit >> shift) & 0xF))
            {
                return false;
            }
        }

        return true;
    }
}
