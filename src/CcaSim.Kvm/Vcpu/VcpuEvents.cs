using CcaSim.Kvm.Uapi;

namespace CcaSim.Kvm.Vcpu;

/// <summary>KVM_SET_VCPU_EVENTS rules that do not depend on the exception-injection machinery.</summary>
public static class VcpuEvents
{
    /// <summary>
    /// KVM_SET_VCPU_EVENTS on a realm vCPU (kvm-realm-abi.md §2.14): nonzero reserved words or padding are
    /// -EINVAL (checked first, as kvm_arm_vcpu_set_events does for every VM); an SError cannot be injected into a
    /// realm (-EINVAL); an external data abort is only possible while the last exit is an emulatable MMIO still
    /// awaiting completion, and then becomes the RMM's SEA injection — <paramref name="injectSea"/> tells the
    /// caller to replace rec_enter's EMULATED_MMIO flag with INJECT_SEA. Any other case is -EINVAL.
    /// </summary>
    public static KvmResult ValidateRealmEvents(in KvmVcpuEvents e, bool emulatedMmioPending, out bool injectSea)
    {
        injectSea = false;
        for (int i = 0; i < 12; i++)
        {
            if (e.Reserved[i] != 0)
            {
                return Errno.EINVAL;
            }
        }

        for (int i = 0; i < 5; i++)
        {
            if (e.Pad[i] != 0)
            {
                return Errno.EINVAL;
            }
        }

        if (e.SerrorPending != 0)
        {
            return Errno.EINVAL;
        }

        if (e.ExtDabtPending != 0)
        {
            if (!emulatedMmioPending)
            {
                return Errno.EINVAL;
            }

            injectSea = true;
        }

        return KvmResult.Success;
    }
}
