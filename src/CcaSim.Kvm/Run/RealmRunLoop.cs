using System.Buffers.Binary;
using CcaSim.Kvm.Memslots;
using CcaSim.Kvm.Realm;
using CcaSim.Kvm.Rmi;
using CcaSim.Kvm.Uapi;
using CcaSim.Kvm.Vgic;
using CcaSim.Kvm.Vm;
using CcaSim.Platform.Memory;

namespace CcaSim.Kvm.Run;

/// <summary>
/// KVM_RUN for a realm vCPU (kvm-realm-abi.md §2.8, §2.11–§2.16): activation on the first run, then entries
/// into the REC until an exit needs user space. Before each entry it completes what the last exit left open
/// (MMIO data, host-call and PSCI results, a RIPAS change) and loads the vGIC's list registers; after each exit
/// it reads rec_exit from the non-secure run page and handles it as rmi-exit.c does.
/// </summary>
internal static class RealmRunLoop
{
    public static KvmResult Run(KvmVcpu vcpu)
    {
        KvmVm vm = vcpu.Vm;
        KvmRealm realm = vm.Realm!;
        if (!vcpu.HasRun)
        {
            // kvm_arch_vcpu_run_pid_change: the first run of each vCPU activates the realm if nobody did yet.
            vcpu.HasRun = true;
            vm.HasRun = true;
            KvmResult activated = vm.Activate();
            if (!activated.IsSuccess)
            {
                return activated;
            }
        }

        if (vcpu.Run.ExitReason == KvmExitReason.Mmio)
        {
            // kvm_arch_vcpu_ioctl_run completes an MMIO exit before it looks at immediate_exit: the mmio.data of
            // this call is what the realm reads, even when the call itself returns -EINTR. It keys on the
            // exit_reason user space left in the run page, not on what KVM reported: a VMM that overwrote it gets
            // no completion, so the realm re-executes the access and exits again (§2.14).
            CompleteMmio(vcpu);
        }

        if (vcpu.Run.ImmediateExit)
        {
            // kvm_arch_vcpu_ioctl_run honours immediate_exit before it resets exit_reason: the VMM sees -EINTR with
            // the previous exit still in the run page, and whatever that exit left pending stays pending.
            return Errno.EINTR;
        }

        // kvm_arch_vcpu_ioctl_run starts every call from KVM_EXIT_UNKNOWN: an error return must not leave the
        // previous exit's reason in the run page for the VMM to act on again.
        vcpu.Run.ExitReason = KvmExitReason.Unknown;

        // Every KVM_RUN is a new time slice of the host scheduler; a vCPU that yielded in WFI goes on waiting first.
        var clock = vm.Context.Clock;
        clock.BeginSlice();
        if (vcpu.IsWaiting && VcpuBlock.Wait(vcpu) is KvmResult stillWaiting)
        {
            return stillWaiting;
        }

        while (true)
        {
            if (realm.State != RealmState.Active)
            {
                return Errno.EINVAL;
            }

            if (vcpu.IsPoweredOff)
            {
                // A stopped vCPU blocks in the kernel until CPU_ON; in a single-threaded model the wait ends at
                // once, as if a signal had arrived (FIDELITY.md).
                vcpu.Run.ExitReason = KvmExitReason.Intr;
                return Errno.EINTR;
            }

            PreEnter(vcpu, realm);
            (ulong now, ulong pending) = (clock.Now, clock.PendingInstructions);
            RmiResult entered = realm.Rmi.RecEnter(vcpu.RecPa, vcpu.RunPa);
            bool progressed = clock.Now != now || clock.PendingInstructions != pending;
            if (entered.Status == RmiStatus.ErrorRealm && entered.Index == 1)
            {
                // The realm turned itself off (PSCI SYSTEM_OFF raced with this entry).
                vcpu.Run.ExitReason = KvmExitReason.Shutdown;
                return KvmResult.Success;
            }

            if (!entered.IsSuccess)
            {
                return Errno.ENXIO;
            }

            KvmResult? done = HandleExit(vcpu, realm, progressed);
            if (done is KvmResult result)
            {
                return result;
            }
        }
    }

