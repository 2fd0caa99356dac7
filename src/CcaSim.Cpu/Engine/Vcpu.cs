using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CcaSim.Cpu.Arch;
using CcaSim.Cpu.Unicorn;
using CcaSim.Platform.Execution;
using CcaSim.Platform.Tracing;

namespace CcaSim.Cpu.Engine;

/// <summary>One vCPU on one uc engine: state exchange with its context, the hooks, exception delivery.</summary>
internal sealed unsafe partial class Vcpu : IDisposable
{
    /// <summary>
    /// IPA of the host page holding the ERET trampoline (§1/G4): the top page of a 48-bit IPA space, which no
    /// guest of this platform uses (RAM at 0x8000_0000, devices below 1 GiB).
    /// </summary>
    internal const ulong TrampolinePage = 0x0000_FFFF_FFFF_F000;

    private const ulong PageSize = 4096;
    private const ulong PageMask = ~(PageSize - 1);
    private const uint EretInstruction = 0xD69F03E0;
    private const ulong HcrVi = 1UL << 7;

    // HCR_EL2 = RW|IMO|FMO and SCR_EL3 = NS|HCE|RW (G4): EL1 is non-secure AArch64, HVC is legal and the
    // virtual IRQ path of §6 works.
    private const ulong HcrInit = (1UL << 31) | (1UL << 4) | (1UL << 3);
    private const ulong ScrInit = 0x501;

    private const int GprCount = 32; // x0..x30 and PC, exchanged on every run
    private const int StoreCount = GprCount + 1; // and PSTATE, read back in the same batch

    private readonly RealmVcpuContext _ctx;
    private readonly VirtualClock _clock;
    private readonly HashSet<ulong> _mapped = [];
    private readonly int* _gprIds;
    private readonly ulong* _gprValues;
    private readonly void** _gprPointers;
    private GCHandle _self;
    private nint _uc;
    private nint _savedContext;
    private bool _disposed;

    private ulong _loadedGeneration;
    private bool _loadedOnce;
    private ulong _pstate;
    private ulong _hcr = HcrInit;

    private bool _hasEvent;
    private IRealmSmcFastPath? _fastPath;
    private RealmEvent _event;
    private Exception? _callbackError;

    private bool _faultPending;
    private int _faultType;
    private ulong _faultAddress;
    private int _faultSize;
    private readonly ulong[] _faultRegisters = new ulong[33]; // x0..x30, SP, NZCV at the faulting instruction

    // The BLOCK hook's state (executed count, last TB, limit) lives in unmanaged memory for the native stub.
    private readonly BlockCounter* _counter;
    private readonly bool _nativeCounter;
    private readonly TracePort? _trace;

    private ulong _accounted;
    private ulong _budget = ulong.MaxValue;
    private bool _deadlineStop;
    private bool _trampolineRun;

    private bool _gatePending;
    private ulong _gateVbar;
    private ulong _gateSpsr;
    private bool _gateSpsrFix;

    private LastAbort _lastAbort;

    public Vcpu(RealmVcpuContext context, VirtualClock clock, bool nativeCounter = true, TracePort? trace = null)
    {
        _ctx = context;
        _clock = clock;
        _nativeCounter = nativeCounter;
        _trace = trace;
        _counter = (BlockCounter*)NativeMemory.AllocZeroed((nuint)sizeof(BlockCounter));
        _counter->Limit = ulong.MaxValue;
        _gprIds = (int*)NativeMemory.Alloc(StoreCount, sizeof(int));
        _gprValues = (ulong*)NativeMemory.AllocZeroed(StoreCount, sizeof(ulong));
        _gprPointers = (void**)NativeMemory.Alloc(StoreCount, (nuint)sizeof(void*));
        for (int i = 0; i < 31; i++)
        {
            _gprIds[i] = Uc.XRegId(i);
        }

        _gprIds[31] = Uc.RegPc;
        _gprIds[32] = Uc.RegPstate;
        for (int i = 0; i < StoreCount; i++)
        {
            _gprPointers[i] = _gprValues + i;
        }

        _self = GCHandle.Alloc(this);
        _counter->Owner = GCHandle.ToIntPtr(_self);
        _counter->Slow = (nint)(delegate* unmanaged[Cdecl]<nint, ulong, uint, nint, void>)&OnBlock;
        Open();
    }

    public IRealmMemory? Memory { get; private set; }

