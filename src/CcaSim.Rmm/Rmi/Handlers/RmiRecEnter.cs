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

        // Entry steps 4 and 6 (§3.10): complete what the realm's last call left pending, then run.
        RealmStage2 stage2 = Stage2Of(realm);
        if (rec.PendingIncomplete)
        {
            rec.PendingIncomplete = false;
            Complete(rec, Rsi.RsiStatus.Incomplete, 0);
        }

        CompleteRipasChange(rec, flags);
        if (!CompleteHostCall(rec, stage2, run))
        {
            RunUntilExit(rec, stage2);
        }

        rec.LastExitWasEmulatableAbort = false;
        rec.LastExitWasUnprotectedAbort = false;
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
    private void RunUntilExit(Rec rec, RealmStage2 stage2)
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
                default:
                    // Stage-2 aborts, WFx and sysreg traps arrive with the CPU engine (FIDELITY.md).
                    throw new NotSupportedException($"realm event {ev.Kind} is not handled yet");
            }
        }
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
