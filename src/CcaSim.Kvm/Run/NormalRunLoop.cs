using System.Buffers.Binary;
using CcaSim.Kvm.Uapi;
using CcaSim.Kvm.Vgic;
using CcaSim.Kvm.Vm;
using CcaSim.Platform.Execution;
using CcaSim.Platform.Tracing;

namespace CcaSim.Kvm.Run;

/// <summary>
/// KVM_RUN for a normal VM's vCPU on a CPU engine (kvm_arch_vcpu_ioctl_run and handle_exit of 6.6): stage 2 is
/// the VM's memslots, the vGIC's list registers go into the context before every entry and come back after every
/// exit, the timers drive PPIs 27 and 30, and every exit the kernel can handle (in-kernel vGIC MMIO, PSCI and SMCCC,
/// SGIs, WFI, interrupts) re-enters without returning to the VMM.
/// </summary>
internal static class NormalRunLoop
{
    private const ulong InstructionSize = 4;

    /// <summary>SCTLR_EL1's reset value in KVM's sys_reg table (MMU and caches off, RES1 bits set).</summary>
    private const ulong SctlrEl1Reset = 0x00C5_0078;

    /// <summary>MPIDR_EL1 bit 31 is RES1 (reset_mpidr).</summary>
    private const ulong MpidrRes1 = 1UL << 31;

    /// <summary>ESR_ELx bits kvm_vcpu_dabt_iss_nisv_sanitized passes to the VMM: CM, WnR and the fault status code.</summary>
    private const ulong NisvIssMask = (1UL << 8) | (1UL << 6) | 0x3F;

    public static KvmResult Run(KvmVcpu vcpu, IRealmEngine engine)
    {
        KvmVm vm = vcpu.Vm;
        if (!vcpu.HasRun)
        {
            // kvm_arch_vcpu_run_pid_change → kvm_vgic_map_resources: the frames are checked by the first run.
            if (vm.Irqchip is Vgic3 gic && gic.MapResources() is { IsSuccess: false } unmapped)
            {
                return unmapped;
            }

            vcpu.HasRun = true;
            vm.HasRun = true;
        }

        RealmVcpuContext ctx = PrepareContext(vcpu);
        if (vcpu.Run.ExitReason == KvmExitReason.Mmio)
        {
            // kvm_handle_mmio_return keys on the exit_reason in the run page, before immediate_exit (§2.14's rule).
            CompleteMmio(vcpu, ctx);
        }

        if (vcpu.Run.ImmediateExit)
        {
            return Errno.EINTR;
        }

        vcpu.Run.ExitReason = KvmExitReason.Unknown;
        var clock = vm.Context.Clock;
        clock.BeginSlice();
        if (vcpu.IsWaiting && VcpuBlock.Wait(vcpu) is KvmResult stillWaiting)
        {
            return stillWaiting;
        }

        while (true)
        {
            if (vcpu.IsPoweredOff)
            {
                // A stopped vCPU sleeps in the kernel until CPU_ON; single-threaded, that wait is a signal (FIDELITY.md).
                return VcpuBlock.Interrupted(vcpu);
            }

            if (vcpu.NormalSeaPending)
            {
                ctx.PendingException = RealmFault.SynchronousExternalAbort;
                vcpu.NormalSeaPending = false;
            }

            LoadListRegisters(vcpu, ctx);
            LoadTimers(ctx, clock.Now);
            (ulong now, ulong pending) = (clock.Now, clock.PendingInstructions);
            RealmEvent ev = engine.Run(ctx, vm.Stage2!);
            vcpu.ContextAhead = true;
            bool progressed = clock.Now != now || clock.PendingInstructions != pending;
            SyncAfterExit(vcpu, ctx);
            KvmResult? done = vm.Context.Platform.Trace.Sink is null ? Handle(vcpu, ctx, ev, progressed) : TracedHandle(vcpu, ctx, ev, progressed, now);
            if (done is KvmResult result)
            {
                return result;
            }
        }
    }