    public ulong Executed => _counter->Executed;

    private enum LastAbort : byte
    {
        None,
        Data,
        Instruction,
    }

    private void Open()
    {
        nint uc;
        Check(Native.uc_open(Uc.ArchArm64, Uc.ModeArm, &uc), "uc_open");
        _uc = uc;
        // The model must be chosen before anything else touches the engine; MAX has LSE atomics (§9).
        Check(Native.uc_ctl(_uc, Uc.CtlCpuModelWrite, Uc.CpuModelMax), "uc_ctl(CPU_MODEL)");
        WriteSys(3, 6, 1, 1, 0, ScrInit);
        WriteSys(3, 4, 1, 1, 0, HcrInit);
        _hcr = HcrInit;

        byte* page = stackalloc byte[4];
        *(uint*)page = EretInstruction;
        Check(Native.uc_mem_map(_uc, TrampolinePage, (nuint)PageSize, Uc.ProtRead | Uc.ProtExec), "uc_mem_map(trampoline)");
        Check(Native.uc_mem_write(_uc, TrampolinePage, page, 4), "uc_mem_write(trampoline)");

        nint saved;
        Check(Native.uc_context_alloc(_uc, &saved), "uc_context_alloc");
        _savedContext = saved;

        nint user = GCHandle.ToIntPtr(_self);
        nuint hook;
        Check(Native.uc_hook_add(_uc, &hook, Uc.HookIntr, (delegate* unmanaged[Cdecl]<nint, uint, nint, void>)&OnInterrupt, user, 1, 0), "hook INTR");
        nint stub = _nativeCounter ? BlockCounterStub.Entry : 0;
        void* block = stub != 0 ? (void*)stub : (void*)_counter->Slow;
        Check(Native.uc_hook_add(_uc, &hook, Uc.HookBlock, block, (nint)_counter, 1, 0), "hook BLOCK");
        Check(Native.uc_hook_add(_uc, &hook, Uc.HookMemUnmapped | Uc.HookMemProt, (delegate* unmanaged[Cdecl]<nint, int, ulong, int, long, nint, byte>)&OnUnmapped, user, 1, 0), "hook MEM_UNMAPPED");
        Check(Native.uc_hook_add_insn(_uc, &hook, Uc.HookInsn, (delegate* unmanaged[Cdecl]<nint, int, CpReg*, nint, uint>)&OnMrs, user, 1, 0, Uc.InsMrs), "hook MRS");
        Check(Native.uc_hook_add_insn(_uc, &hook, Uc.HookInsn, (delegate* unmanaged[Cdecl]<nint, int, CpReg*, nint, uint>)&OnMsr, user, 1, 0, Uc.InsMsr), "hook MSR");

        _pstate = ReadReg(Uc.RegPstate);
        _loadedOnce = false;
        _mapped.Clear();
    }

