using CcaSim.Platform.Execution;

namespace CcaSim.Cpu.Arch;

/// <summary>
/// The EL1 physical and virtual timers of the Generic Timer (Arm ARM, "The Generic Timer in AArch64 state") on the
/// machine's <see cref="VirtualClock"/>: CNTPCT_EL0 is <see cref="VirtualClock.Now"/>, CNTVCT_EL0 is that minus
/// CNTVOFF_EL2 (<see cref="RealmVcpuContext.CntvOff"/>). The control and compare values live in the context, so the
/// owner (RMM rec_exit, KVM) reads them as the vCPU left them. All operations are allocation-free.
/// </summary>
public static class GenericTimer
{
    /// <summary>CNTx_CTL_EL0.ENABLE.</summary>
    public const ulong CtlEnable = TimerControl.Enable;

    /// <summary>CNTx_CTL_EL0.IMASK.</summary>
    public const ulong CtlImask = TimerControl.Imask;

    /// <summary>CNTx_CTL_EL0.ISTATUS (read-only: the timer condition is met).</summary>
    public const ulong CtlIstatus = TimerControl.Istatus;

    /// <summary>PPI of the EL1 virtual timer (Arm BSA / KVM's default, what realms use).</summary>
    public const uint VirtualTimerPpi = 27;

    /// <summary>PPI of the EL1 physical timer (Arm BSA / KVM's default).</summary>
    public const uint PhysicalTimerPpi = 30;

    /// <summary>
    /// Emulates an MRS of a timer or counter register (CNTFRQ/CNTPCT/CNTVCT(SS)/CNTP_*/CNTV_*_EL0, CNTKCTL_EL1).
    /// False when <paramref name="reg"/> is not one.
    /// </summary>
    public static bool TryRead(RealmVcpuContext ctx, VirtualClock clock, SysReg reg, out ulong value)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ArgumentNullException.ThrowIfNull(clock);
        value = 0;
        if (reg == SysReg.CNTKCTL_EL1)
        {
            value = ctx.CntkctlEl1;
            return true;
        }

        if (reg.Op0 != 3 || reg.Op1 != 3 || reg.CRn != 14)
        {
            return false;
        }

        ulong physical = clock.Now;
        ulong virt = physical - ctx.CntvOff;
        switch (reg.CRm, reg.Op2)
        {
            case (0, 0):
                value = VirtualClock.CounterFrequency;
                return true;
            case (0, 1):
            case (0, 5):
                value = physical;
                return true;
            case (0, 2):
            case (0, 6):
                value = virt;
                return true;
            case (2, 0):
                value = TimerValue(ctx.CntpCval, physical);
                return true;
            case (2, 1):
                value = Control(ctx.CntpCtl, ctx.CntpCval, physical);
                return true;
            case (2, 2):
                value = ctx.CntpCval;
                return true;
            case (3, 0):
                value = TimerValue(ctx.CntvCval, virt);
                return true;
            case (3, 1):
                value = Control(ctx.CntvCtl, ctx.CntvCval, virt);
                return true;
            case (3, 2):
                value = ctx.CntvCval;
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// Emulates an MSR to a timer register. False when <paramref name="reg"/> is not a timer register the guest can
    /// write: the counters and CNTFRQ_EL0 are read-only at EL1 and EL0, their MSR is UNDEFINED (Arm ARM, CNTFRQ_EL0 and CNTxCT_EL0).
    /// </summary>
    public static bool TryWrite(RealmVcpuContext ctx, VirtualClock clock, SysReg reg, ulong value)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ArgumentNullException.ThrowIfNull(clock);
        if (reg == SysReg.CNTKCTL_EL1)
        {
            ctx.CntkctlEl1 = value;
            return true;
        }

        if (reg.Op0 != 3 || reg.Op1 != 3 || reg.CRn != 14)
        {
            return false;
        }

        ulong physical = clock.Now;
        ulong virt = physical - ctx.CntvOff;
        switch (reg.CRm, reg.Op2)
        {
            case (2, 0):
                // TVAL writes set CVAL = counter + SignExtend(TVAL[31:0]) (Arm ARM, CNTP_TVAL_EL0).
                ctx.CntpCval = physical + (ulong)(long)(int)(uint)value;
                ctx.CntpCtl = Control(ctx.CntpCtl, ctx.CntpCval, physical);
                break;
            case (2, 1):
                ctx.CntpCtl = Control(value, ctx.CntpCval, physical);
                break;
            case (2, 2):
                ctx.CntpCval = value;
                ctx.CntpCtl = Control(ctx.CntpCtl, value, physical);
                break;
            case (3, 0):
                ctx.CntvCval = virt + (ulong)(long)(int)(uint)value;
                ctx.CntvCtl = Control(ctx.CntvCtl, ctx.CntvCval, virt);
                break;
            case (3, 1):
                ctx.CntvCtl = Control(value, ctx.CntvCval, virt);
                break;
            case (3, 2):
                ctx.CntvCval = value;
                ctx.CntvCtl = Control(ctx.CntvCtl, value, virt);
                break;
            default:
                return false;
        }

        // The owner masks a timer's signal only while it asserts. Once the guest's own write de-asserts it (new
        // CVAL/TVAL, IMASK, disable), hardware would unmask at the next exit: the EOI maintenance interrupt of the
        // level interrupt's list register (TF-RMM then clears CNTHCTL_EL2.CNTxMASK in check_pending_timers), or the
        // guest's deactivation of KVM's HW-mapped timer interrupt. The engine does not stop for those exits, so it
        // lifts the mask here, before the timer can assert again (docs/FIDELITY.md, CPU engine).
        ctx.CntvSignalMasked &= TimerControl.IsAsserted(ctx.CntvCtl);
        ctx.CntpSignalMasked &= TimerControl.IsAsserted(ctx.CntpCtl);
        return true;
    }

