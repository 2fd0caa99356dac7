using CcaSim.Kvm.Uapi;
using CcaSim.Kvm.Vcpu;
using CcaSim.Kvm.Vm;
using CcaSim.Platform.Execution;

namespace CcaSim.Kvm.Run;

/// <summary>
/// kvm_smccc_call_handler for a normal VM's HVC or SMC (hypercalls.c, psci.c of 6.6): the VMM's SMCCC filter
/// first (DENY → NOT_SUPPORTED, FWD_TO_USER → KVM_EXIT_HYPERCALL), then SMCCC_VERSION / ARCH_FEATURES, then PSCI
/// 0.2–1.1 in the kernel. The PC is already past the call (the engine reports both conduits so), which is where
/// handle_smc's kvm_incr_pc leaves it too.
/// </summary>
internal static class NormalPsci
{
    private const uint SmcccVersionFid = 0x8000_0000;
    private const uint SmcccArchFeaturesFid = 0x8000_0001;
    private const uint ArchWorkaround1 = 0x8000_8000;
    private const uint ArchWorkaround2 = 0x8000_7FFF;
    private const uint ArchWorkaround3 = 0x8000_3FFF;

    private const uint Fn64 = 0x4000_0000;
    private const uint PsciVersionFid = 0x8400_0000;
    private const uint CpuSuspend = 0x8400_0001;
    private const uint CpuOff = 0x8400_0002;
    private const uint CpuOn = 0x8400_0003;
    private const uint AffinityInfo = 0x8400_0004;
    private const uint MigrateInfoType = 0x8400_0006;
    private const uint SystemOff = 0x8400_0008;
    private const uint SystemReset = 0x8400_0009;
    private const uint PsciFeatures = 0x8400_000A;
    private const uint SystemSuspend = 0x8400_000E;
    private const uint SystemReset2 = 0x8400_0012;

    private const ulong Success = 0;
    private const ulong NotSupported = unchecked((ulong)-1L);
    private const ulong InvalidParams = unchecked((ulong)-2L);
    private const ulong AlreadyOn = unchecked((ulong)-4L);
    private const ulong InternalFailure = unchecked((ulong)-6L);
    private const ulong SmcccVersion11 = 0x1_0001;
    private const ulong WorkaroundUnaffected = 1;
    private const ulong TosMultiprocessor = 2;

    /// <summary>MPIDR_HWID_BITMASK: Aff3 and Aff2..Aff0.</summary>
    private const ulong MpidrHwidMask = 0xFF_00FF_FFFFUL;

    /// <summary>KVM_SYSTEM_EVENT_RESET_FLAG_PSCI_RESET2.</summary>
    private const ulong ResetFlagPsciReset2 = 1;

    /// <summary>Null to re-enter the guest, else what KVM_RUN returns.</summary>
    public static KvmResult? Handle(KvmVcpu vcpu, RealmVcpuContext ctx, bool smc)
    {
        uint fid = (uint)ctx.X[0];
        switch (vcpu.Vm.SmcccFilter.ActionFor(fid))
        {
            case SmcccFilterAction.Deny:
                return Return(ctx, NotSupported);
            case SmcccFilterAction.FwdToUser:
                vcpu.Run.SetHypercall(fid, smc ? KvmHypercallFlags.Smc : 0);
                vcpu.Run.ExitReason = KvmExitReason.Hypercall;
                return KvmResult.Success;
        }

        switch (fid)
        {
            case SmcccVersionFid:
                return Return(ctx, SmcccVersion11);
            case SmcccArchFeaturesFid:
                // The simulated host CPU is not affected by Spectre v2, v4 or BHB: every workaround is UNAFFECTED.
                return Return(ctx, (uint)ctx.X[1] is ArchWorkaround1 or ArchWorkaround2 or ArchWorkaround3 ? WorkaroundUnaffected : NotSupported);
        }

        return Psci(vcpu, ctx, fid);
    }

    /// <summary>kvm_psci_call: kvm_psci_1_x_call or kvm_psci_0_2_call by the VM's PSCI version; PSCI 0.1 vCPUs are not modelled.</summary>
    private static KvmResult? Psci(KvmVcpu vcpu, RealmVcpuContext ctx, uint fid)
    {
        uint version = vcpu.Registers.Features.HasPsci02 ? vcpu.Vm.Registers.PsciVersion : VmRegisterConfig.PsciVersion01;
        if (version == VmRegisterConfig.PsciVersion01)
        {
            return Return(ctx, NotSupported);
        }

        bool v1 = version >= VmRegisterConfig.PsciVersion10;
        int minor = (int)(version & 0xFFFF);
        bool narrow = (fid & Fn64) == 0;
        switch (fid)
        {
            case PsciVersionFid:
                return Return(ctx, version);
            case PsciFeatures when v1:
                return Return(ctx, Features((uint)ctx.X[1], minor));
            case SystemReset2 or (SystemReset2 | Fn64) when v1 && minor >= 1:
                ulong type = narrow ? (uint)ctx.X[1] : ctx.X[1];
                if (type != 0 && type < 0x8000_0000)
                {
                    return Return(ctx, InvalidParams);
                }

                return SystemEvent(vcpu, ctx, KvmSystemEvent.Reset, ResetFlagPsciReset2);
            case CpuSuspend or (CpuSuspend | Fn64):
                // kvm_psci_vcpu_suspend: a WFI, then SUCCESS.
                Return(ctx, Success);
                return VcpuBlock.Wait(vcpu);
            case CpuOff:
                vcpu.IsPoweredOff = true;
                return Return(ctx, Success);
            case CpuOn or (CpuOn | Fn64):
                return Return(ctx, CpuOnCall(vcpu, Arg(ctx, 1, narrow), Arg(ctx, 2, narrow), Arg(ctx, 3, narrow)));
            case AffinityInfo or (AffinityInfo | Fn64):
                return Return(ctx, AffinityInfoCall(vcpu, Arg(ctx, 1, narrow), Arg(ctx, 2, narrow)));
            case MigrateInfoType:
                return Return(ctx, TosMultiprocessor);
            case SystemOff:
                return SystemEvent(vcpu, ctx, KvmSystemEvent.Shutdown, 0);
            case SystemReset:
                return SystemEvent(vcpu, ctx, KvmSystemEvent.Reset, 0);
            default:
                return Return(ctx, NotSupported);
        }
    }

