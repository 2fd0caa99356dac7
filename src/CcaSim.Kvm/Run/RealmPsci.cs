using CcaSim.Kvm.Rmi;
using CcaSim.Kvm.Uapi;
using CcaSim.Kvm.Vm;

namespace CcaSim.Kvm.Run;

/// <summary>
/// KVM's PSCI handling for a realm's PSCI exits (kvm-realm-abi.md §2.15). The RMM has already emulated what it
/// can; what reaches KVM are the calls that need the host: CPU_ON and AFFINITY_INFO (completed with
/// RMI_PSCI_COMPLETE before the target may run), CPU_OFF, CPU_SUSPEND, SYSTEM_OFF and SYSTEM_RESET. A VMM that
/// forwards PSCI with the SMCCC filter gets KVM_EXIT_HYPERCALL instead and completes through
/// KVM_ARM_VCPU_RMI_PSCI_COMPLETE.
/// </summary>
internal static class RealmPsci
{
    public const uint CpuSuspend = 0x8400_0001;
    public const uint CpuOff = 0x8400_0002;
    public const uint CpuOn = 0x8400_0003;
    public const uint AffinityInfo = 0x8400_0004;
    public const uint SystemOff = 0x8400_0008;
    public const uint SystemReset = 0x8400_0009;

    public const ulong Success = 0;
    public const ulong InvalidParameters = unchecked((ulong)-2L);
    public const ulong Denied = unchecked((ulong)-3L);
    public const ulong AlreadyOn = unchecked((ulong)-4L);

    /// <summary>Null to re-enter, else what KVM_RUN returns; <paramref name="smc"/>: the exit's ESR says SMC.</summary>
    public static KvmResult? Handle(KvmVcpu vcpu, bool smc)
    {
        ulong fid = vcpu.Registers.GetX(0);
        if (vcpu.Vm.SmcccFilter.ActionFor(fid) == SmcccFilterAction.FwdToUser)
        {
            vcpu.Run.SetHypercall(fid, smc ? KvmHypercallFlags.Smc : 0);
            vcpu.Run.ExitReason = KvmExitReason.Hypercall;
            return KvmResult.Success;
        }

        // The SMC64 forms differ only in bit 30.
        switch ((uint)fid & ~0x4000_0000u)
        {
            case CpuOn:
                return CompleteCpuOn(vcpu, vcpu.Registers.GetX(1));
            case AffinityInfo:
                return CompleteAffinityInfo(vcpu, vcpu.Registers.GetX(1), vcpu.Registers.GetX(2));
            case CpuOff:
                vcpu.IsPoweredOff = true;
                vcpu.Registers.SetX(0, Success);
                return null;
            case CpuSuspend:
                vcpu.Registers.SetX(0, Success);
                return null;
            case SystemOff:
            case SystemReset:
                foreach (KvmVcpu v in vcpu.Vm.Vcpus)
                {
                    v.IsPoweredOff = true;
                }

                vcpu.Run.SetSystemEvent((uint)fid == SystemOff ? KvmSystemEvent.Shutdown : KvmSystemEvent.Reset, 0);
                vcpu.Run.ExitReason = KvmExitReason.SystemEvent;
                return KvmResult.Success;
            default:
                vcpu.Registers.SetX(0, unchecked((ulong)-1L));
                return null;
        }
    }

    /// <summary>kvm_psci_vcpu_on for a realm: the target is powered on and the RMM told so; ALREADY_ON still completes with SUCCESS.</summary>
    private static KvmResult? CompleteCpuOn(KvmVcpu vcpu, ulong targetMpidr)
    {
        KvmVcpu? target = vcpu.Vm.VcpuByMpidr(targetMpidr);
        if (target is null)
        {
            vcpu.Registers.SetX(0, InvalidParameters);
            return null;
        }

        bool alreadyOn = !target.IsPoweredOff;
        target.IsPoweredOff = false;
        if (!vcpu.Vm.Context.Rmi.PsciComplete(vcpu.RecPa, target.RecPa, Success).IsSuccess)
        {
            return Errno.ENXIO;
        }

        vcpu.Registers.SetX(0, alreadyOn ? AlreadyOn : Success);
        return null;
    }

    /// <summary>AFFINITY_INFO (§2.15): level 0 and an existing target only; KVM completes with SUCCESS and the RMM fills in the answer.</summary>
    private static KvmResult? CompleteAffinityInfo(KvmVcpu vcpu, ulong targetMpidr, ulong lowestLevel)
    {
        KvmVcpu? target = lowestLevel == 0 ? vcpu.Vm.VcpuByMpidr(targetMpidr) : null;
        if (target is null)
        {
            vcpu.Registers.SetX(0, InvalidParameters);
            return null;
        }

        if (!vcpu.Vm.Context.Rmi.PsciComplete(vcpu.RecPa, target.RecPa, Success).IsSuccess)
        {
            return Errno.ENXIO;
        }

        vcpu.Registers.SetX(0, Success);
        return null;
    }

    /// <summary>
    /// KVM_ARM_VCPU_RMI_PSCI_COMPLETE (§2.15) on the calling vCPU: -EPERM for a non-realm vCPU, -EINVAL for an
    /// unknown target or an RMM refusal. A successful CPU_ON completion also powers the target on in KVM's view.
    /// </summary>
    public static KvmResult Complete(KvmVcpu vcpu, in KvmArmRmiPsciComplete request)
    {
        if (!vcpu.Vm.IsRealm)
        {
            return Errno.EPERM;
        }

        KvmVcpu? target = vcpu.Vm.VcpuByMpidr(request.TargetMpidr);
        if (target is null || vcpu.RecPa == 0 || target.RecPa == 0)
        {
            return Errno.EINVAL;
        }

        RmiResult result = vcpu.Vm.Context.Rmi.PsciComplete(vcpu.RecPa, target.RecPa, request.PsciStatus);
        if (!result.IsSuccess)
        {
            return Errno.EINVAL;
        }

        if (request.PsciStatus == Success && (uint)vcpu.Registers.GetX(0) is CpuOn or (CpuOn | 0x4000_0000u))
        {
            target.IsPoweredOff = false;
        }

        return KvmResult.Success;
    }
}