    /// <summary>
    /// The physical-counter value at which the earliest enabled, unmasked timer fires (the virtual timer's at
    /// CVAL + CNTVOFF); <see cref="ulong.MaxValue"/> when no timer can fire. A timer whose condition is already met
    /// has a deadline at or before now.
    /// </summary>
    public static ulong NextDeadline(RealmVcpuContext ctx)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ulong deadline = ulong.MaxValue;
        if (TimerControl.CanFire(ctx.CntpCtl))
        {
            deadline = ctx.CntpCval;
        }

        if (TimerControl.CanFire(ctx.CntvCtl))
        {
            // The virtual counter is CNTPCT - CNTVOFF, so it reaches CVAL when CNTPCT = CVAL + CNTVOFF; a sum past
            // 2^64 is a deadline the physical counter never reaches.
            ulong sum = ctx.CntvCval + ctx.CntvOff;
            ulong virtualDeadline = sum < ctx.CntvCval ? ulong.MaxValue : sum;
            deadline = Math.Min(deadline, virtualDeadline);
        }

        return deadline;
    }

    /// <summary>
    /// True when a timer asserts its interrupt (ENABLE, not IMASK, condition met), the owner has not masked its
    /// signal to the host (<see cref="RealmVcpuContext.CntvSignalMasked"/>), and its PPI (27 virtual, 30 physical) is
    /// not already pending or active in a list register: the PE would take a physical IRQ for it, which the owner
    /// turns into a virtual one.
    /// </summary>
    public static bool FiringWithoutListRegister(RealmVcpuContext ctx, VirtualClock clock) => FiringPpi(ctx, clock) != 0;

    /// <summary>
    /// The PPI of the timer <see cref="FiringWithoutListRegister"/> finds (the virtual timer's first), or 0 when none:
    /// what the PE's timer asserts to the host's interrupt controller.
    /// </summary>
    public static uint FiringPpi(RealmVcpuContext ctx, VirtualClock clock)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ArgumentNullException.ThrowIfNull(clock);
        ulong physical = clock.Now;
        if (!ctx.CntvSignalMasked && TimerControl.Output(ctx.CntvCtl, ctx.CntvCval, physical - ctx.CntvOff) && !GicCpuInterface.IsPendingOrActive(ctx, VirtualTimerPpi))
        {
            return VirtualTimerPpi;
        }

        return !ctx.CntpSignalMasked && TimerControl.Output(ctx.CntpCtl, ctx.CntpCval, physical) && !GicCpuInterface.IsPendingOrActive(ctx, PhysicalTimerPpi)
            ? PhysicalTimerPpi
            : 0;
    }

    /// <summary>Refreshes ISTATUS in the context's CNTP_CTL and CNTV_CTL for the current counter values.</summary>
    public static void UpdateStatus(RealmVcpuContext ctx, VirtualClock clock)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ArgumentNullException.ThrowIfNull(clock);
        ulong physical = clock.Now;
        ctx.CntpCtl = Control(ctx.CntpCtl, ctx.CntpCval, physical);
        ctx.CntvCtl = Control(ctx.CntvCtl, ctx.CntvCval, physical - ctx.CntvOff);
    }

    // ENABLE and IMASK as written; ISTATUS set when enabled and the counter has reached CVAL, both compared as
    // unsigned 64-bit values (Arm ARM, "Operation of the CompareValue views of the timers"); with ENABLE clear
    // ISTATUS reads 0 here (architecturally UNKNOWN).
    private static ulong Control(ulong ctl, ulong cval, ulong counter) => TimerControl.WithStatus(ctl & (CtlEnable | CtlImask), cval, counter);

    // TVAL reads (CVAL - counter)[31:0]; bits [63:32] are RES0.
    private static ulong TimerValue(ulong cval, ulong counter) => (uint)(cval - counter);

}