    /// <summary>
    /// The engine context of the vCPU, brought up to date with the register file: created on the first run; after
    /// INIT or CPU_ON its system registers are reset (kvm_reset_vcpu); after SET_ONE_REG the core registers reload.
    /// </summary>
    internal static RealmVcpuContext PrepareContext(KvmVcpu vcpu)
    {
        RealmVcpuContext ctx = vcpu.Context ??= new RealmVcpuContext();
        bool modified = false;
        if (vcpu.ResetPending)
        {
            var fresh = new RealmVcpuContext
            {
                SctlrEl1 = SctlrEl1Reset,
                MpidrEl1 = vcpu.Mpidr | MpidrRes1,
                CntvOff = vcpu.Vm.CounterOffset,
            };
            fresh.Gic.NumListRegisters = Math.Clamp(vcpu.Vm.Context.Options.GicListRegisters, 1, GicCpuInterfaceState.MaxListRegisters);
            ctx.CopyFrom(fresh);
            vcpu.ResetPending = false;
            vcpu.Timers = default;
        }

        if (vcpu.RegistersDirty)
        {
            vcpu.Registers.ExportCore(ctx);
            vcpu.RegistersDirty = false;
            modified = true;
        }

        if (modified)
        {
            ctx.MarkModified();
        }

        return ctx;
    }

    /// <summary>GET/SET_ONE_REG: the register file takes the engine's state back (engine.Flush first) if the vCPU ran since.</summary>
    internal static void SyncRegisterFile(KvmVcpu vcpu)
    {
        if (!vcpu.ContextAhead || vcpu.Context is not RealmVcpuContext ctx)
        {
            return;
        }

        vcpu.Vm.Context.Engine?.Flush(ctx);
        vcpu.Registers.ImportCore(ctx);
        vcpu.ContextAhead = false;
    }

    /// <summary>vgic_flush_lr_state: the vCPU's deliverable interrupts into ICH_LR&lt;n&gt;, with ICH_HCR_EL2.En.</summary>
    private static void LoadListRegisters(KvmVcpu vcpu, RealmVcpuContext ctx)
    {
        if (vcpu.Vm.Irqchip is { IsInitialized: true } gic)
        {
            ctx.Gic.Hcr = gic.FlushToListRegisters(vcpu.Index, ctx.Gic.Lrs, ctx.Gic.NumListRegisters) | IchHcr.En;
        }
    }

    /// <summary>
    /// kvm_timer_vcpu_load: a timer whose line is high keeps its host PPI from interrupting the guest again — left
    /// active (kvm_timer_vcpu_load_gic, phys_active when irq.level) or disabled (kvm_timer_vcpu_load_nogic) — until the
    /// level drops; the guest sees it only through the vGIC. Without this a timer whose PPI the guest never enabled
    /// would stop the vCPU at every entry.
    /// </summary>
    private static void LoadTimers(RealmVcpuContext ctx, ulong now)
    {
        VcpuTimers timers = VcpuTimers.From(ctx);
        ctx.CntvSignalMasked = timers.VirtualLevel(now);
        ctx.CntpSignalMasked = timers.PhysicalLevel(now);
    }

    /// <summary>vgic_sync_hwstate and kvm_timer_sync_user: LRs and VMCR back into the vGIC, timer lines from CNT{V,P}_CTL.</summary>
    private static void SyncAfterExit(KvmVcpu vcpu, RealmVcpuContext ctx)
    {
        vcpu.Timers = VcpuTimers.From(ctx);
        if (vcpu.Vm.Irqchip is not { IsInitialized: true } gic)
        {
            return;
        }

        gic.SyncFromListRegisters(vcpu.Index, ctx.Gic.Lrs, ctx.Gic.NumListRegisters);
        gic.SetVmcr(vcpu.Index, ctx.Gic.Vmcr);
        gic.SetTimerLevel(vcpu.Index, TimerPpi.Virtual, TimerPpi.IsAsserted(ctx.CntvCtl));
        gic.SetTimerLevel(vcpu.Index, TimerPpi.Physical, TimerPpi.IsAsserted(ctx.CntpCtl));
    }

