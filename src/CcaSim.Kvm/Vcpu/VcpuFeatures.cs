using CcaSim.Kvm.Uapi;

namespace CcaSim.Kvm.Vcpu;

/// <summary>
/// The feature state of one vCPU: what KVM_ARM_VCPU_INIT accepted and whether KVM_ARM_VCPU_FINALIZE(SVE) ran.
/// Rules are those of the 6.6 arm.c/reset.c plus the realm ones of kvm-realm-abi.md §2.3. A missing
/// KVM_ARM_VCPU_PSCI_0_2 is accepted here; REC creation rejects it later (§2.3), hence <see cref="HasPsci02"/>.
/// </summary>
public sealed class VcpuFeatures
{
    private readonly VmRegisterConfig _vm;

    internal VcpuFeatures(VmRegisterConfig vm) => _vm = vm;

    /// <summary>A successful KVM_ARM_VCPU_INIT happened; until then the ioctl layer answers -ENOEXEC to ONE_REG, REG_LIST and FINALIZE.</summary>
    public bool IsInitialized { get; private set; }

    /// <summary>The accepted <c>features[0]</c>, without the ephemeral POWER_OFF bit.</summary>
    public uint Features { get; private set; }

    /// <summary>The last successful INIT asked for KVM_ARM_VCPU_POWER_OFF: the vCPU starts (or restarts) stopped.</summary>
    public bool StartsPoweredOff { get; private set; }

    public bool HasAarch32El1 => Has(KvmVcpuFeature.El1Aarch32);

    public bool HasPsci02 => Has(KvmVcpuFeature.Psci02);

    public bool HasPmu => Has(KvmVcpuFeature.PmuV3);

    public bool HasSve => Has(KvmVcpuFeature.Sve);

    /// <summary>Both pointer-authentication features (KVM accepts them only as a pair).</summary>
    public bool HasPtrAuth => Has(KvmVcpuFeature.PtrAuthAddress) && Has(KvmVcpuFeature.PtrAuthGeneric);

    public bool IsSveFinalized { get; private set; }

    /// <summary>kvm_arm_vcpu_is_finalized: an SVE vCPU must be finalised before KVM_GET_REG_LIST (-EPERM) and KVM_RUN.</summary>
    public bool IsFinalized => !HasSve || IsSveFinalized;

    /// <summary>
    /// KVM_ARM_VCPU_FINALIZE: only KVM_ARM_VCPU_SVE can be finalised, only on an SVE vCPU (else -EINVAL), and
    /// only once (-EPERM). Finalising freezes the vCPU's KVM_REG_ARM64_SVE_VLS.
    /// </summary>
    public KvmResult Finalize(int what)
    {
        if (what != KvmVcpuFeature.Sve || !HasSve)
        {
            return Errno.EINVAL;
        }

        if (IsSveFinalized)
        {
            return Errno.EPERM;
        }

        IsSveFinalized = true;
        return KvmResult.Success;
    }

    /// <summary>
    /// The checks of KVM_ARM_VCPU_INIT in kernel order; on success the caller resets the registers. A repeated
    /// INIT with the same features is a reset; with different ones -EINVAL.
    /// </summary>
    internal KvmResult Init(in KvmVcpuInit init)
    {
        uint features = init.Features[0];
        bool powerOff = (features & KvmVcpuFeature.Bit(KvmVcpuFeature.PowerOff)) != 0;
        features &= ~KvmVcpuFeature.Bit(KvmVcpuFeature.PowerOff);

        if (init.Target != KvmArmTarget.GenericV8)
        {
            return Errno.EINVAL;
        }

        KvmResult check = CheckFeatureWords(init, features);
        if (!check.IsSuccess)
        {
            return check;
        }

        if (IsInitialized)
        {
            if (features != Features)
            {
                return Errno.EINVAL;
            }
        }
        else
        {
            KvmResult first = CheckFirstInit(features);
            if (!first.IsSuccess)
            {
                return first;
            }

            Features = features;
            IsInitialized = true;
            _vm.RecordFeatureSet(features);
        }

        StartsPoweredOff = powerOff;
        return KvmResult.Success;
    }

    /// <summary>kvm_vcpu_init_check_features (+ the v12 realm rule): unknown bits are -ENOENT, AArch32 EL1 -EINVAL where unavailable.</summary>
    private KvmResult CheckFeatureWords(in KvmVcpuInit init, uint features)
    {
        if ((features >> KvmVcpuFeature.MaxFeatures) != 0)
        {
            return Errno.ENOENT;
        }

        for (int i = 1; i < 7; i++)
        {
            if (init.Features[i] != 0)
            {
                return Errno.ENOENT;
            }
        }

        bool el1_32 = (features & KvmVcpuFeature.Bit(KvmVcpuFeature.El1Aarch32)) != 0;
        return el1_32 && (_vm.IsRealm || !_vm.Limits.HostHasAArch32) ? Errno.EINVAL : KvmResult.Success;
    }

    /// <summary>
    /// What the first INIT adds (__kvm_vcpu_set_target, kvm_reset_vcpu): the VM-wide feature set must match, SVE
    /// and PMUv3 must be offered, and pointer authentication needs both halves and host support.
    /// </summary>
    private KvmResult CheckFirstInit(uint features)
    {
        if (!_vm.AcceptsFeatureSet(features))
        {
            return Errno.EINVAL;
        }

        bool sve = (features & KvmVcpuFeature.Bit(KvmVcpuFeature.Sve)) != 0;
        bool pmu = (features & KvmVcpuFeature.Bit(KvmVcpuFeature.PmuV3)) != 0;
        bool address = (features & KvmVcpuFeature.Bit(KvmVcpuFeature.PtrAuthAddress)) != 0;
        bool generic = (features & KvmVcpuFeature.Bit(KvmVcpuFeature.PtrAuthGeneric)) != 0;

        if ((sve && !_vm.Limits.SveSupported)
            || ((address || generic) && !(address && generic && _vm.Limits.HostHasPtrAuth))
            || (pmu && !_vm.Limits.PmuSupported))
        {
            return Errno.EINVAL;
        }

        return KvmResult.Success;
    }

    private bool Has(int feature) => (Features & KvmVcpuFeature.Bit(feature)) != 0;
}
