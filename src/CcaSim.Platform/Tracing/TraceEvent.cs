namespace CcaSim.Platform.Tracing;

/// <summary>What a <see cref="TraceEvent"/> records; each kind names the fields it fills.</summary>
public enum TraceEventKind : byte
{
    /// <summary>
    /// An SMC the host took to the RMI range (the monitor's conduit): <see cref="TraceEvent.Function"/> = function id,
    /// Arg1..Arg3 = x1..x3, <see cref="TraceEvent.Result"/> = x0 on return, <see cref="TraceEvent.Duration"/> = the
    /// virtual time the call took (RMI_REC_ENTER runs the realm). <see cref="TraceEvent.Vcpu"/> is
    /// <see cref="TraceEvent.Host"/>: the monitor cannot tell which vCPU thread of the host made it.
    /// </summary>
    RmiCall,

    /// <summary>
    /// A REC ran, from its entry to its exit to the host (the RMM): Function = the exit reason (RmiRecExitReason),
    /// Esr/Far as rec_exit reports them, Ipa = the faulting IPA from HPFAR (plus FAR's page offset for an emulatable
    /// abort), Pc = the REC's PC at the exit.
    /// </summary>
    RecRun,

    /// <summary>An RSI call from a realm (the RMM): Function = fid, Arg1..Arg3 = x1..x3, Result = x0; Inline when answered on the engine's fast path.</summary>
    RsiCall,

    /// <summary>A PSCI or SMCCC call from a guest (the RMM for realms, KVM for normal VMs): Function = fid, Arg1..Arg3, Result = x0.</summary>
    PsciCall,

    /// <summary>
    /// One run of a vCPU on the CPU engine: Instructions executed (counted per translation block), Function = the
    /// RealmEventKind that ended it, Pc = where it stopped; for a data abort, Esr, Ipa and the instruction word.
    /// </summary>
    EngineRun,

    /// <summary>An exception the engine delivered to the guest itself (UNDEF, stage-1 abort, ...): Esr, Far, Pc = the faulting instruction and its word.</summary>
    GuestException,

    /// <summary>The guest acknowledged a virtual interrupt (ICC_IAR1_EL1/IAR0 read returned <see cref="TraceEvent.Intid"/>).</summary>
    InterruptAcknowledged,

    /// <summary>A vCPU timer's condition was met with its interrupt not yet pending in a list register: the PPI (Intid 27 or 30) is asserted to the host.</summary>
    TimerFired,

    /// <summary>A normal VM's vCPU stopped for KVM (no RMM): Function = the RealmEventKind, Esr, Far, Ipa, Pc; Duration = the run.</summary>
    GuestExit,
}

/// <summary>
/// One record of the platform's trace port, the simulator's counterpart of a hardware trace unit: a fixed-size value
/// (no allocation per event) that every layer fills with what real hardware or firmware would show at that point.
/// <see cref="Time"/> is the system counter (the platform's virtual clock) when the event began.
/// </summary>
public readonly record struct TraceEvent
{
    /// <summary>The <see cref="Vcpu"/> of events that belong to no vCPU (host SMCs).</summary>
    public const int Host = -1;

    public TraceEventKind Kind { get; init; }

    /// <summary>The vCPU index as KVM numbers it (the linear index behind its MPIDR), or <see cref="Host"/>.</summary>
    public int Vcpu { get; init; }

    public ulong Time { get; init; }

    public ulong Duration { get; init; }

    public ulong Function { get; init; }

    public ulong Arg1 { get; init; }

    public ulong Arg2 { get; init; }

    public ulong Arg3 { get; init; }

    public ulong Result { get; init; }

    public ulong Esr { get; init; }

    public ulong Far { get; init; }

    public ulong Ipa { get; init; }

    public ulong Pc { get; init; }

    /// <summary>The instruction word at <see cref="Pc"/>, when <see cref="HasInstruction"/>.</summary>
    public uint Instruction { get; init; }

    public bool HasInstruction { get; init; }

    public ulong Instructions { get; init; }

    public uint Intid { get; init; }

    /// <summary>An RSI call answered inside the engine run (IRealmSmcFastPath) rather than after an engine exit.</summary>
    public bool Inline { get; init; }

    /// <summary>
    /// The vCPU index behind an MPIDR_EL1 value, inverting KVM's reset MPIDR (Aff0 = index[3:0], Aff1 = index[11:4],
    /// Aff2 = index[19:12]; arm64 reset_mpidr), so engine, RMM and VMM tracks agree.
    /// </summary>
    public static int VcpuOf(ulong mpidr) => (int)((mpidr & 0xF) | (((mpidr >> 8) & 0xFF) << 4) | (((mpidr >> 16) & 0xFF) << 12));
}

/// <summary>Receives trace events; called on the thread that runs the machine, in the order they complete.</summary>
public interface ITraceSink
{
    void Record(in TraceEvent e);
}

/// <summary>
/// The platform's trace port: every emitter holds it and checks <see cref="Sink"/> once per event (null: tracing is
/// off and nothing is built). <see cref="Clock"/> stamps the events.
/// </summary>
public sealed class TracePort(Execution.VirtualClock clock)
{
    public ITraceSink? Sink { get; set; }

    public Execution.VirtualClock Clock { get; } = clock ?? throw new ArgumentNullException(nameof(clock));
}
