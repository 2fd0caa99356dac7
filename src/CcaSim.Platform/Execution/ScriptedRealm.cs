namespace CcaSim.Platform.Execution;

/// <summary>
/// An engine for tests and the console: instead of instructions it executes a queue of steps — realm-side SMCs
/// (RSI, PSCI, SMCCC calls with x1..x10), data accesses at IPAs, WFI/WFE and HVC. Each step sits at its own PC,
/// 4 bytes apart, and is reported with the seam's conventions: an SMC, WFI, WFE or HVC with the PC past it, a data
/// abort with the PC on the access and the full ESR a stage-2 abort of a single-register load/store carries. An
/// SMC is loaded into x0..x10; when the owner next runs the vCPU with the PC still past it, it has completed and
/// <see cref="StepCompleted"/> reports x0..x8 (an owner that moved the PC back onto it has it executed again). A
/// data access goes through stage 2; if stage 2 does not map it, it is reported as a data abort and completes once
/// the owner moves the PC past it (emulated MMIO), or is executed again if the PC stays. WFI, WFE and HVC complete
/// on the next run. An injected exception ends the current step as faulted. With the queue empty the vCPU idles:
/// the PE takes a pending physical IRQ (<see cref="PhysicalInterrupts"/>) if there is one, else its FIQ. Steps are
/// issued back to back, so an IRQ raised before an entry is seen by the RMM while it works on a long call (token
/// signing) or once the realm idles — the model of an interrupt that arrives during the call.
/// </summary>
public sealed class ScriptedRealm : IRealmEngine
{
    private const int InstructionSize = 4;

    private readonly Queue<RealmStep> _queue = new();
    private readonly Dictionary<RealmVcpuContext, (RealmStep Step, ulong Pc)> _outstanding = new(ReferenceEqualityComparer.Instance);
    private readonly PhysicalInterrupts _interrupts;

    public ScriptedRealm(PhysicalInterrupts interrupts) => _interrupts = interrupts;

    /// <summary>Raised when a step completes: the step, x0..x8 as the realm sees them, and the exception it took (if any).</summary>
    public event Action<RealmStep, ulong[], RealmFault>? StepCompleted;

    /// <summary>Raised when an SMC step completes, with x0..x8 as the realm sees them (the console prints these).</summary>
    public event Action<RealmCall, ulong[]>? CallCompleted;

    /// <summary>Steps not yet issued.</summary>
    public int Pending => _queue.Count;

    /// <summary>Queues an SMC the realm will make: function id and up to ten arguments (x1..x10).</summary>
    public void Enqueue(ulong functionId, params ulong[] arguments)
    {
        if (arguments.Length > 10)
        {
            throw new ArgumentException("an SMC carries at most ten arguments (x1..x10)", nameof(arguments));
        }

        _queue.Enqueue(new RealmStep(RealmStepKind.Smc, functionId, arguments));
    }

    /// <summary>Queues a load of <paramref name="size"/> bytes (1, 2, 4, 8) from <paramref name="ipa"/> into x<paramref name="register"/>.</summary>
    public void EnqueueRead(ulong ipa, int size, int register) => _queue.Enqueue(Access(RealmStepKind.Read, ipa, size, register, 0));

    /// <summary>Queues a store of the low <paramref name="size"/> bytes of <paramref name="value"/> (held in x<paramref name="register"/>) to <paramref name="ipa"/>.</summary>
    public void EnqueueWrite(ulong ipa, int size, int register, ulong value) => _queue.Enqueue(Access(RealmStepKind.Write, ipa, size, register, value));

    public void EnqueueWfi() => _queue.Enqueue(new RealmStep(RealmStepKind.Wfi, 0, []));

    public void EnqueueWfe() => _queue.Enqueue(new RealmStep(RealmStepKind.Wfe, 0, []));

    public void EnqueueHvc() => _queue.Enqueue(new RealmStep(RealmStepKind.Hvc, 0, []));

    public RealmEvent Run(RealmVcpuContext context, IRealmMemory memory)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(memory);
        if (_outstanding.Remove(context, out (RealmStep Step, ulong Pc) last))
        {
            RealmFault taken = context.PendingException;
            context.PendingException = RealmFault.None;
            if (taken != RealmFault.None || context.Pc == last.Pc + InstructionSize)
            {
                context.Pc = last.Pc + InstructionSize;
                Completed(last.Step, context, taken);
            }
            else
            {
                RealmEvent? again = Execute(context, memory, last.Step, last.Pc);
                if (again is not null)
                {
                    return again.Value;
                }
            }
        }

        while (_queue.TryDequeue(out RealmStep? step))
        {
            RealmEvent? ev = Execute(context, memory, step, context.Pc);
            if (ev is not null)
            {
                return ev.Value;
            }
        }

