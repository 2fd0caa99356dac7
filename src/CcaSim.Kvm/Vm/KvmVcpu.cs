using CcaSim.Kvm.Uapi;
using CcaSim.Kvm.Vcpu;

namespace CcaSim.Kvm.Vm;

/// <summary>
/// A vCPU (<c>struct kvm_vcpu</c>) of a VM: its id, initialisation, register file, the <c>kvm_run</c> page and, for
/// a realm, the REC KVM created for it at activation together with the exit state the next entry must complete.
/// </summary>
public sealed partial class KvmVcpu
{
    internal KvmVcpu(KvmVm vm, int id, int index)
    {
        Vm = vm;
        Id = id;
        Index = index;
        Registers = new VcpuRegisterFile(vm.Registers);
    }

    public KvmVm Vm { get; }

    /// <summary>vcpu_id as given to KVM_CREATE_VCPU.</summary>
    public int Id { get; }

    /// <summary>Position among the VM's vCPUs (vcpu_idx): the redistributor and list-register index.</summary>
    public int Index { get; }

    public KvmRun Run { get; } = new();

    /// <summary>The registers userspace reaches through ONE_REG and that the REC takes at creation (§2.9).</summary>
    public VcpuRegisterFile Registers { get; }

    /// <summary>Feature bits of the KVM_ARM_VCPU_INIT that initialised the vCPU, without POWER_OFF.</summary>
    public uint Features => Registers.Features.Features;

    /// <summary>MPIDR_EL1 as KVM resets it: Aff0 = id[3:0], Aff1 = id[11:4], Aff2 = id[19:12] (reset_mpidr).</summary>
    public ulong Mpidr => ((ulong)Id & 0xF) | ((((ulong)Id >> 4) & 0xFF) << 8) | ((((ulong)Id >> 12) & 0xFF) << 16);

    /// <summary>Set by a successful KVM_ARM_VCPU_INIT.</summary>
    public bool IsInitialized => Registers.Features.IsInitialized;

    /// <summary>PSCI state as KVM sees it: off until CPU_ON (or from init with POWER_OFF), off after CPU_OFF / SYSTEM_OFF.</summary>
    public bool IsPoweredOff { get; internal set; }

    /// <summary>Whether this vCPU has been run once (kvm_arch_vcpu_run_pid_change has happened).</summary>
    public bool HasRun { get; internal set; }

    // The REC (§2.3): granules KVM delegated for it and the non-secure rec_run page it enters with.
    internal ulong RecPa { get; set; }

    internal ulong[] AuxPas { get; set; } = [];

    internal ulong RunPa { get; set; }

    /// <summary>Why the REC last exited; decides what the next entry copies in (§2.11).</summary>
    internal RmiExitState LastExit { get; set; }

    /// <summary>
    /// REC_ENTER_FLAG_EMULATED_MMIO in rec_enter.flags: set only when KVM completed an emulatable MMIO access
    /// (kvm_handle_mmio_return, for the in-kernel vGIC at once, for user space on the next KVM_RUN that finds
    /// exit_reason KVM_EXIT_MMIO), consumed by the next entry; KVM_SET_VCPU_EVENTS turns it into an SEA (§2.14).
    /// </summary>
    internal bool EmulatedMmioPending { get; set; }

    internal bool MmioIsRead { get; set; }

    internal int MmioLength { get; set; }

    /// <summary>vcpu->mmio_needed: an MMIO exit whose completion (kvm_handle_mmio_return) has not happened yet.</summary>
    internal bool MmioNeeded { get; set; }

    /// <summary>A completed MMIO read's value, masked to the access size: what the next entry puts in rec_enter.gprs[0].</summary>
    internal ulong MmioReadData { get; set; }

    /// <summary>KVM_SET_VCPU_EVENTS turned the pending MMIO into an external abort (§2.14).</summary>
    internal bool InjectSeaPending { get; set; }

    /// <summary>A RIPAS change the VMM has seen as KVM_EXIT_MEMORY_FAULT and the next entry carries out (§2.13).</summary>
    internal (ulong Base, ulong Top, bool ToEmpty)? PendingRipas { get; set; }

    /// <summary>Refuse the pending RIPAS change on the next entry (shared-half request, §2.13 step 2).</summary>
    internal bool RejectRipas { get; set; }

    /// <summary>Consecutive faults on <see cref="SpinningFaultGpa"/> that mapped nothing (a DESTROYED page, §2.12).</summary>
    internal int SpinningFaults { get; set; }

    internal ulong SpinningFaultGpa { get; set; }
}

/// <summary>The exit KVM last took from the REC, as far as the next entry cares.</summary>
internal enum RmiExitState
{
    None,
    Other,
    HostCall,
    Psci,
    RipasChange,
}
