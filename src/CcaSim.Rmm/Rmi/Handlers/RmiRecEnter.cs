using System.Buffers.Binary;
using CcaSim.Platform.Execution;
using CcaSim.Platform.Monitor;
using CcaSim.Platform.Tracing;
using CcaSim.Rmm.Realms;
using CcaSim.Rmm.Recs;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rsi;
using CcaSim.Rmm.Rtt;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    /// <summary>
    /// RMI_REC_ENTER (§3.10), ACS order: run_align/bound/pas → INPUT; rec_* → INPUT; REC running → ERROR_REC;
    /// realm NEW → ERROR_REALM(0); SYSTEM_OFF → ERROR_REALM(1); not runnable, PSCI pending, invalid GIC state,
    /// INJECT_SEA or EMUL_MMIO without a matching exit → ERROR_REC. Then the REC runs on the engine until an
    /// event that the RMM turns into an exit, written to the exit half of run_ptr.
    /// </summary>
    private ulong RmiRecEnter(in SmcRegisters a)
    {
        ulong recPa = a[1];
        ulong runPa = a[2];
        if (!IsNsGranule(runPa))
        {
            return ErrorInput;
        }

        Rec? rec = FindRec(recPa);
        if (rec is null)
        {
            return ErrorInput;
        }

        if (rec.State == RecState.Running)
        {
            return ErrorRec;
        }

        ReadOnlySpan<byte> run = ReadNs(runPa);
        ulong flags = U64(run, RecRunLayout.EnterFlags);
        Realm realm = rec.Realm;
        if (realm.State == RealmState.New)
        {
            return ErrorRealm(0);
        }

        if (realm.State == RealmState.SystemOff)
        {
            return ErrorRealm(1);
        }

        if (!rec.Runnable || rec.PendingPsci is not null || !IsValidGicState(run))
        {
            return ErrorRec;
        }

        if ((flags & RecRunLayout.EnterFlagInjectSea) != 0 && !rec.LastExitWasUnprotectedAbort)
        {
            return ErrorRec;
        }

        if ((flags & RecRunLayout.EnterFlagEmulMmio) != 0 && !rec.LastExitWasEmulatableAbort)
        {
            return ErrorRec;
        }

        // Entry step 1 (§3.10): the host's list registers and HCR bits become the REC's virtual CPU interface,
        // which the engine works on directly; MISR is recomputed by the run.
        GicCpuInterfaceState gic = rec.Context.Gic;
        gic.Hcr = GicMaintenance.HcrOnEntry(gic.Hcr, U64(run, RecRunLayout.EnterGicv3Hcr));
        for (int i = 0; i < GicCpuInterfaceState.MaxListRegisters; i++)
        {
            gic.Lrs[i] = i < Config.Features.Gicv3NumLrs ? U64(run, RecRunLayout.EnterGicv3Lrs + (8 * i)) : 0;
        }

        gic.Misr = 0;

        // Entry steps 2-6 (§3.10): deliver what the host answered, complete what the realm's last call left
        // pending, then run.
        RealmStage2 stage2 = Stage2Of(realm);
        if ((flags & RecRunLayout.EnterFlagInjectSea) != 0)
        {
            rec.Context.PendingException = RealmFault.SynchronousExternalAbort;
        }
        else if ((flags & RecRunLayout.EnterFlagEmulMmio) != 0)
        {
            CompleteMmio(rec, U64(run, RecRunLayout.EnterGprs));
        }

        if (rec.PendingIncomplete)
        {
            rec.PendingIncomplete = false;
            Complete(rec, Rsi.RsiStatus.Incomplete, 0);
        }

        CompleteRipasChange(rec, flags);
        rec.LastExitWasEmulatableAbort = false;
        rec.LastExitWasUnprotectedAbort = false;
        ulong entered = _trace.Clock.Now;
        if (!CompleteHostCall(rec, stage2, run))
        {
            RunUntilExit(rec, stage2, flags);
        }

        if (_trace.Sink is not null)
        {
            TraceRecRun(rec, entered);
        }

        return WriteExit(runPa, rec) ? Success : ErrorInput;
    }

    /// <summary>
    /// The REC's run from entry to exit, as the RMM reports it to the host (§4.3 RmiRecExit): the exit reason, ESR and
    /// FAR as rec_exit carries them and the IPA HPFAR names (with FAR's page offset, which the RMM reports only for an
    /// emulatable abort), and the PC where the REC stopped.
    /// </summary>
    private void TraceRecRun(Rec rec, ulong entered)
    {
        RecExit exit = rec.Exit;
        _trace.Sink?.Record(new TraceEvent
        {
            Kind = TraceEventKind.RecRun,
            Vcpu = TraceEvent.VcpuOf(rec.Context.MpidrEl1),
            Time = entered,
            Duration = _trace.Clock.Now - entered,
            Function = (ulong)exit.Reason,
            Esr = exit.Esr,
            Far = exit.Far,
            Ipa = exit.Hpfar == 0 ? 0 : ((exit.Hpfar >> 4) << 12) | (exit.Far & 0xFFF),
            Pc = rec.Context.Pc,
        });
    }

    /// <summary>
    /// Zeroes the exit half of RmiRecRun, then fills the reason and the state every exit carries. The run granule
    /// was NS at entry, but the host (on another PE) may have delegated it while the REC ran: the write is an NS
    /// access, so it must fail rather than land in a Realm granule; the command then returns ERROR_INPUT (§3.10).
    /// </summary>
    private bool WriteExit(ulong runPa, Rec rec)
    {
        if (!IsNsGranule(runPa))
        {
            return false;
        }

        Span<byte> exit = stackalloc byte[RecRunLayout.Size - RecRunLayout.Exit];
        exit.Clear();
        RecExit e = rec.Exit;
        exit[RecRunLayout.ExitReason - RecRunLayout.Exit] = (byte)e.Reason;
        Put(exit, RecRunLayout.ExitEsr, e.Esr);
        Put(exit, RecRunLayout.ExitFar, e.Far);
        Put(exit, RecRunLayout.ExitHpfar, e.Hpfar);
        for (int i = 0; i < RecRunLayout.NumGprs; i++)
        {
            Put(exit, RecRunLayout.ExitGprs + (8 * i), e.Gprs[i]);
        }

        Put(exit, RecRunLayout.ExitRipasBase, e.RipasBase);
        Put(exit, RecRunLayout.ExitRipasTop, e.RipasTop);
        exit[RecRunLayout.ExitRipasValue - RecRunLayout.Exit] = e.RipasValue;
        Put(exit, RecRunLayout.ExitImm, e.Imm);

        // Every exit reports the realm's timers and PMU overflow so the host can emulate their interrupts (§4.3).
        Put(exit, RecRunLayout.ExitCntpCtl, rec.Context.CntpCtl);
        Put(exit, RecRunLayout.ExitCntpCval, rec.Context.CntpCval);
        Put(exit, RecRunLayout.ExitCntvCtl, rec.Context.CntvCtl);
        Put(exit, RecRunLayout.ExitCntvCval, rec.Context.CntvCval);
        Put(exit, RecRunLayout.ExitPmuOvfStatus, rec.Context.PmuOverflowActive ? 1UL : 0);

        // The virtual CPU interface as the run left it (TF-RMM gic_copy_state_to_rec_exit). The engine keeps
        // ICH_MISR_EL2 current while it runs; a run that did not (or no run at all) gets it derived here.
        GicCpuInterfaceState gic = rec.Context.Gic;
        if (gic.Misr == 0)
        {
            gic.Misr = GicMaintenance.Misr(gic);
        }

        Put(exit, RecRunLayout.ExitGicv3Hcr, GicMaintenance.HcrOnExit(gic.Hcr));
        for (int i = 0; i < Config.Features.Gicv3NumLrs; i++)
        {
            Put(exit, RecRunLayout.ExitGicv3Lrs + (8 * i), gic.Lrs[i]);
        }

        Put(exit, RecRunLayout.ExitGicv3Misr, gic.Misr);
        Put(exit, RecRunLayout.ExitGicv3Vmcr, gic.Vmcr);

        _memory.Write(runPa + RecRunLayout.Exit, exit);
        return true;
    }

    private static void Put(Span<byte> exit, int runOffset, ulong value) =>
        BinaryPrimitives.WriteUInt64LittleEndian(exit[(runOffset - RecRunLayout.Exit)..], value);


    /// <summary>
    /// Runs the REC on the engine until an event the host must see (§5.7), as TF-RMM's handle_realm_exit does.
    /// Realm calls the RMM can answer are handled here and the realm resumes; so are aborts that become an SEA
    /// and HVC (UNDEF). Every event kind ends in an exit or a re-run: none is left unhandled.
    /// </summary>
    private void RunUntilExit(Rec rec, RealmStage2 stage2, ulong enterFlags)
    {
        RealmCallFastPath fastPath = new(this, rec, stage2);
        while (true)
        {
            if (CheckPendingTimers(rec.Context))
            {
                // A timer's output changed since the REC last stopped (it fired while the host ran): the host must
                // see the new level in rec_exit before the realm runs, as TF-RMM's rec_run_loop exits with IRQ.
                rec.Exit.Reset(RecExitReason.Irq);
                return;
            }

            rec.State = RecState.Running;
            RealmEvent ev;
            try
            {
                ev = Engine.Run(rec.Context, stage2, fastPath);
            }
            finally
            {
                rec.State = RecState.Ready;
            }

            bool exits;
            switch (ev.Kind)
            {
                case RealmEventKind.Smc:
                    // The engine reports the PC past the SMC; a trapped SMC's ELR_EL2 is the SMC itself, which is
                    // where TF-RMM's handlers start from: they advance it when the call completes and leave it so
                    // that a call the host must help with (a stage-2 fault on its buffer) runs again.
                    rec.Context.Pc -= SmcInstructionSize;
                    exits = HandleRealmSmc(rec, stage2);
                    break;
                case RealmEventKind.Irq:
                    // The timer fields every exit carries are read from the context, which the engine keeps current.
                    rec.Exit.Reset(RecExitReason.Irq);
                    exits = true;
                    break;
                case RealmEventKind.Fiq:
                    rec.Exit.Reset(RecExitReason.Fiq);
                    exits = true;
                    break;
                case RealmEventKind.SError:
                    rec.Exit.Reset(RecExitReason.SError);
                    exits = true;
                    break;
                case RealmEventKind.DataAbort:
                    exits = HandleDataAbort(rec, stage2, ev);
                    break;
                case RealmEventKind.InstructionAbort:
                    exits = HandleInstructionAbort(rec, stage2, ev);
                    break;
                case RealmEventKind.SysRegAccess:
                    exits = HandleSysRegAccess(rec, ev);
                    break;
                case RealmEventKind.Wfi:
                case RealmEventKind.Wfe:
                    HandleWfx(rec, ev.Kind, enterFlags);
                    exits = true;
                    break;
                case RealmEventKind.Hvc:
                    // §5.7: realms may not call a hypervisor. TF-RMM's realm_inject_undef_abort takes ELR_EL1 from
                    // ELR_EL2, which for HVC is already past the instruction: the PC stays where the engine left it.
                    rec.Context.PendingException = RealmFault.Undefined;
                    exits = false;
                    break;
                default:
                    // TF-RMM reports a synchronous exception it does not recognise with esr, far and hpfar zero.
                    rec.Exit.Reset(RecExitReason.Sync);
                    exits = true;
                    break;
            }

            if (exits)
            {
                return;
            }
        }
    }

    /// <summary>
    /// TF-RMM's check_pending_timers, run before every entry into the realm: a timer whose output asserts has its
    /// signal masked at EL2 (CNTHCTL_EL2.CNTVMASK / CNTPMASK) so that the same assertion does not interrupt the realm
    /// again and again when the host has not put its PPI in a list register (the guest never enabled it, say); a
    /// timer that does not assert is unmasked, so its next assertion exits to the host. True when a timer's output
    /// differs from what it was when the realm last stopped (the context's CNTx_CTL, whose ISTATUS the engine brought
    /// up to date then). The guest-visible CNTx_CTL_EL0 is untouched.
    /// </summary>
    private bool CheckPendingTimers(RealmVcpuContext ctx)
    {
        ulong now = _trace.Clock.Now;
        // ISTATUS is live on the PE, so the output is derived from the counter, not from the context's copy.
        bool virtualNow = TimerControl.Output(ctx.CntvCtl, ctx.CntvCval, now - ctx.CntvOff);
        bool physicalNow = TimerControl.Output(ctx.CntpCtl, ctx.CntpCval, now);
        ctx.CntvSignalMasked = virtualNow;
        ctx.CntpSignalMasked = physicalNow;
        bool changed = virtualNow != TimerControl.IsAsserted(ctx.CntvCtl) || physicalNow != TimerControl.IsAsserted(ctx.CntpCtl);

        // rec_exit reports CNTx_CTL_EL0 as the PE reads it now (TF-RMM report_timer_state_to_ns), ISTATUS included.
        ctx.CntvCtl = TimerControl.WithStatus(ctx.CntvCtl, ctx.CntvCval, now - ctx.CntvOff);
        ctx.CntpCtl = TimerControl.WithStatus(ctx.CntpCtl, ctx.CntpCval, now);
        return changed;
    }


    /// <summary>
    /// The realm calls answered from registers (and the RTT, read-only) that always complete without an exit: the
    /// engine may answer them inside the run instead of returning an Smc event (IRealmSmcFastPath). They go through
    /// the same handler as the event path, so the results are the same. RSI_REALM_CONFIG is not one: its buffer's
    /// stage-2 fault exits to the host.
    /// </summary>
    private sealed class RealmCallFastPath(RealmManagementMonitor rmm, Rec rec, RealmStage2 stage2) : IRealmSmcFastPath
    {
        public bool Handles(ulong x0) => ((uint)x0 & ~SmcSveHint) switch
        {
            (uint)RsiFunctionId.RsiVersion or (uint)RsiFunctionId.RsiFeatures or (uint)RsiFunctionId.RsiMeasurementRead
                or (uint)RsiFunctionId.RsiMeasurementExtend or (uint)RsiFunctionId.RsiIpaStateGet => true,
            _ => false,
        };

        public void Answer(RealmVcpuContext context)
        {
            // The handlers start from ELR_EL2 = the SMC and advance it when the call completes, as on the event path.
            ulong pc = context.Pc;
            context.Pc = 0;
            bool exits = rmm.HandleRealmSmc(rec, stage2, inline: true);
            if (exits || context.Pc != SmcInstructionSize)
            {
                throw new InvalidOperationException($"realm call 0x{context.X[0]:x} taken inline did not complete");
            }

            context.Pc = pc;
        }
    }

    private const ulong EsrEcMask = 0x3FUL << 26;
    private const ulong EsrEcWfx = 0x01UL << 26;
    private const ulong EsrEcSysReg = 0x18UL << 26;
    private const ulong EsrEcInstructionAbort = 0x20UL << 26;
    private const ulong EsrIl = 1UL << 25;
    private const ulong EsrIsv = 1UL << 24;
    private const ulong EsrSas = 0x3UL << 22;
    private const ulong EsrSse = 1UL << 21;
    private const ulong EsrSf = 1UL << 15;
    private const ulong EsrSet = 0x3UL << 11;
    private const ulong EsrFnv = 1UL << 10;
    private const ulong EsrEa = 1UL << 9;
    private const ulong EsrWnr = 1UL << 6;
    private const ulong EsrFsc = 0x3F;
    private const ulong EsrWfxTi = 1;

    /// <summary>
    /// ESR fields a host sees for an abort it cannot emulate (TF-RMM ESR_NONEMULATED_ABORT_MASK): EC, SET, FnV, EA,
    /// FSC. IL, ISV and the access description stay inside the RMM.
    /// </summary>
    private const ulong EsrNonEmulatedAbortMask = EsrEcMask | EsrSet | EsrFnv | EsrEa | EsrFsc;

    /// <summary>
    /// ESR fields a host sees for an emulatable abort (TF-RMM ESR_EMULATED_ABORT_MASK, §5.7): the above plus ISV,
    /// SAS, SF and WnR. SRT, SSE and AR are not reported: the host passes the value through gprs[0] and the RMM
    /// itself completes the access with the syndrome it kept.
    /// </summary>
    private const ulong EsrEmulatedAbortMask = EsrNonEmulatedAbortMask | EsrIsv | EsrSas | EsrSf | EsrWnr;

    /// <summary>
    /// A data access stage 2 did not map (§5.4, §5.7; TF-RMM handle_data_abort). Outside the IPA space or at a
    /// RIPAS EMPTY page the realm takes a synchronous external abort and runs on. Otherwise the REC exits SYNC with
    /// HPFAR and the fault status at the level the RTT walk stopped: at a protected IPA with the non-emulatable
    /// syndrome and FAR 0; at an unprotected IPA with the emulatable syndrome, the page offset in FAR and, for a
    /// write with ISV, the value in gprs[0]. Returns true when the REC exits.
    /// </summary>
    private static bool HandleDataAbort(Rec rec, RealmStage2 stage2, RealmEvent ev)
    {
        Stage2Access access = stage2.Translate(ev.Ipa, out _, out int level);
        if (access is Stage2Access.OutOfRange or Stage2Access.Empty)
        {
            rec.Context.PendingException = RealmFault.SynchronousExternalAbort;
            return false;
        }

        ulong esr = WithWalkLevel(DataAbortSyndrome(ev), level);
        rec.Exit.Reset(RecExitReason.Sync);
        rec.Exit.Hpfar = (ev.Ipa >> 8) & ~0xFUL;
        if (rec.Realm.IsProtected(ev.Ipa))
        {
            rec.Exit.Esr = esr & EsrNonEmulatedAbortMask;
            return true;
        }

        bool isv = (esr & EsrIsv) != 0;
        rec.Exit.Esr = esr & EsrEmulatedAbortMask;
        rec.Exit.Far = ev.Ipa & (Platform.Memory.PhysicalMemory.GranuleSize - 1);
        int srt = (int)((esr >> 16) & 0x1F);
        if (isv && (esr & EsrWnr) != 0 && srt != 31)
        {
            rec.Exit.Gprs[0] = rec.Context.X[srt] & SizeMask(1 << (int)((esr & EsrSas) >> 22));
        }

        rec.LastAbort = ev with { Syndrome = esr };
        rec.LastExitWasEmulatableAbort = isv;
        rec.LastExitWasUnprotectedAbort = true;
        return true;
    }

    /// <summary>
    /// The full data-abort ESR of <paramref name="ev"/>. An engine that decodes instructions supplies it; one that
    /// only describes the access (size, register, direction) gets the syndrome of a single-register load/store
    /// (ISV, SAS, SRT, SF for 8-byte accesses, WnR) with a level-3 translation fault.
    /// </summary>
    private static ulong DataAbortSyndrome(RealmEvent ev)
    {
        if (ev.Syndrome != 0)
        {
            return ev.Syndrome;
        }

        ulong sas = (ulong)System.Numerics.BitOperations.Log2((uint)Math.Max(ev.AccessSize, 1));
        return EsrEcDataAbort | EsrIl | EsrIsv | (sas << 22) | ((ulong)(ev.Register & 0x1F) << 16)
            | (ev.AccessSize == 8 ? EsrSf : 0) | (ev.IsWrite ? EsrWnr : 0) | (EsrFscTranslation + 3);
    }

    /// <summary>
    /// A translation fault is reported at the level where the realm's stage 2 ends (the RTT walk), which only the
    /// RMM knows; other fault codes pass unchanged.
    /// </summary>
    private static ulong WithWalkLevel(ulong esr, int level)
    {
        const ulong FscTypeMask = 0x3C;
        return (esr & FscTypeMask) == EsrFscTranslation ? (esr & ~EsrFsc) | (EsrFscTranslation + (ulong)Math.Max(level, 0)) : esr;
    }

    /// <summary>
    /// Entry step 3 (§3.10; TF-RMM emulate_mmio_read): an emulated MMIO read gets entry.gprs[0] masked to the
    /// access size and, for a sign-extending load, sign-extended (to 64 bits, or to 32 with the upper half clear for
    /// a W register); a load into XZR discards it. Reads and writes then move past the access.
    /// </summary>
    private static void CompleteMmio(Rec rec, ulong value)
    {
        ulong esr = rec.LastAbort.Syndrome;
        int srt = (int)((esr >> 16) & 0x1F);
        if ((esr & EsrWnr) == 0 && srt != 31)
        {
            int size = 1 << (int)((esr & EsrSas) >> 22);
            ulong v = value & SizeMask(size);
            if ((esr & EsrSse) != 0)
            {
                ulong sign = 1UL << ((8 * size) - 1);
                v = (v ^ sign) - sign;
                if ((esr & EsrSf) == 0)
                {
                    v &= uint.MaxValue;
                }
            }

            rec.Context.X[srt] = v;
        }

        rec.Context.Pc += SmcInstructionSize;
    }

    private static ulong SizeMask(int size) => size >= 8 ? ulong.MaxValue : (1UL << (8 * size)) - 1;

    /// <summary>
    /// An instruction fetch stage 2 did not map (§5.4, §5.7; TF-RMM handle_instruction_abort). Outside the IPA
    /// space, at an unprotected IPA or at a RIPAS EMPTY page the realm takes a synchronous external abort. A
    /// protected page that is not mapped exits SYNC with the non-emulatable syndrome (EC 0x20, IFSC at the walk
    /// level), HPFAR and FAR 0; the fetch is retried on the next entry.
    /// </summary>
    private static bool HandleInstructionAbort(Rec rec, RealmStage2 stage2, RealmEvent ev)
    {
        Stage2Access access = stage2.Translate(ev.Ipa, out _, out int level);
        if (access is Stage2Access.OutOfRange or Stage2Access.Empty || !rec.Realm.IsProtected(ev.Ipa))
        {
            rec.Context.PendingException = RealmFault.SynchronousExternalAbort;
            return false;
        }

        ulong esr = ev.Syndrome != 0 ? ev.Syndrome : EsrEcInstructionAbort | EsrIl | (EsrFscTranslation + 3);
        rec.Exit.Reset(RecExitReason.Sync);
        rec.Exit.Esr = WithWalkLevel(esr, level) & EsrNonEmulatedAbortMask;
        rec.Exit.Hpfar = (ev.Ipa >> 8) & ~0xFUL;
        return true;
    }

    /// <summary>
    /// A trapped system-register access (TF-RMM handle_sysreg_access_trap): the engine traps only the GIC SGI
    /// generation registers (ICC_SGI1R/ASGI1R/SGI0R_EL1), whose writes the host's vGIC must see. The REC exits SYNC
    /// with the whole EC 0x18 syndrome and the written value in gprs[0]; as in TF-RMM the PC is advanced before the
    /// exit, so the next entry does not execute the write again. A read (not trapped by the engine, but harmless
    /// here) reads as zero without an exit, as TF-RMM treats accesses it does not handle.
    /// </summary>
    private static bool HandleSysRegAccess(Rec rec, RealmEvent ev)
    {
        const ulong IssMask = 0x1FF_FFFF;
        ulong iss = ev.Syndrome & IssMask;
        bool read = (iss & 1) != 0;
        int rt = (int)((iss >> 5) & 0x1F);
        rec.Context.Pc += SmcInstructionSize;
        if (read)
        {
            if (rt != 31)
            {
                rec.Context.X[rt] = 0;
            }

            return false;
        }

        rec.Exit.Reset(RecExitReason.Sync);
        rec.Exit.Esr = EsrEcSysReg | EsrIl | iss;
        rec.Exit.Gprs[0] = rt == 31 ? 0 : rec.Context.X[rt];
        return true;
    }

    /// <summary>
    /// WFI/WFE (§5.7). The engine reports one only when no virtual interrupt can wake the vCPU, with the PC already
    /// past it. Trapped (entry flags TRAP_WFI/TRAP_WFE): a SYNC exit whose ESR is EC and TI only (TF-RMM masks the
    /// rest). Not trapped: the PE would sleep until a physical interrupt, which is the host's to take — an IRQ exit.
    /// </summary>
    private static void HandleWfx(Rec rec, RealmEventKind kind, ulong enterFlags)
    {
        bool wfe = kind == RealmEventKind.Wfe;
        if ((enterFlags & (wfe ? RecRunLayout.EnterFlagTrapWfe : RecRunLayout.EnterFlagTrapWfi)) == 0)
        {
            rec.Exit.Reset(RecExitReason.Irq);
            return;
        }

        rec.Exit.Reset(RecExitReason.Sync);
        rec.Exit.Esr = EsrEcWfx | (wfe ? EsrWfxTi : 0);
    }

    /// <summary>
    /// rec_gicv3 (§3.10): HCR may set only the allowed bits; each implemented list register with a non-invalid
    /// state must be a virtual interrupt (HW = 0), keep the unimplemented priority bits and pINTID clear (except
    /// EOI, bit 41), carry a vINTID in 0..1019 or the LPI range, and no two valid LRs may name the same vINTID.
    /// </summary>
    private bool IsValidGicState(ReadOnlySpan<byte> run)
    {
        if ((U64(run, RecRunLayout.EnterGicv3Hcr) & ~GicMaintenance.HcrHostBits) != 0)
        {
            return false;
        }

        int lrs = Config.Features.Gicv3NumLrs;
        Span<uint> seen = stackalloc uint[RecRunLayout.NumLrs];
        int seenCount = 0;
        for (int i = 0; i < lrs; i++)
        {
            ulong lr = U64(run, RecRunLayout.EnterGicv3Lrs + (8 * i));
            if (lr >> 62 == 0)
            {
                continue;
            }

            const ulong Hw = 1UL << 61;
            const ulong PriorityRes0 = 0x7UL << 48;
            const ulong PintidExceptEoi = 0x1FFFUL << 32 & ~(1UL << 41);
            uint vintid = (uint)lr;
            bool validIntid = vintid <= 1019 || vintid is >= 8192 and <= 0xFFFF;
            if ((lr & (Hw | PriorityRes0 | PintidExceptEoi)) != 0 || !validIntid || seen[..seenCount].Contains(vintid))
            {
                return false;
            }

            seen[seenCount++] = vintid;
        }

        return true;
    }
}
