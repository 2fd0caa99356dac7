using CcaSim.Platform.Execution;

namespace CcaSim.Kvm.Vm;

// What KVM keeps for a vCPU that runs on a CPU engine (a normal VM's vCPU), and the scheduling state every vCPU
// shares: blocked in WFI, and the timer values last seen at an exit.
public sealed partial class KvmVcpu
{
    /// <summary>
    /// The engine's view of a normal VM's vCPU, created at the first KVM_RUN. The ONE_REG register file stays the
    /// ABI's source of truth at the ioctl boundary: it is loaded into this context when <see cref="RegistersDirty"/>
    /// and copied back from it (after <see cref="IRealmEngine.Flush"/>) when <see cref="ContextAhead"/>.
    /// </summary>
    internal RealmVcpuContext? Context { get; set; }

    /// <summary>The register file changed (INIT, SET_ONE_REG, PSCI CPU_ON) since the context was loaded from it.</summary>
    internal bool RegistersDirty { get; set; } = true;

    /// <summary>The vCPU ran since the register file was last brought up to date from the context.</summary>
    internal bool ContextAhead { get; set; }

    /// <summary>kvm_reset_vcpu is due: the context's system registers go back to their reset values at the next run.</summary>
    internal bool ResetPending { get; set; } = true;

    /// <summary>The vCPU is in kvm_vcpu_block after a WFI/WFE: the next KVM_RUN keeps waiting before it enters the guest.</summary>
    internal bool IsWaiting { get; set; }

    /// <summary>KVM_SET_VCPU_EVENTS asked for an external data abort on a normal VM's vCPU: taken at the next entry.</summary>
    internal bool NormalSeaPending { get; set; }

    /// <summary>The MMIO load a normal VM's vCPU waits for: Rt, sign extension and register width from the syndrome.</summary>
    internal (int Rt, bool SignExtend, bool SixtyFour) MmioLoad { get; set; }

    /// <summary>The vCPU's timers as of its last exit, which WFI blocking turns into interrupts and deadlines.</summary>
    internal VcpuTimers Timers { get; set; }
}

/// <summary>
/// CNTV/CNTP control and compare values with the virtual offset, as a vCPU left them: the timer lines and the
/// next deadline (in system-counter ticks) follow from them at any counter value.
/// </summary>
internal readonly record struct VcpuTimers(ulong CntvCtl, ulong CntvCval, ulong CntpCtl, ulong CntpCval, ulong CntvOff)
{
    public static VcpuTimers From(RealmVcpuContext ctx) => new(ctx.CntvCtl, ctx.CntvCval, ctx.CntpCtl, ctx.CntpCval, ctx.CntvOff);

    /// <summary>kvm_timer_should_fire for the virtual timer at counter <paramref name="now"/>: enabled, not masked, CVAL reached.</summary>
    public bool VirtualLevel(ulong now) => TimerControl.Output(CntvCtl, CntvCval, unchecked(now - CntvOff));

    public bool PhysicalLevel(ulong now) => TimerControl.Output(CntpCtl, CntpCval, now);

    /// <summary>The earliest system-counter value after <paramref name="now"/> at which a timer that can fire fires; null if none.</summary>
    public ulong? NextDeadline(ulong now)
    {
        ulong? best = null;
        if (TimerControl.CanFire(CntvCtl) && CntvCval <= ulong.MaxValue - CntvOff && CntvCval + CntvOff > now)
        {
            best = CntvCval + CntvOff;
        }

        if (TimerControl.CanFire(CntpCtl) && CntpCval > now && (best is null || CntpCval < best))
        {
            best = CntpCval;
        }

        return best;
    }
}