    /// <summary>
    /// <see cref="Handle"/> with tracing on: the guest exit as KVM's kvm_exit tracepoint shows it (the syndrome, FAR,
    /// IPA and PC), and, for an SMC or HVC, the SMCCC/PSCI call KVM answered in the kernel (kvm_hvc_arm64's view: fid,
    /// x1..x3 and the result in x0; a call forwarded to the VMM is the VMM's to show).
    /// </summary>
    private static KvmResult? TracedHandle(KvmVcpu vcpu, RealmVcpuContext ctx, RealmEvent ev, bool progressed, ulong start)
    {
        TracePort trace = vcpu.Vm.Context.Platform.Trace;
        int index = TraceEvent.VcpuOf(ctx.MpidrEl1);
        trace.Sink?.Record(new TraceEvent
        {
            Kind = TraceEventKind.GuestExit,
            Vcpu = index,
            Time = start,
            Duration = trace.Clock.Now - start,
            Function = (ulong)ev.Kind,
            Esr = ev.Syndrome,
            Far = ev.Va,
            Ipa = ev.Ipa,
            Pc = ctx.Pc,
        });
        bool call = ev.Kind is RealmEventKind.Smc or RealmEventKind.Hvc;
        (ulong fid, ulong x1, ulong x2, ulong x3) = (ctx.X[0], ctx.X[1], ctx.X[2], ctx.X[3]);
        KvmResult? done = Handle(vcpu, ctx, ev, progressed);
        if (call && vcpu.Run.ExitReason != KvmExitReason.Hypercall)
        {
            trace.Sink?.Record(new TraceEvent
            {
                Kind = TraceEventKind.PsciCall,
                Vcpu = index,
                Time = trace.Clock.Now,
                Function = fid,
                Arg1 = x1,
                Arg2 = x2,
                Arg3 = x3,
                Result = ctx.X[0],
            });
        }

        return done;
    }

    /// <summary>handle_exit: null to re-enter, else what KVM_RUN returns.</summary>
    private static KvmResult? Handle(KvmVcpu vcpu, RealmVcpuContext ctx, RealmEvent ev, bool progressed)
    {
        switch (ev.Kind)
        {
            case RealmEventKind.DataAbort:
                return HandleDataAbort(vcpu, ctx, ev);
            case RealmEventKind.InstructionAbort:
                // kvm_inject_pabt: a fetch outside memslots takes an external abort.
                ctx.PendingException = RealmFault.SynchronousExternalAbort;
                return null;
            case RealmEventKind.Smc:
                // handle_smc: an SMC with a non-zero immediate is reserved (SMCCC §2.9) and answers -1.
                if ((ev.Syndrome & 0xFFFF) != 0)
                {
                    ctx.X[0] = ulong.MaxValue;
                    return null;
                }

                return NormalPsci.Handle(vcpu, ctx, smc: true);
            case RealmEventKind.Hvc:
                return NormalPsci.Handle(vcpu, ctx, smc: false);
            case RealmEventKind.SysRegAccess:
                return HandleSysReg(vcpu, ctx, ev);
            case RealmEventKind.Wfi:
            case RealmEventKind.Wfe:
                return VcpuBlock.Wait(vcpu);
            case RealmEventKind.Irq:
            case RealmEventKind.Fiq:
                return Interrupt(vcpu, progressed);
            default:
                // An SError from the guest (or an event kind KVM does not know): kvm_handle_exit's "unsupported".
                vcpu.Run.SetInternalError(0);
                vcpu.Run.ExitReason = KvmExitReason.InternalError;
                return KvmResult.Success;
        }
    }

    /// <summary>
    /// The host took an interrupt: the scheduler's tick at the end of the time slice ends KVM_RUN as a signal would
    /// (-EINTR, KVM_EXIT_INTR); a timer interrupt is already in the vGIC, so the vCPU re-enters. An interrupt with no
    /// guest progress at all since the entry is treated as the host's own (there is nothing a re-entry would change).
    /// </summary>
    internal static KvmResult? Interrupt(KvmVcpu vcpu, bool progressed) =>
        vcpu.Vm.Context.Clock.SliceExpired || !progressed ? VcpuBlock.Interrupted(vcpu) : null;