    /// <summary>The pre-entry step (§2.11): complete the last exit into rec_enter, then load the vGIC state.</summary>
    private static void PreEnter(KvmVcpu vcpu, KvmRealm realm)
    {
        MemoryAccessor mem = vcpu.Vm.Context.HostMemory;
        ulong run = vcpu.RunPa;
        ulong flags = 0;
        if (vcpu.InjectSeaPending)
        {
            flags |= RmiRecRun.EnterFlagInjectSea;
        }
        else if (vcpu.EmulatedMmioPending)
        {
            flags |= RmiRecRun.EnterFlagEmulatedMmio;
            if (vcpu.MmioIsRead)
            {
                mem.Write64(run + RmiRecRun.EnterGprs, vcpu.MmioReadData);
            }
        }

        vcpu.InjectSeaPending = false;
        vcpu.EmulatedMmioPending = false;
        if (vcpu.LastExit is RmiExitState.HostCall or RmiExitState.Psci)
        {
            for (int i = 0; i < RmiRecRun.NumGprs; i++)
            {
                mem.Write64(run + RmiRecRun.EnterGprs + (ulong)(8 * i), vcpu.Registers.GetX(i));
            }
        }

        if (vcpu.PendingRipas is (ulong baseIpa, ulong top, bool toEmpty))
        {
            realm.SetRipas(vcpu.RecPa, baseIpa, top, toEmpty);
            vcpu.PendingRipas = null;
        }

        if (vcpu.RejectRipas)
        {
            flags |= RmiRecRun.EnterFlagRipasResponse;
            vcpu.RejectRipas = false;
        }

        // kvm_arch_vcpu_load sets HCR_EL2.TWI (no vLPIs) and TWE unless the vCPU thread has the host CPU to
        // itself; every vCPU of a machine shares one host thread here, so TWE is set once the VM has two vCPUs.
        flags |= RmiRecRun.EnterFlagTrapWfi;
        if (vcpu.Vm.Vcpus.Count > 1)
        {
            flags |= RmiRecRun.EnterFlagTrapWfe;
        }

        mem.Write64(run + RmiRecRun.EnterFlags, flags);
        if (vcpu.Vm.Irqchip is IInKernelIrqchip gic)
        {
            int numLrs = vcpu.Vm.Context.Gicv3NumLrs;
            Span<ulong> lrs = stackalloc ulong[RmiRecRun.NumLrs];
            ulong hcr = gic.FlushToListRegisters(vcpu.Index, lrs, numLrs);
            mem.Write64(run + RmiRecRun.EnterGicv3Hcr, hcr);
            for (int i = 0; i < RmiRecRun.NumLrs; i++)
            {
                mem.Write64(run + RmiRecRun.EnterGicv3Lrs + (ulong)(8 * i), lrs[i]);
            }
        }
    }

    /// <summary>handle_rec_exit (§2.11): null to re-enter, else what KVM_RUN returns.</summary>
    internal static KvmResult? HandleExit(KvmVcpu vcpu, KvmRealm realm, bool progressed)
    {
        MemoryAccessor mem = vcpu.Vm.Context.HostMemory;
        ulong run = vcpu.RunPa;
        Span<byte> reasonByte = stackalloc byte[1];
        mem.Read(run + RmiRecRun.ExitReason, reasonByte);
        var reason = (RmiExitReason)reasonByte[0];
        ulong esr = mem.Read64(run + RmiRecRun.ExitEsr);
        SyncTimersAndGic(vcpu, mem, run);
        vcpu.LastExit = reason switch
        {
            RmiExitReason.HostCall => RmiExitState.HostCall,
            RmiExitReason.Psci => RmiExitState.Psci,
            RmiExitReason.RipasChange => RmiExitState.RipasChange,
            _ => RmiExitState.Other,
        };

        switch (reason)
        {
            case RmiExitReason.Sync:
                return Esr.Ec(esr) switch
                {
                    Esr.EcDataAbortLow => HandleDataAbort(vcpu, realm, esr, mem.Read64(run + RmiRecRun.ExitHpfar), mem.Read64(run + RmiRecRun.ExitFar), mem.Read64(run + RmiRecRun.ExitGprs)),
                    Esr.EcSys64 => HandleSysReg(vcpu, esr, mem.Read64(run + RmiRecRun.ExitGprs)),
                    Esr.EcWfx => VcpuBlock.Wait(vcpu),
                    _ => Errno.ENXIO,
                };
            case RmiExitReason.Irq:
                // The host's scheduler tick (the time slice ran out) ends KVM_RUN as a signal would; a realm timer
                // that fired is in the vGIC now (SyncTimersAndGic) and reaches an LR on re-entry. An IRQ exit with no
                // realm progress at all is the host's own interrupt: it too returns to the VMM (FIDELITY.md).
                return NormalRunLoop.Interrupt(vcpu, progressed);
            case RmiExitReason.Fiq:
                // The host's own interrupt ended the entry. KVM re-enters until a signal is pending; CcaSim treats
                // the interrupt as that signal, so an idle realm returns control to the VMM (FIDELITY.md).
                vcpu.Run.ExitReason = KvmExitReason.Intr;
                return Errno.EINTR;
            case RmiExitReason.Psci:
                CopyGprs(vcpu, mem, run, 7);
                return RealmPsci.Handle(vcpu, IsSmcSyndrome(esr));
            case RmiExitReason.RipasChange:
                return HandleRipasChange(vcpu, realm, mem, run);
            case RmiExitReason.HostCall:
                CopyGprs(vcpu, mem, run, RmiRecRun.NumGprs);
                return HandleSmccc(vcpu, IsSmcSyndrome(esr));
            default:
                vcpu.Run.SetInternalError(0);
                vcpu.Run.ExitReason = KvmExitReason.InternalError;
                return KvmResult.Success;
        }
    }

