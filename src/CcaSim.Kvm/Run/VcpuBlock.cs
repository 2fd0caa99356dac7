using CcaSim.Kvm.Vgic;
using CcaSim.Kvm.Vm;
using CcaSim.Platform.Execution;

namespace CcaSim.Kvm.Run;

/// <summary>
/// kvm_vcpu_block after a trapped WFI/WFE (kvm_handle_wfx), for the single host thread every vCPU of the machine
/// shares (FIDELITY.md): a vCPU with an interrupt to take goes on at once; otherwise, if another vCPU of the VM can
/// run, KVM_RUN returns -EINTR (KVM_EXIT_INTR) so the VMM runs that one; if none can, virtual time skips to the
/// earliest timer deadline of the VM's vCPUs and the check repeats. With no deadline and nothing runnable it also
/// returns -EINTR: the VMM decides (a real vCPU thread would sleep until a device or signal wakes it).
/// </summary>
internal static class VcpuBlock
{
    /// <summary>Null: the vCPU has an interrupt and re-enters the guest; else what KVM_RUN returns.</summary>
    public static KvmResult? Wait(KvmVcpu vcpu)
    {
        KvmVm vm = vcpu.Vm;
        VirtualClock clock = vm.Context.Clock;
        while (true)
        {
            RefreshTimerLines(vm, clock.Now);
            if (HasPendingInterrupt(vcpu))
            {
                vcpu.IsWaiting = false;
                return null;
            }

            vcpu.IsWaiting = true;
            if (vm.Vcpus.Any(v => !ReferenceEquals(v, vcpu) && IsRunnable(v)))
            {
                return Interrupted(vcpu);
            }

            ulong? deadline = null;
            foreach (KvmVcpu v in vm.Vcpus)
            {
                if (!v.IsPoweredOff && v.Timers.NextDeadline(clock.Now) is ulong d && (deadline is null || d < deadline))
                {
                    deadline = d;
                }
            }

            if (deadline is not ulong next)
            {
                return Interrupted(vcpu);
            }

            ulong before = clock.Now;
            clock.AdvanceTo(next);
            if (vm.Context.Platform.Trace.Sink is not null)
            {
                TraceTimers(vm, before, next);
            }
        }
    }

    /// <summary>
    /// The timers that expired while the machine idled: KVM's background timer (kvm_bg_timer_expire) wakes the vCPU
    /// and the timer's PPI is asserted to the vGIC at <paramref name="now"/>.
    /// </summary>
    private static void TraceTimers(KvmVm vm, ulong before, ulong now)
    {
        Platform.Tracing.ITraceSink? sink = vm.Context.Platform.Trace.Sink;
        foreach (KvmVcpu v in vm.Vcpus)
        {
            if (v.IsPoweredOff)
            {
                continue;
            }

            foreach ((bool was, bool isNow, int ppi) in new[] { (v.Timers.VirtualLevel(before), v.Timers.VirtualLevel(now), TimerPpi.Virtual), (v.Timers.PhysicalLevel(before), v.Timers.PhysicalLevel(now), TimerPpi.Physical) })
            {
                if (!was && isNow)
                {
                    sink?.Record(new Platform.Tracing.TraceEvent { Kind = Platform.Tracing.TraceEventKind.TimerFired, Vcpu = v.Index, Time = now, Intid = (uint)ppi });
                }
            }
        }
    }

    /// <summary>KVM_RUN returns as if a signal had arrived: -EINTR with KVM_EXIT_INTR.</summary>
    public static KvmResult Interrupted(KvmVcpu vcpu)
    {
        vcpu.Run.ExitReason = Uapi.KvmExitReason.Intr;
        return Errno.EINTR;
    }

    /// <summary>
    /// kvm_timer_update_irq for every vCPU that has run, from its timers at counter <paramref name="now"/>: after
    /// a skip ahead the interrupt of a timer that expired meanwhile is pending in the vGIC.
    /// </summary>
    public static void RefreshTimerLines(KvmVm vm, ulong now)
    {
        if (vm.Irqchip is not { IsInitialized: true } gic)
        {
            return;
        }

        foreach (KvmVcpu v in vm.Vcpus.Where(v => v.HasRun))
        {
            gic.SetTimerLevel(v.Index, TimerPpi.Virtual, v.Timers.VirtualLevel(now));
            gic.SetTimerLevel(v.Index, TimerPpi.Physical, v.Timers.PhysicalLevel(now));
        }
    }

    /// <summary>kvm_arch_vcpu_runnable: powered on and initialised, and not waiting unless an interrupt ends the wait.</summary>
    private static bool IsRunnable(KvmVcpu v) =>
        v.IsInitialized && !v.IsPoweredOff && (!v.IsWaiting || HasPendingInterrupt(v));

    /// <summary>kvm_vgic_vcpu_pending_irq; without an in-kernel GIC nothing wakes a waiting vCPU.</summary>
    private static bool HasPendingInterrupt(KvmVcpu v) =>
        v.Vm.Irqchip is { IsInitialized: true } gic && gic.HasPendingFor(v.Index);
}