    /// <summary>
    /// kvm_handle_guest_abort / io_mem_abort: beyond the IPA size an external abort; a page that is mapped after all
    /// is simply retried; otherwise MMIO — without a valid syndrome KVM_EXIT_ARM_NISV if the VMM asked for it, else
    /// -ENOSYS; the in-kernel vGIC completes at once; anything else exits with KVM_EXIT_MMIO.
    /// </summary>
    private static KvmResult? HandleDataAbort(KvmVcpu vcpu, RealmVcpuContext ctx, RealmEvent ev)
    {
        Stage2Page page = vcpu.Vm.Stage2!.Lookup(ev.Ipa);
        if (page.Kind == Stage2PageKind.OutOfRange)
        {
            ctx.PendingException = RealmFault.SynchronousExternalAbort;
            return null;
        }

        if (page.Kind == Stage2PageKind.Mapped && (!ev.IsWrite || page.Writable))
        {
            return null;
        }

        if (!ev.IsValidSyndrome)
        {
            if (vcpu.Vm.NisvToUser)
            {
                vcpu.Run.SetArmNisv(ev.Syndrome & NisvIssMask, ev.Ipa);
                vcpu.Run.ExitReason = KvmExitReason.ArmNisv;
                return KvmResult.Success;
            }

            return Errno.ENOSYS;
        }

        int size = ev.AccessSize;
        int rt = ev.Register;
        ulong data = ev.IsWrite && rt != 31 ? ctx.X[rt] & SizeMask(size) : 0;
        vcpu.MmioIsRead = !ev.IsWrite;
        vcpu.MmioLength = size;
        vcpu.MmioLoad = (rt, ev.SignExtend, ev.SixtyFourBitRegister);
        vcpu.MmioNeeded = true;
        vcpu.Run.SetMmio(ev.Ipa, size, ev.IsWrite, data);
        if (vcpu.Vm.Irqchip is { IsInitialized: true } gic && gic.TryHandleMmio(vcpu.Index, ev.Ipa, ev.IsWrite, size, ref data))
        {
            BinaryPrimitives.WriteUInt64LittleEndian(vcpu.Run.MmioData, data);
            CompleteMmio(vcpu, ctx);
            return null;
        }

        vcpu.Run.ExitReason = KvmExitReason.Mmio;
        return KvmResult.Success;
    }

    /// <summary>
    /// kvm_handle_mmio_return, once per MMIO exit: a load takes kvm_run.mmio.data (its size, sign-extended per SSE,
    /// cut to 32 bits without SF) into Rt; load or store, the PC moves past the access.
    /// </summary>
    private static void CompleteMmio(KvmVcpu vcpu, RealmVcpuContext ctx)
    {
        if (!vcpu.MmioNeeded)
        {
            return;
        }

        vcpu.MmioNeeded = false;
        if (vcpu.MmioIsRead)
        {
            int size = vcpu.MmioLength;
            ulong data = BinaryPrimitives.ReadUInt64LittleEndian(vcpu.Run.MmioData) & SizeMask(size);
            (int rt, bool signExtend, bool sixtyFour) = vcpu.MmioLoad;
            if (signExtend && size < 8)
            {
                ulong sign = 1UL << ((size * 8) - 1);
                data = (data ^ sign) - sign;
            }

            if (!sixtyFour)
            {
                data &= 0xFFFF_FFFF;
            }

            if (rt != 31)
            {
                ctx.X[rt] = data;
            }
        }

        ctx.Pc += InstructionSize;
    }

    /// <summary>
    /// kvm_handle_sys_reg for what the engine traps: a write of ICC_SGI1R_EL1, ICC_ASGI1R_EL1 or ICC_SGI0R_EL1 is
    /// vgic_v3_dispatch_sgi, then the PC moves past it; a read of these write-only registers, or anything else, is
    /// UNDEFINED (kvm_inject_undefined).
    /// </summary>
    private static KvmResult? HandleSysReg(KvmVcpu vcpu, RealmVcpuContext ctx, RealmEvent ev)
    {
        ulong iss = ev.Syndrome & 0x1FF_FFFF;
        int rt = (int)((iss >> 5) & 0x1F);
        if (!IsSgiRegisterWrite(iss))
        {
            ctx.PendingException = RealmFault.Undefined;
            return null;
        }

        if (vcpu.Vm.Irqchip is { IsInitialized: true } gic)
        {
            gic.DispatchSgi(vcpu.Index, rt == 31 ? 0 : ctx.X[rt]);
        }

        ctx.Pc += InstructionSize;
        return null;
    }

    /// <summary>ISS of EC 0x18 (Op0[21:20] Op2[19:17] Op1[16:14] CRn[13:10] Rt[9:5] CRm[4:1] Direction[0]): an MSR to an SGI register.</summary>
    internal static bool IsSgiRegisterWrite(ulong iss)
    {
        ulong op0 = (iss >> 20) & 3;
        ulong op2 = (iss >> 17) & 7;
        ulong op1 = (iss >> 14) & 7;
        ulong crn = (iss >> 10) & 0xF;
        ulong crm = (iss >> 1) & 0xF;
        bool read = (iss & 1) != 0;
        return !read && op0 == 3 && crn == 12 && crm == 11 && (op1, op2) is (0, 5) or (1, 6) or (2, 7);
    }

    private static ulong SizeMask(int size) => size >= 8 ? ulong.MaxValue : (1UL << (8 * size)) - 1;
}