    /// <summary>
    /// kvm_prepare_hypercall_exit sets KVM_HYPERCALL_EXIT_SMC from the EC of the exit's ESR. An RMM 1.0 reports
    /// PSCI and host-call exits with ESR 0, so a v12 realm's forwarded calls carry flags 0 (§2.15, §2.16).
    /// </summary>
    private static bool IsSmcSyndrome(ulong esr) => Esr.Ec(esr) is EcSmc32 or EcSmc64;

    private const ulong EcSmc32 = 0x13;
    private const ulong EcSmc64 = 0x17;

    private static void CopyGprs(KvmVcpu vcpu, MemoryAccessor mem, ulong run, int count)
    {
        for (int i = 0; i < count; i++)
        {
            vcpu.Registers.SetX(i, mem.Read64(run + RmiRecRun.ExitGprs + (ulong)(8 * i)));
        }
    }

    /// <summary>Timer state comes back in every exit and drives the timer PPIs; the realm's list registers go back to the vGIC (§2.16).</summary>
    private static void SyncTimersAndGic(KvmVcpu vcpu, MemoryAccessor mem, ulong run)
    {
        if (vcpu.Vm.Irqchip is not IInKernelIrqchip gic)
        {
            return;
        }

        ulong cntvCtl = mem.Read64(run + RmiRecRun.ExitCntvCtl);
        ulong cntpCtl = mem.Read64(run + RmiRecRun.ExitCntpCtl);

        // A realm's CNTVOFF is 0 (§2.16): its virtual timer counts on the system counter.
        vcpu.Timers = new VcpuTimers(cntvCtl, mem.Read64(run + RmiRecRun.ExitCntvCval), cntpCtl, mem.Read64(run + RmiRecRun.ExitCntpCval), 0);
        gic.SetTimerLevel(vcpu.Index, TimerPpi.Virtual, TimerPpi.IsAsserted(cntvCtl));
        gic.SetTimerLevel(vcpu.Index, TimerPpi.Physical, TimerPpi.IsAsserted(cntpCtl));
        int numLrs = vcpu.Vm.Context.Gicv3NumLrs;
        Span<ulong> lrs = stackalloc ulong[RmiRecRun.NumLrs];
        for (int i = 0; i < numLrs; i++)
        {
            lrs[i] = mem.Read64(run + RmiRecRun.ExitGicv3Lrs + (ulong)(8 * i));
        }

        gic.SyncFromListRegisters(vcpu.Index, lrs, numLrs);
    }

    /// <summary>
    /// rec_exit_sys_reg: for a write the value comes in gprs[0] and kvm_handle_sys_reg emulates it — the SGI
    /// registers (ICC_SGI1R_EL1, ICC_ASGI1R_EL1, ICC_SGI0R_EL1) go to vgic_v3_dispatch_sgi. The RMM moves the realm's
    /// PC past the instruction itself, so KVM's own PC/ELR bookkeeping has no effect on the realm. Anything else the
    /// RMM might forward (none in RMM 1.0: only the SGI writes trap) is ignored and the realm re-entered.
    /// </summary>
    private static KvmResult? HandleSysReg(KvmVcpu vcpu, ulong esr, ulong value)
    {
        if (NormalRunLoop.IsSgiRegisterWrite(esr & 0x1FF_FFFF) && vcpu.Vm.Irqchip is { IsInitialized: true } gic)
        {
            gic.DispatchSgi(vcpu.Index, value);
        }

        return null;
    }

