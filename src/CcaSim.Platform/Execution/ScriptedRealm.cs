namespace CcaSim.Platform.Execution;

/// <summary>
/// An engine for tests and the console: instead of instructions it executes a queue of realm-side SMCs (RSI,
/// PSCI, SMCCC calls with x1..x10). Each call is loaded into x0..x10 and reported as an SMC event; when the RMM
/// next runs the vCPU with the PC advanced past it, the call has completed and <see cref="CallCompleted"/> reports
/// its result registers. With the queue empty the vCPU idles: the PE takes a pending physical IRQ
/// (<see cref="PhysicalInterrupts"/>) if there is one, else its FIQ. Queued calls are issued back to back, so an
/// IRQ raised before an entry is seen by the RMM while it works on a long call (token signing) or once the realm
/// idles — the model of an interrupt that arrives during the call.
/// </summary>
public sealed class ScriptedRealm : IRealmEngine
{
    private const int SmcSize = 4;

    private readonly Queue<RealmCall> _queue = new();
    private readonly Dictionary<RealmVcpuContext, (RealmCall Call, ulong Pc)> _outstanding = new(ReferenceEqualityComparer.Instance);
    private readonly PhysicalInterrupts _interrupts;

    public ScriptedRealm(PhysicalInterrupts interrupts) => _interrupts = interrupts;

    /// <summary>Raised when a call completes, with x0..x8 as the realm sees them.</summary>
    public event Action<RealmCall, ulong[]>? CallCompleted;

    /// <summary>Calls not yet issued.</summary>
    public int Pending => _queue.Count;

    /// <summary>Queues an SMC the realm will make: function id and up to ten arguments (x1..x10).</summary>
    public void Enqueue(ulong functionId, params ulong[] arguments)
    {
        if (arguments.Length > 10)
        {
            throw new ArgumentException("an SMC carries at most ten arguments (x1..x10)", nameof(arguments));
        }

        _queue.Enqueue(new RealmCall(functionId, arguments));
    }

    public RealmEvent Run(RealmVcpuContext context, IRealmMemory memory)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_outstanding.Remove(context, out (RealmCall Call, ulong Pc) last))
        {
            if (context.Pc == last.Pc + SmcSize)
            {
                CallCompleted?.Invoke(last.Call, context.X[..9]);
            }
            else
            {
                // Not completed: the SMC is executed again once nothing else is pending.
                return Issue(context, last.Call, last.Pc);
            }
        }

        if (_queue.TryDequeue(out RealmCall? call))
        {
            return Issue(context, call, context.Pc);
        }

        return new RealmEvent(_interrupts.IrqPending ? RealmEventKind.Irq : RealmEventKind.Fiq);
    }

    private RealmEvent Issue(RealmVcpuContext context, RealmCall call, ulong pc)
    {
        context.Pc = pc;
        context.X[0] = call.FunctionId;
        for (int i = 0; i < 10; i++)
        {
            context.X[i + 1] = i < call.Arguments.Length ? call.Arguments[i] : 0;
        }

        _outstanding[context] = (call, pc);
        return new RealmEvent(RealmEventKind.Smc);
    }
}

/// <summary>One realm-side SMC of a <see cref="ScriptedRealm"/>.</summary>
public sealed record RealmCall(ulong FunctionId, ulong[] Arguments);

/// <summary>Physical interrupt lines of the PE that runs realms: a pending IRQ makes the realm exit to the host.</summary>
public sealed class PhysicalInterrupts
{
    public bool IrqPending { get; set; }
}
