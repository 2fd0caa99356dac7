using System.Buffers.Binary;
using CcaSim.Platform.Execution;
using CcaSim.Platform.Monitor;
using CcaSim.Rmm.Realms;
using CcaSim.Rmm.Recs;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rtt;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    /// <summary>ICH_HCR_EL2 bits a host may set: UIE, LRENPIE, NPIE, VGrp0EIE, VGrp0DIE, VGrp1EIE, VGrp1DIE, TDIR.</summary>
    private const ulong Gicv3HcrAllowed = 0xFE | (1UL << 14);

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

        rec.Gicv3Hcr = U64(run, RecRunLayout.EnterGicv3Hcr);
        for (int i = 0; i < RecRunLayout.NumLrs; i++)
        {
            rec.Gicv3Lrs[i] = i < Config.Features.Gicv3NumLrs ? U64(run, RecRunLayout.EnterGicv3Lrs + (8 * i)) : 0;
        }

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
        if (!CompleteHostCall(rec, stage2, run))
        {
            RunUntilExit(rec, stage2, flags);
        }

        return WriteExit(runPa, rec) ? Success : ErrorInput;
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
        BinaryPrimitives.WriteUInt64LittleEndian(exit[(RecRunLayout.ExitGicv3Hcr - RecRunLayout.Exit)..], rec.Gicv3Hcr);
        for (int i = 0; i < RecRunLayout.NumLrs; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(exit[(RecRunLayout.ExitGicv3Lrs - RecRunLayout.Exit + (8 * i))..], rec.Gicv3Lrs[i]);
        }

        _memory.Write(runPa + RecRunLayout.Exit, exit);
        return true;
    }

    private static void Put(Span<byte> exit, int runOffset, ulong value) =>
        BinaryPrimitives.WriteUInt64LittleEndian(exit[(runOffset - RecRunLayout.Exit)..], value);

    /// <summary>
    /// Runs the REC on the engine until an event the host must see (§5.7). Realm calls the RMM can answer are
    /// handled here and the realm resumes; interrupts end the run with an IRQ/FIQ/SError exit.
    /// </summary>
    private void RunUntilExit(Rec rec, RealmStage2 stage2, ulong enterFlags)
    {
        while (true)
        {
            rec.State = RecState.Running;
            RealmEvent ev;
            try
            {
                ev = Engine.Run(rec.Context, stage2);
            }
            finally
            {
                rec.State = RecState.Ready;
            }

            switch (ev.Kind)
            {
                case RealmEventKind.Smc:
                    if (HandleRealmSmc(rec, stage2))
                    {
                        return;
                    }

                    break;
                case RealmEventKind.Irq:
                    rec.Exit.Reset(RecExitReason.Irq);
                    return;
                case RealmEventKind.Fiq:
                    rec.Exit.Reset(RecExitReason.Fiq);
                    return;
                case RealmEventKind.SError:
                    rec.Exit.Reset(RecExitReason.SError);
                    return;
                case RealmEventKind.DataAbort:
                    if (HandleDataAbort(rec, stage2, ev))
                    {
                        return;
                    }

                    break;
                case RealmEventKind.Wfi:
                case RealmEventKind.Wfe:
                    if (HandleWfx(rec, ev.Kind, enterFlags))
                    {
                        return;
                    }

                    break;
                case RealmEventKind.Hvc:
                    // §5.7: realms may not call a hypervisor; the HVC is undefined.
                    rec.Context.PendingException = RealmFault.Undefined;
                    break;
                default:
                    // Trapped system-register accesses arrive with the CPU engine (FIDELITY.md).
                    throw new NotSupportedException($"realm event {ev.Kind} is not handled yet");
            }
        }
    }

    private const ulong EsrEcWfx = 0x01UL << 26;
    private const ulong EsrIl = 1UL << 25;
    private const ulong EsrIsv = 1UL << 24;
    private const ulong EsrWnr = 1UL << 6;

    /// <summary>
    /// A data access stage 2 did not map (§5.4, §5.7). Outside the IPA space or at a RIPAS EMPTY page the realm
    /// takes a synchronous external abort. An unprotected IPA is an emulatable abort: the exit carries ISV, SAS,
    /// SRT, WnR, the page offset in FAR, the IPA page in HPFAR and, for a write, the value in gprs[0]. A protected
    /// IPA that is not mapped exits with the fault only (no ISV, FAR 0). Returns true when the REC exits.
    /// </summary>
    private static bool HandleDataAbort(Rec rec, RealmStage2 stage2, RealmEvent ev)
    {
        Stage2Access access = stage2.Translate(ev.Ipa, out _, out int level);
        if (access is Stage2Access.OutOfRange or Stage2Access.Empty)
        {
            rec.Context.PendingException = RealmFault.SynchronousExternalAbort;
            return false;
        }

        ulong fault = EsrEcDataAbort | EsrIl | (EsrFscTranslation + (ulong)Math.Max(level, 0)) | (ev.IsWrite ? EsrWnr : 0);
        rec.Exit.Reset(RecExitReason.Sync);
        rec.Exit.Hpfar = (ev.Ipa >> 8) & ~0xFUL;
        if (rec.Realm.IsProtected(ev.Ipa))
        {
            rec.Exit.Esr = fault;
            return true;
        }

        ulong sas = (ulong)System.Numerics.BitOperations.Log2((uint)ev.AccessSize);
        rec.Exit.Esr = fault | EsrIsv | (sas << 22) | ((ulong)ev.Register << 16);
        rec.Exit.Far = ev.Ipa & (Platform.Memory.PhysicalMemory.GranuleSize - 1);
        if (ev.IsWrite)
        {
            rec.Exit.Gprs[0] = ev.Register == 31 ? 0 : rec.Context.X[ev.Register] & SizeMask(ev.AccessSize);
        }

        rec.LastAbort = ev;
        rec.LastExitWasEmulatableAbort = true;
        rec.LastExitWasUnprotectedAbort = true;
        return true;
    }

    /// <summary>Entry step 3 (§3.10): an emulated MMIO read gets entry.gprs[0] (masked to the access size); reads and writes move past the access.</summary>
    private static void CompleteMmio(Rec rec, ulong value)
    {
        RealmEvent access = rec.LastAbort;
        if (!access.IsWrite && access.Register != 31)
        {
            rec.Context.X[access.Register] = value & SizeMask(access.AccessSize);
        }

        rec.Context.Pc += SmcInstructionSize;
    }

    private static ulong SizeMask(int size) => size >= 8 ? ulong.MaxValue : (1UL << (8 * size)) - 1;

    /// <summary>
    /// WFI/WFE (§5.7): trapped when the host asked (entry flags TRAP_WFI/TRAP_WFE) — a SYNC exit with the WFx
    /// syndrome (TI set for WFE) and the PC past it; otherwise it completes at once, as a wait may.
    /// </summary>
    private static bool HandleWfx(Rec rec, RealmEventKind kind, ulong enterFlags)
    {
        bool wfe = kind == RealmEventKind.Wfe;
        rec.Context.Pc += SmcInstructionSize;
        if ((enterFlags & (wfe ? RecRunLayout.EnterFlagTrapWfe : RecRunLayout.EnterFlagTrapWfi)) == 0)
        {
            return false;
        }

        rec.Exit.Reset(RecExitReason.Sync);
        rec.Exit.Esr = EsrEcWfx | EsrIl | (wfe ? 1UL : 0);
        return true;
    }

    /// <summary>
    /// rec_gicv3 (§3.10): HCR may set only the allowed bits; each implemented list register with a non-invalid
    /// state must be a virtual interrupt (HW = 0), keep the unimplemented priority bits and pINTID clear (except
    /// EOI, bit 41), carry a vINTID in 0..1019 or the LPI range, and no two valid LRs may name the same vINTID.
    /// </summary>
    private bool IsValidGicState(ReadOnlySpan<byte> run)
    {
        if ((U64(run, RecRunLayout.EnterGicv3Hcr) & ~Gicv3HcrAllowed) != 0)
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