        return new RealmEvent(_interrupts.IrqPending ? RealmEventKind.Irq : RealmEventKind.Fiq);
    }

    /// <summary>Executes one step at <paramref name="pc"/>; null when it completed without leaving the engine.</summary>
    private RealmEvent? Execute(RealmVcpuContext context, IRealmMemory memory, RealmStep step, ulong pc)
    {
        context.Pc = pc;
        switch (step.Kind)
        {
            case RealmStepKind.Smc:
                context.X[0] = step.FunctionId;
                for (int i = 0; i < 10; i++)
                {
                    context.X[i + 1] = i < step.Arguments.Length ? step.Arguments[i] : 0;
                }

                break;
            case RealmStepKind.Read:
            case RealmStepKind.Write:
                int size = (int)step.Arguments[1];
                int register = (int)step.Arguments[2];
                Span<byte> data = stackalloc byte[8];
                data.Clear();
                bool write = step.Kind == RealmStepKind.Write;
                if (write)
                {
                    context.X[register] = step.Arguments[3];
                    System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(data, step.Arguments[3]);
                }

                bool done = write ? memory.TryWrite(step.Arguments[0], data[..size]) : memory.TryRead(step.Arguments[0], data[..size]);
                if (!done)
                {
                    _outstanding[context] = (step, pc);
                    return new RealmEvent(RealmEventKind.DataAbort, step.Arguments[0], size, write, register, DataAbortSyndrome(size, register, write), step.Arguments[0]);
                }

                if (!write)
                {
                    context.X[register] = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(data);
                }

                context.Pc = pc + InstructionSize;
                Completed(step, context, RealmFault.None);
                return null;
        }

        // SMC, WFI, WFE and HVC are reported with the PC past the instruction, as a CPU leaves it.
        _outstanding[context] = (step, pc);
        context.Pc = pc + InstructionSize;
        return step.Kind switch
        {
            RealmStepKind.Smc => new RealmEvent(RealmEventKind.Smc),
            RealmStepKind.Wfi => new RealmEvent(RealmEventKind.Wfi, Syndrome: EsrEcWfx | EsrIl),
            RealmStepKind.Wfe => new RealmEvent(RealmEventKind.Wfe, Syndrome: EsrEcWfx | EsrIl | 1),
            _ => new RealmEvent(RealmEventKind.Hvc, Syndrome: EsrEcHvc | EsrIl),
        };
    }

    private const ulong EsrEcWfx = 0x01UL << 26;
    private const ulong EsrEcHvc = 0x16UL << 26;
    private const ulong EsrEcDataAbortLowerEl = 0x24UL << 26;
    private const ulong EsrIl = 1UL << 25;

    /// <summary>
    /// The ESR of a stage-2 data abort on a single-register load/store without writeback: ISV, SAS, SRT, SF (a
    /// 64-bit register for 8-byte accesses, a W register otherwise, as LDR/STR Xt and LDR(B/H)/STR(B/H) Wt encode
    /// it), WnR and a level-3 translation fault (DFSC 0x07).
    /// </summary>
    private static ulong DataAbortSyndrome(int size, int register, bool write)
    {
        const ulong Isv = 1UL << 24;
        const ulong Sf = 1UL << 15;
        const ulong Wnr = 1UL << 6;
        const ulong TranslationFaultLevel3 = 0x07;
        ulong sas = (ulong)System.Numerics.BitOperations.Log2((uint)size);
        return EsrEcDataAbortLowerEl | EsrIl | Isv | (sas << 22) | ((ulong)register << 16) | (size == 8 ? Sf : 0)
            | (write ? Wnr : 0) | TranslationFaultLevel3;
    }

    private void Completed(RealmStep step, RealmVcpuContext context, RealmFault taken)
    {
        ulong[] x = context.X[..9];
        StepCompleted?.Invoke(step, x, taken);
        if (step.Kind == RealmStepKind.Smc)
        {
            CallCompleted?.Invoke(new RealmCall(step.FunctionId, step.Arguments), x);
        }
    }

    private static RealmStep Access(RealmStepKind kind, ulong ipa, int size, int register, ulong value)
    {
        if (size is not (1 or 2 or 4 or 8) || register is < 0 or > 30)
        {
            throw new ArgumentException("an access is 1, 2, 4 or 8 bytes through x0..x30");
        }

        return new RealmStep(kind, 0, [ipa, (ulong)size, (ulong)register, value]);
    }
}

/// <summary>What a <see cref="ScriptedRealm"/> step does.</summary>
public enum RealmStepKind : byte
{
    Smc,
    Read,
    Write,
    Wfi,
    Wfe,
    Hvc,
}

/// <summary>
/// One step of a <see cref="ScriptedRealm"/>: an SMC (function id, x1..x10), or a data access (arguments: IPA,
/// size, register, value), or WFI/WFE/HVC.
/// </summary>
public sealed record RealmStep(RealmStepKind Kind, ulong FunctionId, ulong[] Arguments);

/// <summary>One realm-side SMC of a <see cref="ScriptedRealm"/>.</summary>
public sealed record RealmCall(ulong FunctionId, ulong[] Arguments);

/// <summary>Physical interrupt lines of the PE that runs realms: a pending IRQ makes the realm exit to the host.</summary>
public sealed class PhysicalInterrupts
{
    public bool IrqPending { get; set; }
}
