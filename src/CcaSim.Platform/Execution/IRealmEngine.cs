namespace CcaSim.Platform.Execution;

/// <summary>What stage 2 gives one 4 KiB page of guest physical (IPA) space.</summary>
public enum Stage2PageKind : byte
{
    /// <summary>Mapped to host-addressable memory: the engine may map it into the CPU and access it directly.</summary>
    Mapped,

    /// <summary>Not mapped: an access is a stage-2 fault the owner handles (host fault-in, emulated MMIO).</summary>
    Unmapped,

    /// <summary>A realm page of RIPAS EMPTY: an access is a synchronous external abort in the realm (§5.4).</summary>
    Empty,

    /// <summary>Outside the IPA space: an access is a synchronous external abort (§5.7).</summary>
    OutOfRange,
}

/// <summary>
/// One page as stage 2 maps it. <see cref="Host"/> points at the 4 KiB of host memory behind the page (a granule of
/// <see cref="Memory.PhysicalMemory"/>), which stays put until the owner reports the page changed through
/// <see cref="IRealmEngine.Stage2Changed"/>.
/// </summary>
public readonly record struct Stage2Page(Stage2PageKind Kind, nint Host = 0, bool Writable = false, bool Executable = false);

/// <summary>
/// A vCPU's guest-physical memory as its stage 2 describes it: for a realm, the RTTs the RMM owns (DATA granules,
/// unprotected NS mappings); for a normal VM, KVM's memslots. Engines that execute real code ask
/// <see cref="Lookup"/> page by page and access the memory directly; the scripted engine uses the copying accessors.
/// </summary>
public interface IRealmMemory
{
    bool TryRead(ulong ipa, Span<byte> destination);

    bool TryWrite(ulong ipa, ReadOnlySpan<byte> source);

    /// <summary>What stage 2 gives the page holding <paramref name="ipa"/>; a Mapped page's memory stays pinned.</summary>
    Stage2Page Lookup(ulong ipa);
}

/// <summary>
/// The realm-execution seam: RMI_REC_ENTER (and KVM_RUN of a normal VM) hands a vCPU context and its stage-2 view
/// to an engine, which runs until an event. The owner decides what the event means (handled inside, injected,
/// or an exit to the host). An SMC is complete when the engine is next run with the PC past it.
/// Stage 2 changes only while the vCPU is stopped, and the owner reports every change that could unmap or
/// re-permission a page through <see cref="Stage2Changed"/>, so an engine may keep pages mapped between runs.
/// </summary>
public interface IRealmEngine
{
    RealmEvent Run(RealmVcpuContext context, IRealmMemory memory);

    /// <summary>
    /// <see cref="Run(RealmVcpuContext, IRealmMemory)"/>, with an owner that answers some SMCs without an exit: an
    /// engine that can call it from inside the run does so, and one that cannot ignores it (the calls then come back as
    /// <see cref="RealmEventKind.Smc"/> events, with the same result). It only saves the cost of an exit and a re-entry.
    /// </summary>
    RealmEvent Run(RealmVcpuContext context, IRealmMemory memory, IRealmSmcFastPath? fastPath) => Run(context, memory);

    /// <summary>Pages in [<paramref name="ipa"/>, +<paramref name="size"/>) of <paramref name="memory"/> may have changed: forget any direct mapping of them.</summary>
    void Stage2Changed(IRealmMemory memory, ulong ipa, ulong size) { }

    /// <summary>Writes any state the engine cached back into <paramref name="context"/> (before the owner inspects or saves it).</summary>
    void Flush(RealmVcpuContext context) { }

    /// <summary>The vCPU is gone (REC destroyed, vCPU freed): release whatever the engine holds for it.</summary>
    void Release(RealmVcpuContext context) { }

    /// <summary>The stage 2 is gone (realm or VM destroyed): release whatever the engine holds for it.</summary>
    void Release(IRealmMemory memory) { }
}

/// <summary>
/// An owner's inline answer to SMCs that need nothing but registers (RSI_VERSION, RSI_FEATURES, the measurement
/// calls, ...), so that a realm calling them in a loop does not pay an engine exit and re-entry per call. The engine
/// calls it from inside <see cref="IRealmEngine.Run(RealmVcpuContext, IRealmMemory, IRealmSmcFastPath?)"/>, at an SMC,
/// on the vCPU's thread; the answer must be exactly what the owner would give the same call as an Smc event.
/// </summary>
public interface IRealmSmcFastPath
{
    /// <summary>Registers the engine passes in and takes back: x0..x17 (SMCCC's argument and result registers).</summary>
    const int Registers = 18;

    /// <summary>True when <see cref="Answer"/> completes the call with function id <paramref name="x0"/> without an exit.</summary>
    bool Handles(ulong x0);

    /// <summary>
    /// Completes a call <see cref="Handles"/> accepted: <see cref="RealmVcpuContext.X"/>[0..17] hold the caller's x0..x17
    /// (no other field of <paramref name="context"/> is current) and receive the results; the PC stays past the SMC.
    /// </summary>
    void Answer(RealmVcpuContext context);
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