    /// <summary>PSCI_FEATURES of kvm_psci_1_x_call: the functions KVM implements; SYSTEM_SUSPEND is never enabled here.</summary>
    private static ulong Features(uint fid, int minor) => fid switch
    {
        PsciVersionFid or CpuSuspend or (CpuSuspend | Fn64) or CpuOff or CpuOn or (CpuOn | Fn64)
            or AffinityInfo or (AffinityInfo | Fn64) or MigrateInfoType or SystemOff or SystemReset
            or PsciFeatures or SmcccVersionFid => Success,
        SystemReset2 or (SystemReset2 | Fn64) when minor >= 1 => Success,
        SystemSuspend or (SystemSuspend | Fn64) => NotSupported,
        _ => NotSupported,
    };

    /// <summary>
    /// kvm_psci_vcpu_on: a target outside MPIDR_HWID_BITMASK or not a vCPU → INVALID_PARAMS; one not stopped →
    /// ALREADY_ON; else it is reset (kvm_reset_vcpu with reset_state: PC = entry, X0 = context id, EL1h with DAIF
    /// masked, system registers at their reset values) and made runnable.
    /// </summary>
    private static ulong CpuOnCall(KvmVcpu vcpu, ulong targetMpidr, ulong entry, ulong contextId)
    {
        if ((targetMpidr & ~MpidrHwidMask) != 0 || vcpu.Vm.VcpuByMpidr(targetMpidr) is not KvmVcpu target || !target.IsInitialized)
        {
            return InvalidParams;
        }

        if (!target.IsPoweredOff)
        {
            return AlreadyOn;
        }

        target.Registers.ResetForCpuOn(entry, contextId);
        target.ResetPending = true;
        target.RegistersDirty = true;
        target.ContextAhead = false;
        target.IsWaiting = false;
        target.IsPoweredOff = false;
        return Success;
    }

    /// <summary>
    /// kvm_psci_vcpu_affinity_info: ON (0) if a running vCPU matches the affinity above the lowest level, OFF (1) if
    /// vCPUs match but all are stopped, INVALID_PARAMETERS if no vCPU matches (guests count their CPUs this way).
    /// </summary>
    private static ulong AffinityInfoCall(KvmVcpu vcpu, ulong targetAffinity, ulong lowestLevel)
    {
        if ((targetAffinity & ~MpidrHwidMask) != 0 || lowestLevel > 3)
        {
            return InvalidParams;
        }

        int shift = ((1 << (int)lowestLevel) >> 1) << 3;
        ulong mask = MpidrHwidMask & ~((1UL << shift) - 1);
        targetAffinity &= mask;
        bool matched = false;
        foreach (KvmVcpu v in vcpu.Vm.Vcpus)
        {
            if ((v.Mpidr & mask) == targetAffinity)
            {
                matched = true;
                if (!v.IsPoweredOff)
                {
                    return 0;
                }
            }
        }

        return matched ? 1 : InvalidParams;
    }

    /// <summary>kvm_prepare_system_event: every vCPU stopped, X0 = INTERNAL_FAILURE should the guest run again.</summary>
    private static KvmResult SystemEvent(KvmVcpu vcpu, RealmVcpuContext ctx, uint type, ulong flags)
    {
        foreach (KvmVcpu v in vcpu.Vm.Vcpus)
        {
            v.IsPoweredOff = true;
        }

        Return(ctx, InternalFailure);
        vcpu.Run.SetSystemEvent(type, flags);
        vcpu.Run.ExitReason = KvmExitReason.SystemEvent;
        return KvmResult.Success;
    }

    /// <summary>kvm_psci_narrow_to_32bit for the SMC32 forms.</summary>
    private static ulong Arg(RealmVcpuContext ctx, int n, bool narrow) => narrow ? (uint)ctx.X[n] : ctx.X[n];

    /// <summary>smccc_set_retval(val, 0, 0, 0); null: the guest goes on.</summary>
    private static KvmResult? Return(RealmVcpuContext ctx, ulong value)
    {
        ctx.X[0] = value;
        ctx.X[1] = 0;
        ctx.X[2] = 0;
        ctx.X[3] = 0;
        return null;
    }
}
