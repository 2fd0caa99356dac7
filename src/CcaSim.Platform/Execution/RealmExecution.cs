namespace CcaSim.Platform.Execution;

/// <summary>
/// The register context of a realm vCPU as the RMM keeps it in a REC: x0..x30, PC, PSTATE and the EL1
/// system registers the RMM initialises. The engine behind <see cref="IRealmEngine"/> executes on it; the RMM owns it.
/// </summary>
public sealed class RealmVcpuContext
{
    /// <summary>x0..x30.</summary>
    public ulong[] X { get; } = new ulong[31];

    public ulong Pc { get; set; }

    public ulong Pstate { get; set; }

    public ulong SctlrEl1 { get; set; }

    /// <summary>MPIDR_EL1 as the realm reads it.</summary>
    public ulong MpidrEl1 { get; set; }

    /// <summary>EL1 physical timer control (CNTP_CTL_EL0) and compare value, as the realm left them.</summary>
    public ulong CntpCtl { get; set; }

    public ulong CntpCval { get; set; }

    /// <summary>EL1 virtual timer control (CNTV_CTL_EL0) and compare value, as the realm left them.</summary>
    public ulong CntvCtl { get; set; }

    public ulong CntvCval { get; set; }

    /// <summary>True when a PMU counter overflow interrupt is pending for the realm.</summary>
    public bool PmuOverflowActive { get; set; }

    /// <summary>
    /// An exception the RMM injected into the realm (a synchronous external abort, or UNDEF for HVC) that the
    /// engine must deliver before executing anything else; it clears this once taken.
    /// </summary>
    public RealmFault PendingException { get; set; }
}

/// <summary>Exceptions the RMM injects into a realm (rmm-1.0.md §5.7).</summary>
public enum RealmFault : byte
{
    None = 0,

    /// <summary>Synchronous external abort: RIPAS EMPTY, outside the IPA space, or INJECT_SEA from the host.</summary>
    SynchronousExternalAbort,

    /// <summary>Undefined instruction: HVC from a realm.</summary>
    Undefined,
}

/// <summary>Why an engine stopped running a realm vCPU (DESIGN.md, the realm-execution seam).</summary>
public enum RealmEventKind
{
    /// <summary>The realm executed SMC; the function id and arguments are in the context's registers.</summary>
    Smc,

    /// <summary>
    /// A data access stage 2 does not map (address, size, direction and register in the event; a write's value is
    /// in that register). The PC stays on the access: it is executed again unless the RMM completes or faults it.
    /// </summary>
    DataAbort,

    /// <summary>A stage-2 instruction abort.</summary>
    InstructionAbort,

    /// <summary>WFI executed; the PC is on it.</summary>
    Wfi,

    /// <summary>WFE executed; the PC is on it.</summary>
    Wfe,

    /// <summary>HVC executed; realms may not call the hypervisor.</summary>
    Hvc,

    /// <summary>A trapped system-register access.</summary>
    SysRegAccess,

    /// <summary>A physical IRQ is pending for the PE.</summary>
    Irq,

    /// <summary>A physical FIQ is pending for the PE.</summary>
    Fiq,

    SError,
}

/// <summary>One event reported by an engine. Fields not relevant to <see cref="Kind"/> are zero.</summary>
public readonly record struct RealmEvent(RealmEventKind Kind, ulong Ipa = 0, int AccessSize = 0, bool IsWrite = false, int Register = 0);

/// <summary>
/// A realm's memory as its vCPU sees it: every access is translated through the realm's stage 2, which the RMM
/// owns (RTT walk → DATA granule, or an unprotected mapping). An access that stage 2 does not map fails, and the
/// engine reports it as a <see cref="RealmEventKind.DataAbort"/>.
/// </summary>
public interface IRealmMemory
{
    bool TryRead(ulong ipa, Span<byte> destination);

    bool TryWrite(ulong ipa, ReadOnlySpan<byte> source);
}

/// <summary>
/// The realm-execution seam: RMI_REC_ENTER hands a REC's context and its stage-2 view to an engine, which runs
/// until an event. The RMM decides what the event means (handled inside, injected into the realm, or an exit to
/// the host). An SMC is complete when the engine is next run with the PC past it; a PC still at the SMC means
/// the RMM wants it executed again (the realm was interrupted before the call could finish).
/// </summary>
public interface IRealmEngine
{
    RealmEvent Run(RealmVcpuContext context, IRealmMemory memory);
}

/// <summary>
/// The engine of a realm with no code to execute: every entry ends at once because the PE has an FIQ to take,
/// which the RMM reports to the host as an FIQ exit. Used until a scripted or CPU engine is plugged in.
/// </summary>
public sealed class IdleRealmEngine : IRealmEngine
{
    public static IdleRealmEngine Instance { get; } = new();

    public RealmEvent Run(RealmVcpuContext context, IRealmMemory memory) => new(RealmEventKind.Fiq);
}
