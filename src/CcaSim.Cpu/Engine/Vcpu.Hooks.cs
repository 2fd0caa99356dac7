using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CcaSim.Cpu.Arch;
using CcaSim.Cpu.Unicorn;
using CcaSim.Platform.Execution;
using CcaSim.Platform.Tracing;

namespace CcaSim.Cpu.Engine;

/// <summary>The Unicorn callbacks: each catches everything, records it and stops the engine (never unwinds into C).</summary>
internal sealed unsafe partial class Vcpu
{
    private const ulong Il = 1UL << 25;
    private const ulong EcDataAbortLower = 0x24;
    private const ulong EcDataAbortSame = 0x25;
    private const ulong EcInstructionAbortLower = 0x20;
    private const ulong EcInstructionAbortSame = 0x21;
    private const ulong FscTranslationL3 = 0x07;
    private const ulong FscPermissionL3 = 0x0F;
    private const ulong FscExternalAbort = 0x10;

    private ulong _lastAbortVa;
    private bool _lastAbortWrite;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnInterrupt(nint uc, uint intno, nint user)
    {
        Vcpu vcpu = From(user);
        try
        {
            vcpu.Interrupt(intno);
        }
        catch (Exception failure)
        {
            vcpu.Fail(failure);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnBlock(nint uc, ulong address, uint size, nint user)
    {
        // user is the vCPU's BlockCounter; the native stub comes here only at or above BlockCounter.Limit.
        BlockCounter* counter = (BlockCounter*)user;
        Vcpu vcpu = From(counter->Owner);
        try
        {
            if (vcpu._trampolineRun)
            {
                // The ERET has landed: stop before the guest's first block runs (a BLOCK-hook stop is exact, G6).
                if (address != TrampolinePage)
                {
                    _ = Native.uc_emu_stop(uc);
                }

                return;
            }

            if (vcpu._gatePending && address == vcpu._gateVbar + 0x400)
            {
                vcpu.FinishGate();
            }

            if (counter->Executed >= vcpu._budget)
            {
                vcpu._deadlineStop = true;
                _ = Native.uc_emu_stop(uc);
                return;
            }

            counter->TbStart = address;
            counter->TbSize = size;
            counter->Executed += size / 4;
        }
        catch (Exception failure)
        {
            vcpu.Fail(failure);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static byte OnUnmapped(nint uc, int type, ulong address, int size, long value, nint user)
    {
        Vcpu vcpu = From(user);
        try
        {
            return vcpu.Unmapped(type, address, size) ? (byte)1 : (byte)0;
        }
        catch (Exception failure)
        {
            vcpu.Fail(failure);
            return 0;
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static uint OnMrs(nint uc, int rt, CpReg* cp, nint user)
    {
        Vcpu vcpu = From(user);
        try
        {
            return vcpu.Mrs(rt, cp) ? 1u : 0u;
        }
        catch (Exception failure)
        {
            vcpu.Fail(failure);
            return 0;
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static uint OnMsr(nint uc, int rt, CpReg* cp, nint user)
    {
        Vcpu vcpu = From(user);
        try
        {
            return vcpu.Msr(rt, cp) ? 1u : 0u;
        }
        catch (Exception failure)
        {
            vcpu.Fail(failure);
            return 0;
        }
    }

    // ---------------------------------------------------------------- INTR

    /// <summary>
    /// The owner answers the SMC inside the run (IRealmSmcFastPath): x0..x17 go to the context and the ones the
    /// answer changed come back. The context's X are rewritten from the engine at the end of the run anyway.
    /// </summary>
    private void AnswerInline(IRealmSmcFastPath fastPath)
    {
        const int count = IRealmSmcFastPath.Registers;
        Check(Native.uc_reg_read_batch(_uc, _gprIds, _gprPointers, count), "uc_reg_read_batch");
        AccountTime(); // the call happens now on the virtual time line, not at the end of the run
        ulong[] x = _ctx.X;
        for (int i = 0; i < count; i++)
        {
            x[i] = _gprValues[i];
        }

        fastPath.Answer(_ctx);
        for (int i = 0; i < count; i++)
        {
            if (x[i] != _gprValues[i])
            {
                WriteReg(Uc.XRegId(i), x[i]);
            }
        }
    }

    private void Interrupt(uint intno)
    {
        if (intno == Uc.ExcpSmc)
        {
            if (_fastPath is { } fastPath && !_gatePending && fastPath.Handles(ReadReg(Uc.XRegId(0))))
            {
                AnswerInline(fastPath);
                return; // no stop: the CPU goes on at the PC past the SMC
            }

            Stop(new RealmEvent(RealmEventKind.Smc)); // PC already past the SMC (§2)
            return;
        }

        ulong pc = ReadReg(Uc.RegPc);
        switch (intno)
        {
            case Uc.ExcpHvc:
                Stop(new RealmEvent(RealmEventKind.Hvc, Syndrome: Immediate16(pc - 4)));
                return;
            case Uc.ExcpSwi:
                Deliver((0x15UL << 26) | Il | Immediate16(pc - 4), 0, false, pc); // ELR: the next instruction
                return;
            case Uc.ExcpBkpt:
                Deliver((0x3CUL << 26) | Il | Immediate16(pc), 0, false, pc);
                return;
            case Uc.ExcpDataAbort:
            case Uc.ExcpPrefetchAbort:
            {
                // Stage-1 faults and alignment: syndrome and FAR exist only in the CPU state blob (§5, G12).
                (ulong esr, ulong far) = SavedException(intno);
                // A translation fault (DFSC/IFSC 0b0001xx) may only mean a table page is not mapped in this engine yet.
                if ((esr & 0x3C) == 0x04 && (ReadSys(3, 0, 1, 0, 0) & 1) != 0 && MapStage1TablesFor(far))
                {
                    return; // PC is still the faulting instruction: it runs again with the tables in place
                }

                TraceGuestException(esr, far, pc);
                Deliver(esr, far, true, pc);
                // An abort whose vector faults again loops inside Unicorn without running a block, so the BLOCK hook
                // never sees the deadline: charge the guest's exception entry (not the engine's own trampoline or
                // §10 gate) and stop here at the deadline.
                if (!_trampolineRun && !_gatePending && (pc & PageMask) != TrampolinePage)
                {
                    _counter->Executed += VirtualClock.ExceptionEntryInstructions;
                }

                if (_counter->Executed >= _budget)
                {
                    _deadlineStop = true;
                    _ = Native.uc_emu_stop(_uc);
                }

                return;
            }

            default:
                // UDEF (unallocated, EL2/EL3 registers, unimplemented system registers) and anything else: EC 0.
                TraceGuestException(Il, 0, pc);
                Deliver(Il, 0, false, pc);
                return;
        }
    }

    /// <summary>An abort or UNDEF the engine delivers to the guest's own vector: the syndrome, FAR and the instruction that faulted.</summary>
    private void TraceGuestException(ulong esr, ulong far, ulong pc)
    {
        // The engine's own entry path (the ERET trampoline, the §10 gate) is not the guest's fault.
        if (_trace?.Sink is not { } sink || _trampolineRun || _gatePending || (pc & PageMask) == TrampolinePage)
        {
            return;
        }

        AccountTime();
        uint word = 0;
        bool hasWord = TryReadCode(pc, new Span<uint>(ref word));
        sink.Record(new TraceEvent
        {
            Kind = TraceEventKind.GuestException,
            Vcpu = TraceEvent.VcpuOf(_ctx.MpidrEl1),
            Time = _clock.Now,
            Esr = esr,
            Far = far,
            Pc = pc,
            Instruction = word,
            HasInstruction = hasWord,
        });
    }

    private ulong Immediate16(ulong address) => (ReadWord(address) >> 5) & 0xFFFF;

    private (ulong Esr, ulong Far) SavedException(uint intno)
    {
        int offset = SyndromeCalibration.Offset;
        if (offset >= 0)
        {
            Check(Native.uc_context_save(_uc, _savedContext), "uc_context_save");
            byte* blob = (byte*)_savedContext;
            return (*(uint*)(blob + offset), *(ulong*)(blob + offset + 8));
        }

        // Fallback without a calibrated blob: the right class, an unknown fault status, no address.
        bool lower = ((ReadReg(Uc.RegPstate) >> 2) & 3) == 0;
        ulong ec = intno == Uc.ExcpDataAbort
            ? (lower ? EcDataAbortLower : EcDataAbortSame)
            : (lower ? EcInstructionAbortLower : EcInstructionAbortSame);
        return ((ec << 26) | Il, 0);
    }

    private void Stop(RealmEvent realmEvent)
    {
        _event = realmEvent;
        _hasEvent = true;
        _ = Native.uc_emu_stop(_uc);
    }

    // ---------------------------------------------------------------- exception delivery

    /// <summary>Takes a synchronous exception to EL1 at the guest's VBAR_EL1; PC must be the preferred return address.</summary>
    private void Deliver(ulong esr, ulong far, bool hasFar, ulong elr)
    {
        ulong pstate = ReadReg(Uc.RegPstate);
        WriteReg(Uc.RegEsrEl1, esr);
        if (hasFar)
        {
            WriteReg(Uc.RegFarEl1, far);
        }

        if (((pstate >> 2) & 3) == 0)
        {
            OpenGate(pstate);
            return;
        }

        // Same-EL entry emulated by the host (§5): ELR/SPSR, EL1h with DAIF masked, SP_EL1, the vector.
        WriteReg(Uc.RegElrEl1, elr);
        WriteSys(3, 0, 4, 0, 0, pstate);
        ulong vbar = ReadReg(Uc.RegVbarEl1);
        ulong entered = (pstate & 0xF000_0000) | 0x3C5;
        if ((pstate & 1) == 0)
        {
            // From EL1t: the live SP is SP_EL0; bank it and bring SP_EL1 in (the vector for SP_EL0 is +0x000).
            ulong spEl0 = ReadReg(Uc.RegSp);
            ulong spEl1 = ReadReg(Uc.RegSpEl1);
            WriteReg(Uc.RegSpEl0, spEl0);
            WriteReg(Uc.RegPstate, entered);
            WriteReg(Uc.RegSp, spEl1);
            WriteReg(Uc.RegPc, vbar);
        }
        else
        {
            WriteReg(Uc.RegPstate, entered);
            WriteReg(Uc.RegPc, vbar + 0x200);
        }
    }

    /// <summary>
    /// The §10 vIRQ gate for exceptions from EL0: aim VBAR 0x80 low so the CPU's own lower-EL IRQ entry (+0x480)
    /// lands on the synchronous vector (+0x400), doing the EL switch, SP banking and flags Unicorn's API cannot.
    /// The BLOCK hook restores VBAR, HCR_EL2 and (if PSTATE.I had to be cleared) SPSR_EL1 before the handler runs.
    /// </summary>
    private void OpenGate(ulong pstate)
    {
        ulong vbar = ReadReg(Uc.RegVbarEl1);
        _gateSpsrFix = (pstate & 0x80) != 0;
        if (_gateSpsrFix)
        {
            _gateSpsr = pstate;
            WriteReg(Uc.RegPstate, pstate & ~0x80UL);
        }

        _gateVbar = vbar;
        _gatePending = true;
        RefreshBlockLimit();
        WriteReg(Uc.RegVbarEl1, vbar - 0x80);
        WriteSys(3, 4, 1, 1, 0, _hcr | HcrVi);
    }

    private void FinishGate()
    {
        _gatePending = false;
        RefreshBlockLimit();
        WriteReg(Uc.RegVbarEl1, _gateVbar);
        WriteSys(3, 4, 1, 1, 0, _hcr);
        if (_gateSpsrFix)
        {
            WriteSys(3, 0, 4, 0, 0, _gateSpsr);
        }
    }

    private void DeliverPending(RealmFault fault)
    {
        bool lower = ((_pstate >> 2) & 3) == 0;
        ulong pc = _ctx.Pc;
        switch (fault)
        {
            case RealmFault.SynchronousExternalAbort when _lastAbort == LastAbort.Data:
                Deliver(((lower ? EcDataAbortLower : EcDataAbortSame) << 26) | Il | (_lastAbortWrite ? 1UL << 6 : 0) | FscExternalAbort,
                    _lastAbortVa, true, pc);
                break;
            case RealmFault.SynchronousExternalAbort when _lastAbort == LastAbort.Instruction:
                Deliver(((lower ? EcInstructionAbortLower : EcInstructionAbortSame) << 26) | Il | FscExternalAbort, _lastAbortVa, true, pc);
                break;
            case RealmFault.SynchronousExternalAbort:
                // No abort outstanding: an SEA on the instruction at PC (RealmFault contract).
                Deliver(((lower ? EcInstructionAbortLower : EcInstructionAbortSame) << 26) | Il | FscExternalAbort, pc, true, pc);
                break;
            case RealmFault.Undefined:
                // EC 0 with ELR at the PC as the event left it (TF-RMM injects UNDEF for HVC this way).
                Deliver(Il, 0, false, pc);
                break;
        }
    }

    // ---------------------------------------------------------------- stage-2 faults

    private bool Unmapped(int type, ulong address, int size)
    {
        if (type is Uc.MemReadUnmapped or Uc.MemWriteUnmapped or Uc.MemFetchUnmapped && Memory is not null)
        {
            ulong page = address & PageMask;
            Stage2Page stage2 = Memory!.Lookup(page);
            if (stage2.Kind == Stage2PageKind.Mapped && stage2.Host != 0 && !_mapped.Contains(page))
            {
                uint perms = Uc.ProtRead | (stage2.Writable ? Uc.ProtWrite : 0) | (stage2.Executable ? Uc.ProtExec : 0);
                Check(Native.uc_mem_map_ptr(_uc, page, (nuint)PageSize, perms, (void*)stage2.Host), "uc_mem_map_ptr");
                _mapped.Add(page);
                return true; // the access completes as if the page had always been there (§4)
            }
        }

        if (_trampolineRun)
        {
            return false;
        }

        _faultPending = true;
        _faultType = type;
        _faultAddress = address;
        _faultSize = size;
        if (type is not (Uc.MemFetchUnmapped or Uc.MemFetchProt))
        {
            // Inside the hook the registers are those right before the faulting access (measured, G8); only PC
            // is stale (the TB start). Keep them: the state after uc_emu_start returns is repaired from this.
            Check(Native.uc_reg_read_batch(_uc, _gprIds, _gprPointers, GprCount), "uc_reg_read_batch");
            for (int i = 0; i < 31; i++)
            {
                _faultRegisters[i] = _gprValues[i];
            }

            _faultRegisters[31] = ReadReg(Uc.RegSp);
            _faultRegisters[32] = ReadReg(Uc.RegNzcv);
        }

        return false;
    }

    private RealmEvent ResolveFault()
    {
        bool mmuOn = (ReadSys(3, 0, 1, 0, 0) & 1) != 0;
        ulong fsc = _faultType is Uc.MemReadProt or Uc.MemWriteProt or Uc.MemFetchProt ? FscPermissionL3 : FscTranslationL3;
        if (_faultType is Uc.MemFetchUnmapped or Uc.MemFetchProt)
        {
            // The fetch faults while translating the block, before any of it runs: PC is the fetch address.
            ulong va = mmuOn ? ReadReg(Uc.RegPc) : _faultAddress;
            WriteReg(Uc.RegPc, va);
            _lastAbort = LastAbort.Instruction;
            _lastAbortVa = va;
            return new RealmEvent(RealmEventKind.InstructionAbort, _faultAddress, Syndrome: (EcInstructionAbortLower << 26) | Il | fsc, Va: va);
        }

        bool isWrite = _faultType is Uc.MemWriteUnmapped or Uc.MemWriteProt;
        for (int i = 0; i < 31; i++)
        {
            _gprValues[i] = _faultRegisters[i];
        }

        _gprValues[31] = ReadReg(Uc.RegPc);
        Check(Native.uc_reg_write_batch(_uc, _gprIds, _gprPointers, GprCount), "uc_reg_write_batch");
        WriteReg(Uc.RegSp, _faultRegisters[31]);
        WriteReg(Uc.RegNzcv, _faultRegisters[32]);

        FaultLocator.Result found = FaultLocator.Locate(this, _counter->TbStart, _counter->TbSize, _faultAddress, _faultSize, isWrite, mmuOn, _faultRegisters);
        WriteReg(Uc.RegPc, found.Pc);
        _lastAbort = LastAbort.Data;
        _lastAbortVa = found.Va;
        _lastAbortWrite = isWrite;
        ulong iss = found.Found ? A64Decoder.DataAbortIss(found.Access) : (isWrite ? 1UL << 6 : 0);
        return new RealmEvent(
            RealmEventKind.DataAbort,
            _faultAddress,
            found.Found ? found.Access.Size : _faultSize,
            isWrite,
            found.Found ? found.Access.Rt : 0,
            (EcDataAbortLower << 26) | Il | iss | fsc,
            found.Va);
    }

    internal bool TryReadCode(ulong address, Span<uint> words)
    {
        fixed (uint* buffer = words)
        {
            return Native.uc_mem_read(_uc, address, buffer, (nuint)(words.Length * 4)) == UcErr.Ok;
        }
    }

    // ---------------------------------------------------------------- system registers

    private bool Mrs(int rt, CpReg* cp)
    {
        SysReg reg = new((int)cp->Op0, (int)cp->Op1, (int)cp->CRn, (int)cp->CRm, (int)cp->Op2);
        ulong value;
        if (reg == SysReg.MPIDR_EL1)
        {
            WriteTarget(rt, _ctx.MpidrEl1);
            return true;
        }

        if (reg.Op0 == 3 && reg.Op1 == 3 && reg.CRn == 14)
        {
            AccountTime();
            if (GenericTimer.TryRead(_ctx, _clock, reg, out value))
            {
                // Timer registers exist in Unicorn (but never fire, G16): skipping the access needs no PC fix.
                WriteTarget(rt, value);
                return true;
            }
        }

        if (GicCpuInterface.TryRead(_ctx, reg, out value))
        {
            // ICC_* do not exist in Unicorn: returning 1 alone would loop forever (G9), so step over it.
            WriteTarget(rt, value);
            WriteReg(Uc.RegPc, ReadReg(Uc.RegPc) + 4);
            if (!_gatePending)
            {
                UpdateVirtualIrq(); // an IAR1 read acknowledges: VI follows the list registers
            }

            // An acknowledge that returned an INTID (not 1020..1023, the special ones) is the interrupt taken.
            if (value < 1020 && (reg == SysReg.ICC_IAR1_EL1 || reg == SysReg.ICC_IAR0_EL1) && _trace?.Sink is { } sink)
            {
                AccountTime();
                sink.Record(new TraceEvent { Kind = TraceEventKind.InterruptAcknowledged, Vcpu = TraceEvent.VcpuOf(_ctx.MpidrEl1), Time = _clock.Now, Intid = (uint)value, Pc = ReadReg(Uc.RegPc) - 4 });
            }

            return true;
        }

        return false;
    }

    private bool Msr(int rt, CpReg* cp)
    {
        SysReg reg = new((int)cp->Op0, (int)cp->Op1, (int)cp->CRn, (int)cp->CRm, (int)cp->Op2);
        if (reg.Op0 == 3 && reg.Op1 == 3 && reg.CRn == 14)
        {
            AccountTime();
            if (GenericTimer.TryWrite(_ctx, _clock, reg, cp->Value))
            {
                ComputeBudget(); // a newly armed timer may bring the deadline closer
                return true;
            }
        }

        switch (GicCpuInterface.Write(_ctx, reg, cp->Value))
        {
            case SysRegWrite.Done:
                WriteReg(Uc.RegPc, ReadReg(Uc.RegPc) + 4);
                if (!_gatePending)
                {
                    UpdateVirtualIrq();
                }

                return true;
            case SysRegWrite.TrapToOwner:
            {
                int index = Uc.XIndex(rt);
                ulong iss = ((ulong)reg.Op0 << 20) | ((ulong)reg.Op2 << 17) | ((ulong)reg.Op1 << 14) | ((ulong)reg.CRn << 10)
                    | ((ulong)(index & 31) << 5) | ((ulong)reg.CRm << 1);
                // Rewriting PC (unchanged) makes the stop exact at the MSR (G6: an INSN-hook stop needs a PC write).
                WriteReg(Uc.RegPc, ReadReg(Uc.RegPc));
                Stop(new RealmEvent(RealmEventKind.SysRegAccess, Register: index & 31, Syndrome: (0x18UL << 26) | Il | iss));
                return true;
            }

            default:
                return false;
        }
    }

    private void WriteTarget(int rt, ulong value)
    {
        if (rt != Uc.RegXzr)
        {
            WriteReg(rt, value);
        }
    }
}