    /// <summary>
    /// A data abort (§2.11, §2.12, §2.14): a write's value comes in gprs[0]; the stripped GPA decides between the
    /// private gmem path, the shared user-memory path and MMIO (the vGIC in the kernel, anything else in user space).
    /// </summary>
    private static KvmResult? HandleDataAbort(KvmVcpu vcpu, KvmRealm realm, ulong esr, ulong hpfar, ulong far, ulong writeValue)
    {
        ulong ipa = ((hpfar & ~0xFUL) << 8) | (far & 0xFFF);
        bool shared = (ipa & realm.SharedBit) != 0;
        ulong gpa = ipa & ~realm.SharedBit;
        ulong gfn = gpa >> MemslotTable.PageShift;
        bool isv = (esr & Esr.Isv) != 0;
        bool write = (esr & Esr.Wnr) != 0;
        if (isv && write && Esr.Srt(esr) != 31)
        {
            // Register 31 is XZR here: there is nothing to copy.
            vcpu.Registers.SetX(Esr.Srt(esr), writeValue);
        }

        Memslot? slot = vcpu.Vm.Memslots.Find(gfn);
        if (slot is not null)
        {
            if (!shared && slot.IsGuestMemfd)
            {
                if (!vcpu.Vm.Attributes.RangeHasAttributes(gfn, gfn + 1, KvmMemoryAttributeBits.Private, KvmMemoryAttributeBits.Private))
                {
                    vcpu.Run.SetMemoryFault(KvmMemoryExitFlag.Private, gfn << MemslotTable.PageShift, MemslotTable.PageSize);
                    vcpu.Run.ExitReason = KvmExitReason.MemoryFault;
                    return Errno.EFAULT;
                }

                KvmResult faulted = realm.FaultPrivate(slot, gfn, out bool mapped);
                if (faulted.IsSuccess)
                {
                    return mapped ? NoteProgress(vcpu) : NoteSpin(vcpu, gpa);
                }

                vcpu.Run.SetMemoryFault(0, gfn << MemslotTable.PageShift, MemslotTable.PageSize);
                vcpu.Run.ExitReason = KvmExitReason.MemoryFault;
                return faulted;
            }

            if (!shared)
            {
                // A private access to a slot without guest_memfd: no MEMORY_FAULT exit on arm64 (§2.12).
                return Errno.EINVAL;
            }

            KvmResult sharedFault = realm.FaultShared(slot, gfn);
            return sharedFault.IsSuccess ? null : sharedFault;
        }

        if (!isv)
        {
            // No syndrome to emulate with: the realm takes an external abort (§2.14), no NISV exit.
            vcpu.InjectSeaPending = true;
            return null;
        }

        int size = Esr.AccessSize(esr);
        vcpu.MmioIsRead = !write;
        vcpu.MmioLength = size;
        vcpu.MmioNeeded = true;
        vcpu.MmioReadData = 0;
        ulong data = write ? writeValue & SizeMask(size) : 0;
        if (vcpu.Vm.Irqchip is IInKernelIrqchip gic && gic.TryHandleMmio(vcpu.Index, gpa, write, size, ref data))
        {
            // io_mem_abort: an access the kernel handled is completed at once, through kvm_run.mmio.data.
            BinaryPrimitives.WriteUInt64LittleEndian(vcpu.Run.MmioData, data);
            CompleteMmio(vcpu);
            return null;
        }

        vcpu.Run.SetMmio(gpa, size, write, data);
        vcpu.Run.ExitReason = KvmExitReason.Mmio;
        return KvmResult.Success;
    }

    /// <summary>
    /// kvm_handle_mmio_return: once per MMIO exit (mmio_needed), a read takes its value from kvm_run.mmio.data,
    /// masked to the access size; for a read or a write alike, only this sets REC_ENTER_FLAG_EMULATED_MMIO, which
    /// the next entry hands to the RMM (§2.14).
    /// </summary>
    private static void CompleteMmio(KvmVcpu vcpu)
    {
        if (!vcpu.MmioNeeded)
        {
            return;
        }

        vcpu.MmioNeeded = false;
        vcpu.EmulatedMmioPending = true;
        if (vcpu.MmioIsRead)
        {
            vcpu.MmioReadData = BinaryPrimitives.ReadUInt64LittleEndian(vcpu.Run.MmioData) & SizeMask(vcpu.MmioLength);
        }
    }

