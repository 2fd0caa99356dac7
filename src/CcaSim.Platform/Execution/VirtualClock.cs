namespace CcaSim.Platform.Execution;

/// <summary>
/// The machine's virtual time, shared by every vCPU of the platform: the generic timer's system counter
/// (CNTPCT_EL0) runs on it, it advances only with executed guest work (reported by the engine) and by explicit
/// skips (an idle machine jumps to its next timer deadline), so the same inputs give the same times. It also
/// carries the host scheduler's time slice: the engine ends a run with an IRQ event once <see cref="SliceEnd"/> is
/// reached, which is how vCPUs sharing one host thread take turns deterministically.
/// </summary>
public sealed class VirtualClock
{
    /// <summary>CNTFRQ_EL0: 62.5 MHz, as kvmtool/QEMU guests and Unicorn report.</summary>
    public const ulong CounterFrequency = 62_500_000;

    /// <summary>Nominal guest speed: one instruction per nanosecond, so 16 instructions per counter tick.</summary>
    public const ulong InstructionsPerTick = 1_000_000_000 / CounterFrequency;

    /// <summary>
    /// What taking an exception on the owner's request (an injected SEA or UNDEF) costs, in instructions: about what
    /// a core spends on exception entry. Without a cost, a guest whose vector faults again would take exceptions
    /// forever at one instant of virtual time, so neither its time slice nor a run's instruction budget could end it.
    /// </summary>
    public const ulong ExceptionEntryInstructions = 64;

    /// <summary>Default time slice: 1 ms of virtual time (62,500 ticks, one million instructions).</summary>
    public const ulong DefaultSliceTicks = CounterFrequency / 1000;

    /// <summary>The system counter (CNTPCT_EL0), in ticks of <see cref="CounterFrequency"/>.</summary>
    public ulong Now { get; private set; }

    /// <summary>Instructions executed but not yet a whole tick (kept so that time is exact over many runs).</summary>
    public ulong PendingInstructions { get; private set; }

    /// <summary>Counter value at which the current time slice ends; ulong.MaxValue when no slice is running.</summary>
    public ulong SliceEnd { get; private set; } = ulong.MaxValue;

    /// <summary>Length of a time slice in ticks.</summary>
    public ulong SliceTicks { get; set; } = DefaultSliceTicks;

    /// <summary>Starts a time slice of <see cref="SliceTicks"/> from now (the host scheduler picks a vCPU).</summary>
    public void BeginSlice() => SliceEnd = Now + SliceTicks;

    /// <summary>Ends the time slice (no preemption until the next <see cref="BeginSlice"/>).</summary>
    public void EndSlice() => SliceEnd = ulong.MaxValue;

    /// <summary>True when the current slice has run out.</summary>
    public bool SliceExpired => Now >= SliceEnd;

    /// <summary>Accounts <paramref name="instructions"/> executed guest instructions.</summary>
    public void AddInstructions(ulong instructions)
    {
        ulong total = PendingInstructions + instructions;
        Now += total / InstructionsPerTick;
        PendingInstructions = total % InstructionsPerTick;
    }

    /// <summary>Skips ahead to <paramref name="ticks"/> (idle until a deadline); never goes backwards.</summary>
    public void AdvanceTo(ulong ticks)
    {
        if (ticks > Now)
        {
            Now = ticks;
            PendingInstructions = 0;
        }
    }
}