    private void Close()
    {
        if (_savedContext != 0)
        {
            _ = Native.uc_context_free(_savedContext);
            _savedContext = 0;
        }

        if (_uc != 0)
        {
            _ = Native.uc_close(_uc);
            _uc = 0;
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Close();
        _self.Free();
        NativeMemory.Free(_gprIds);
        NativeMemory.Free(_gprValues);
        NativeMemory.Free(_gprPointers);
        NativeMemory.Free(_counter);
    }

    // ---------------------------------------------------------------- run

    public RealmEvent Run(IRealmMemory memory, IRealmSmcFastPath? fastPath = null)
    {
        _fastPath = fastPath;
        if (!ReferenceEquals(Memory, memory))
        {
            UnmapAll();
            Memory = memory;
        }

        ulong startTime = _clock.Now;
        ulong startExecuted = _counter->Executed;
        LoadState();
        ulong pc = _ctx.Pc; // what LoadState wrote, unless an exception is delivered now
        bool pcKnown = _ctx.PendingException == RealmFault.None;
        if (_ctx.PendingException != RealmFault.None)
        {
            DeliverPending(_ctx.PendingException);
            _counter->Executed += VirtualClock.ExceptionEntryInstructions; // see ExceptionEntryInstructions: no livelock at one instant
            _ctx.PendingException = RealmFault.None;
        }

        _lastAbort = LastAbort.None;
        _hasEvent = false;
        RealmEvent result;
        while (true)
        {
            if (!_gatePending)
            {
                UpdateVirtualIrq();
            }

            AccountTime();
            if (_clock.SliceExpired)
            {
                result = new RealmEvent(RealmEventKind.Irq);
                break;
            }

            uint timerPpi = GenericTimer.FiringPpi(_ctx, _clock);
            if (timerPpi != 0)
            {
                TraceTimer(timerPpi);
                result = new RealmEvent(RealmEventKind.Irq);
                break;
            }

            ComputeBudget();
            if (!pcKnown)
            {
                pc = ReadReg(Uc.RegPc);
            }

            pcKnown = false;
            UcErr error = Native.uc_emu_start(_uc, pc, 0, 0, 0);
            if (_callbackError is { } failure)
            {
                _callbackError = null;
                StoreState();
                ExceptionDispatchInfoThrow(failure);
            }

            if (_gatePending && ReadReg(Uc.RegPc) == _gateVbar + 0x400)
            {
                FinishGate();
            }

            if (_faultPending)
            {
                _faultPending = false;
                result = ResolveFault();
                break;
            }

            if (_hasEvent)
            {
                result = _event;
                break;
            }

            if (error != UcErr.Ok)
            {
                StoreState();
                throw new InvalidOperationException($"uc_emu_start failed unexpectedly: {Native.ErrorText(error)} at PC 0x{ReadReg(Uc.RegPc):x}");
            }

            if (_deadlineStop)
            {
                _deadlineStop = false;
                continue; // the loop head decides: IRQ, or a timer whose interrupt is already in a list register
            }

            // uc_emu_start returned OK without a stop of ours: the guest executed WFI (§6), PC past it. WFE never
            // stops on 2.1.1 (it runs as a hint, which the architecture allows), so Wfe is reported only if a
            // library does stop there.
            RealmEventKind kind = ReadWord(ReadReg(Uc.RegPc) - 4) == 0xD503205F ? RealmEventKind.Wfe : RealmEventKind.Wfi;
            if (GicCpuInterface.VirtualIrqPending(_ctx))
            {
                continue; // a deliverable virtual interrupt: the wait completes at once
            }

            result = new RealmEvent(kind);
            break;
        }

        AccountTime();
        // CNTx_CTL.ISTATUS is live state on a PE; the owner reads the context's copy at the exit (KVM's timer line,
        // rec_exit.cntv_ctl), so it must reflect the counter now, not the one of the last MSR (the clock may have
        // moved on by execution or an idle skip since).
        GenericTimer.UpdateStatus(_ctx, _clock);
        StoreState();
        if (_trace?.Sink is not null)
        {
            TraceRun(result, startTime, startExecuted);
        }

        return result;
    }

    /// <summary>
    /// The run as a trace unit would show it: instructions retired (the BLOCK hook counts whole translation blocks),
    /// why it stopped and where; for a data abort the syndrome, the IPA and the instruction word at the PC, which
    /// stays on the access.
    /// </summary>
    private void TraceRun(RealmEvent result, ulong startTime, ulong startExecuted)
    {
        uint word = 0;
        bool hasWord = result.Kind == RealmEventKind.DataAbort && TryReadCode(_ctx.Pc, new Span<uint>(ref word));
        _trace!.Sink?.Record(new TraceEvent
        {
            Kind = TraceEventKind.EngineRun,
            Vcpu = TraceEvent.VcpuOf(_ctx.MpidrEl1),
            Time = startTime,
            Duration = _clock.Now - startTime,
            Instructions = _counter->Executed - startExecuted,
            Function = (ulong)result.Kind,
            Esr = result.Syndrome,
            Far = result.Va,
            Ipa = result.Ipa,
            Pc = _ctx.Pc,
            Instruction = word,
            HasInstruction = hasWord,
        });
    }

    /// <summary>The timer's condition is met and its interrupt is not in a list register: the PPI the PE asserts to the host.</summary>
    private void TraceTimer(uint ppi)
    {
        if (_trace?.Sink is { } sink)
        {
            sink.Record(new TraceEvent { Kind = TraceEventKind.TimerFired, Vcpu = TraceEvent.VcpuOf(_ctx.MpidrEl1), Time = _clock.Now, Intid = ppi });
        }
    }

    private static void ExceptionDispatchInfoThrow(Exception failure) =>
        System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();

    private void ComputeBudget()
    {
        ulong deadline = _clock.SliceEnd;
        ulong timer = GenericTimer.NextDeadline(_ctx);
        if (timer > _clock.Now && timer < deadline)
        {
            deadline = timer;
        }

        if (deadline == ulong.MaxValue)
        {
            _budget = ulong.MaxValue;
            RefreshBlockLimit();
            return;
        }

        ulong ticks = deadline - _clock.Now;
        ulong instructions = ticks >= ulong.MaxValue / VirtualClock.InstructionsPerTick
            ? ulong.MaxValue / 2
            : (ticks * VirtualClock.InstructionsPerTick) - _clock.PendingInstructions;
        _budget = _counter->Executed + instructions;
        RefreshBlockLimit();
    }

    /// <summary>
    /// The native counter handles a block on its own only when the managed callback would just count it: below the
    /// budget, and with no trampoline run or §10 gate that the managed callback watches for.
    /// </summary>
    private void RefreshBlockLimit() => _counter->Limit = _trampolineRun || _gatePending ? 0 : _budget;

    private void AccountTime()
    {
        ulong executed = _counter->Executed;
        if (executed != _accounted)
        {
            _clock.AddInstructions(executed - _accounted);
            _accounted = executed;
        }
    }

    private void UpdateVirtualIrq()
    {
        ulong hcr = GicCpuInterface.VirtualIrqPending(_ctx) ? _hcr | HcrVi : _hcr & ~HcrVi;
        if (hcr != _hcr)
        {
            _hcr = hcr;
            WriteSys(3, 4, 1, 1, 0, hcr);
        }
    }

    // ---------------------------------------------------------------- state exchange

    private void LoadState()
    {
        ulong target = _ctx.Pstate;
        bool reload = !_loadedOnce || _ctx.Generation != _loadedGeneration;
        bool elChange = ((target ^ _pstate) & 0xF) != 0;
        if (elChange && ((target >> 2) & 3) > ((_pstate >> 2) & 3))
        {
            // No API write raises the EL (§10 "(c)"): start over on a fresh engine, which begins at EL1h.
            Close();
            Open();
            reload = true;
        }

        if (reload)
        {
            LoadSystemRegisters();
        }

        for (int i = 0; i < 31; i++)
        {
            _gprValues[i] = _ctx.X[i];
        }

        _gprValues[31] = _ctx.Pc;
        Check(Native.uc_reg_write_batch(_uc, _gprIds, _gprPointers, GprCount), "uc_reg_write_batch");

        if (reload || elChange)
        {
            // PSTATE writes neither switch the EL nor rebuild the translator's flags (§1, G4); an ERET does both.
            EnterThroughTrampoline(target, reload);
            WriteStackPointers(_ctx.SpEl0, _ctx.SpEl1, target);
        }
        else if (target != _pstate)
        {
            WriteReg(Uc.RegPstate, target);
        }

        _pstate = target;
        if (reload)
        {
            _loadedGeneration = _ctx.Generation;
            _loadedOnce = true;
        }
    }

    private void EnterThroughTrampoline(ulong pstate, bool reloaded)
    {
        // The trampoline borrows ELR_EL1/SPSR_EL1; the guest's own values go back afterwards.
        ulong elr = reloaded ? _ctx.ElrEl1 : ReadReg(Uc.RegElrEl1);
        ulong spsr = reloaded ? _ctx.SpsrEl1 : ReadSys(3, 0, 4, 0, 0);
        WriteReg(Uc.RegElrEl1, _ctx.Pc);
        WriteSys(3, 0, 4, 0, 0, pstate);
        _trampolineRun = true;
        RefreshBlockLimit();
        _hasEvent = false;
        UcErr error = Native.uc_emu_start(_uc, TrampolinePage, 0, 0, 0);
        _trampolineRun = false;
        RefreshBlockLimit();
        _faultPending = false; // a fault at the target is met again (and reported) by the real run
        _hasEvent = false;
        if (_callbackError is { } failure)
        {
            _callbackError = null;
            ExceptionDispatchInfoThrow(failure);
        }

        ulong now = ReadReg(Uc.RegPstate);
        if (((now ^ pstate) & 0xF) != 0)
        {
            throw new InvalidOperationException($"ERET trampoline did not reach PSTATE 0x{pstate:x} (0x{now:x}, {error})");
        }

        WriteReg(Uc.RegElrEl1, elr);
        WriteSys(3, 0, 4, 0, 0, spsr);
        WriteReg(Uc.RegPc, _ctx.Pc);
        // The ERET left NZCV other than SPSR said (measured: Z set); with the EL now right a plain write is exact.
        WriteReg(Uc.RegPstate, pstate);
    }

    private void LoadSystemRegisters()
    {
        WriteReg(Uc.RegEsrEl1, _ctx.EsrEl1);
        WriteReg(Uc.RegFarEl1, _ctx.FarEl1);
        WriteReg(Uc.RegVbarEl1, _ctx.VbarEl1);
        WriteReg(Uc.RegTtbr0El1, _ctx.Ttbr0El1);
        WriteReg(Uc.RegTtbr1El1, _ctx.Ttbr1El1);
        WriteReg(Uc.RegMairEl1, _ctx.MairEl1);
        WriteReg(Uc.RegParEl1, _ctx.ParEl1);
        WriteReg(Uc.RegCpacrEl1, _ctx.CpacrEl1);
        WriteReg(Uc.RegTpidrEl0, _ctx.TpidrEl0);
        WriteReg(Uc.RegTpidrroEl0, _ctx.TpidrroEl0);
        WriteReg(Uc.RegTpidrEl1, _ctx.TpidrEl1);
        // A context that never set SCTLR_EL1 keeps the engine's reset value (its RES1 bits), MMU off.
        if (_ctx.SctlrEl1 != 0)
        {
            WriteSys(3, 0, 1, 0, 0, _ctx.SctlrEl1);
        }

        WriteSys(3, 0, 2, 0, 2, _ctx.TcrEl1);
        WriteSys(3, 0, 10, 3, 0, _ctx.AmairEl1);
        WriteSys(3, 0, 13, 0, 1, _ctx.ContextidrEl1);
        WriteSys(3, 0, 14, 1, 0, _ctx.CntkctlEl1);
        WriteReg(Uc.RegFpcr, _ctx.Fpcr);
        WriteReg(Uc.RegFpsr, _ctx.Fpsr);
        for (int i = 0; i < 32; i++)
        {
            UInt128 v = _ctx.V[i];
            Check(Native.uc_reg_write(_uc, Uc.RegV0 + i, &v), "uc_reg_write(V)");
        }
    }

    private void WriteStackPointers(ulong spEl0, ulong spEl1, ulong pstate)
    {
        // With SPSel = 1 the live SP is SP_EL1 and the banked copy holds SP_EL0, and the other way round.
        WriteReg(Uc.RegSpEl0, spEl0);
        WriteReg(Uc.RegSpEl1, spEl1);
        WriteReg(Uc.RegSp, (pstate & 1) != 0 ? spEl1 : spEl0);
    }

    private void StoreState()
    {
        Check(Native.uc_reg_read_batch(_uc, _gprIds, _gprPointers, StoreCount), "uc_reg_read_batch");
        for (int i = 0; i < 31; i++)
        {
            _ctx.X[i] = _gprValues[i];
        }

        _ctx.Pc = _gprValues[31];
        _pstate = _gprValues[32];
        _ctx.Pstate = _pstate;
    }

    public void Flush()
    {
        if (_uc == 0 || !_loadedOnce)
        {
            return;
        }

        ulong sp = ReadReg(Uc.RegSp);
        if ((_pstate & 1) != 0)
        {
            _ctx.SpEl1 = sp;
            _ctx.SpEl0 = ReadReg(Uc.RegSpEl0);
        }
        else
        {
            _ctx.SpEl0 = sp;
            _ctx.SpEl1 = ReadReg(Uc.RegSpEl1);
        }

        _ctx.ElrEl1 = ReadReg(Uc.RegElrEl1);
        _ctx.SpsrEl1 = ReadSys(3, 0, 4, 0, 0);
        _ctx.EsrEl1 = ReadReg(Uc.RegEsrEl1);
        _ctx.FarEl1 = ReadReg(Uc.RegFarEl1);
        _ctx.VbarEl1 = ReadReg(Uc.RegVbarEl1);
        _ctx.Ttbr0El1 = ReadReg(Uc.RegTtbr0El1);
        _ctx.Ttbr1El1 = ReadReg(Uc.RegTtbr1El1);
        _ctx.MairEl1 = ReadReg(Uc.RegMairEl1);
        _ctx.ParEl1 = ReadReg(Uc.RegParEl1);
        _ctx.CpacrEl1 = ReadReg(Uc.RegCpacrEl1);
        _ctx.TpidrEl0 = ReadReg(Uc.RegTpidrEl0);
        _ctx.TpidrroEl0 = ReadReg(Uc.RegTpidrroEl0);
        _ctx.TpidrEl1 = ReadReg(Uc.RegTpidrEl1);
        _ctx.SctlrEl1 = ReadSys(3, 0, 1, 0, 0);
        _ctx.TcrEl1 = ReadSys(3, 0, 2, 0, 2);
        _ctx.AmairEl1 = ReadSys(3, 0, 10, 3, 0);
        _ctx.ContextidrEl1 = ReadSys(3, 0, 13, 0, 1);
        _ctx.CntkctlEl1 = ReadSys(3, 0, 14, 1, 0);
        _ctx.Fpcr = ReadReg(Uc.RegFpcr);
        _ctx.Fpsr = ReadReg(Uc.RegFpsr);
        for (int i = 0; i < 32; i++)
        {
            UInt128 v;
            Check(Native.uc_reg_read(_uc, Uc.RegV0 + i, &v), "uc_reg_read(V)");
            _ctx.V[i] = v;
        }
    }

    // ---------------------------------------------------------------- stage 2

    public void Unmap(ulong ipa, ulong size)
    {
        if (_uc == 0 || size == 0)
        {
            return;
        }

        ulong first = ipa & PageMask;
        ulong end = ipa + size;
        bool any = false;
        if ((ulong)_mapped.Count <= (end - first) / PageSize)
        {
            foreach (ulong page in _mapped.Where(p => p >= first && p < end).Order().ToArray())
            {
                UnmapPage(page);
                any = true;
            }
        }
        else
        {
            for (ulong page = first; page < end; page += PageSize)
            {
                if (_mapped.Contains(page))
                {
                    UnmapPage(page);
                    any = true;
                }
            }
        }

        if (any)
        {
            // Translated code of those pages must go too (G14).
            _ = Native.uc_ctl(_uc, Uc.CtlTbRemoveCache, first, end);
        }
    }

    public void UnmapAll()
    {
        if (_uc == 0 || _mapped.Count == 0)
        {
            return;
        }

        foreach (ulong page in _mapped.Order().ToArray())
        {
            UnmapPage(page);
        }

        _ = Native.uc_ctl(_uc, Uc.CtlTbFlush, 0);
    }

    private void UnmapPage(ulong page)
    {
        Check(Native.uc_mem_unmap(_uc, page, (nuint)PageSize), "uc_mem_unmap");
        _mapped.Remove(page);
    }

    // ---------------------------------------------------------------- register helpers

    internal ulong ReadReg(int id)
    {
        ulong value = 0;
        Check(Native.uc_reg_read(_uc, id, &value), "uc_reg_read");
        return value;
    }

    internal void WriteReg(int id, ulong value) => Check(Native.uc_reg_write(_uc, id, &value), "uc_reg_write");

    internal ulong ReadSys(uint op0, uint op1, uint crn, uint crm, uint op2)
    {
        CpReg reg = new(op0, op1, crn, crm, op2);
        Check(Native.uc_reg_read(_uc, Uc.RegCpReg, &reg), "uc_reg_read(CP_REG)");
        return reg.Value;
    }

    internal void WriteSys(uint op0, uint op1, uint crn, uint crm, uint op2, ulong value)
    {
        CpReg reg = new(op0, op1, crn, crm, op2) { Value = value };
        Check(Native.uc_reg_write(_uc, Uc.RegCpReg, &reg), "uc_reg_write(CP_REG)");
    }

    private ulong ReadX(int n) => n == 31 ? ReadReg(Uc.RegSp) : ReadReg(Uc.XRegId(n));

    private uint ReadWord(ulong address)
    {
        uint word = 0;
        return Native.uc_mem_read(_uc, address, &word, 4) == UcErr.Ok ? word : 0;
    }

    private static void Check(UcErr error, string what)
    {
        if (error != UcErr.Ok)
        {
            throw new InvalidOperationException($"{what}: {Native.ErrorText(error)}");
        }
    }

    private static Vcpu From(nint user) => Unsafe.As<Vcpu>(GCHandle.FromIntPtr(user).Target!);

    private void Fail(Exception failure)
    {
        _callbackError ??= failure;
        _ = Native.uc_emu_stop(_uc);
    }
}