    /// <summary>The stage-2 fault mapped a page: the realm can move on.</summary>
    private static KvmResult? NoteProgress(KvmVcpu vcpu)
    {
        vcpu.SpinningFaults = 0;
        return null;
    }

    /// <summary>
    /// The realm faulted again on a private page KVM had already mapped: its RIPAS is DESTROYED (rmm-1.0.md §5.5),
    /// and nothing the host does will map it until the realm accepts it again. v12 re-enters forever, leaving the
    /// vCPU thread to spin until a signal arrives; CcaSim delivers that signal after
    /// <see cref="MaxSpinningFaults"/> identical faults, so KVM_RUN returns -EINTR with KVM_EXIT_INTR instead of
    /// hanging the process (FIDELITY.md).
    /// </summary>
    private static KvmResult? NoteSpin(KvmVcpu vcpu, ulong gpa)
    {
        vcpu.SpinningFaults = vcpu.SpinningFaultGpa == gpa ? vcpu.SpinningFaults + 1 : 1;
        vcpu.SpinningFaultGpa = gpa;
        if (vcpu.SpinningFaults < MaxSpinningFaults)
        {
            return null;
        }

        vcpu.SpinningFaults = 0;
        vcpu.Run.ExitReason = KvmExitReason.Intr;
        return Errno.EINTR;
    }

    /// <summary>Consecutive no-progress faults on one page before CcaSim stands in for the signal that ends v12's spin.</summary>
    internal const int MaxSpinningFaults = 16;

    /// <summary>
    /// RSI_IPA_STATE_SET reached the host (§2.13): a request touching the shared half is refused on the next entry
    /// and KVM_RUN fails -EINVAL; otherwise user space sees KVM_EXIT_MEMORY_FAULT (-EFAULT) and the next KVM_RUN
    /// carries the change out.
    /// </summary>
    private static KvmResult HandleRipasChange(KvmVcpu vcpu, KvmRealm realm, MemoryAccessor mem, ulong run)
    {
        ulong baseIpa = mem.Read64(run + RmiRecRun.ExitRipasBase);
        ulong top = mem.Read64(run + RmiRecRun.ExitRipasTop);
        Span<byte> value = stackalloc byte[1];
        mem.Read(run + RmiRecRun.ExitRipasValue, value);
        bool toRam = value[0] == RmiRtt.RipasRam;
        if ((baseIpa & realm.SharedBit) != 0 || ((top - 1) & realm.SharedBit) != 0)
        {
            vcpu.RejectRipas = true;
            return Errno.EINVAL;
        }

        vcpu.PendingRipas = (baseIpa, top, !toRam);
        vcpu.Run.SetMemoryFault(toRam ? KvmMemoryExitFlag.Private : 0, baseIpa, top - baseIpa);
        vcpu.Run.ExitReason = KvmExitReason.MemoryFault;
        return Errno.EFAULT;
    }

    /// <summary>
    /// kvm_smccc_call_handler for a host call (§2.16): a function the VMM's SMCCC filter forwards becomes
    /// KVM_EXIT_HYPERCALL; a denied one, or one KVM does not implement, answers SMCCC NOT_SUPPORTED in X0.
    /// </summary>
    internal static KvmResult? HandleSmccc(KvmVcpu vcpu, bool smc)
    {
        ulong fid = vcpu.Registers.GetX(0);
        switch (vcpu.Vm.SmcccFilter.ActionFor(fid))
        {
            case SmcccFilterAction.FwdToUser:
                vcpu.Run.SetHypercall(fid, smc ? KvmHypercallFlags.Smc : 0);
                vcpu.Run.ExitReason = KvmExitReason.Hypercall;
                return KvmResult.Success;
            case SmcccFilterAction.Deny:
                vcpu.Registers.SetX(0, SmcccNotSupported);
                return null;
        }

        vcpu.Registers.SetX(0, (uint)fid switch
        {
            SmcccVersion => 0x1_0001,
            _ => SmcccNotSupported,
        });
        return null;
    }

    private const uint SmcccVersion = 0x8000_0000;
    private const ulong SmcccNotSupported = ulong.MaxValue;

    private static ulong SizeMask(int size) => size >= 8 ? ulong.MaxValue : (1UL << (8 * size)) - 1;
}
