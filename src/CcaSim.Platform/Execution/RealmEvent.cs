namespace CcaSim.Platform.Execution;

/// <summary>Why an engine stopped running a vCPU (DESIGN.md, the realm-execution seam).</summary>
public enum RealmEventKind
{
    /// <summary>The vCPU executed SMC; the PC is past it, the function id and arguments are in x0..x17.</summary>
    Smc,

    /// <summary>
    /// A data access stage 2 does not map. The PC stays on the access: it is executed again on the next run unless
    /// the owner moves the PC past it (emulated MMIO, after writing a load's value to the register) or injects an
    /// exception. <see cref="RealmEvent.Ipa"/>, <see cref="RealmEvent.AccessSize"/>, <see cref="RealmEvent.IsWrite"/>,
    /// <see cref="RealmEvent.Register"/> and <see cref="RealmEvent.Syndrome"/> describe it.
    /// </summary>
    DataAbort,

    /// <summary>An instruction fetch stage 2 does not map (or maps without execute permission); the PC is the fetch address.</summary>
    InstructionAbort,

    /// <summary>WFI executed; the PC is past it.</summary>
    Wfi,

    /// <summary>WFE executed; the PC is past it.</summary>
    Wfe,

    /// <summary>HVC executed; the PC is past it and the immediate is in <see cref="RealmEvent.Syndrome"/> (ISS).</summary>
    Hvc,

    /// <summary>
    /// A system-register access the engine traps to the owner (ICC_SGI1R_EL1 writes, which must reach the
    /// hypervisor's GIC). The PC is on the instruction; the owner completes it by moving the PC past it (and, for a
    /// read, writing the register). <see cref="RealmEvent.Syndrome"/> holds the ESR_ELx ISS of EC 0x18 (Op0, Op2,
    /// Op1, CRn, Rt, CRm, direction); <see cref="RealmEvent.Register"/> is Rt.
    /// </summary>
    SysRegAccess,

    /// <summary>
    /// A physical IRQ is pending for the PE: the host's scheduler tick (the time slice of
    /// <see cref="VirtualClock.SliceEnd"/> ended) or a vCPU timer that fired and whose interrupt is not already in
    /// a list register (the owner reads CNTV/CNTP_CTL from the context and injects it).
    /// </summary>
    Irq,

    /// <summary>A physical FIQ is pending for the PE.</summary>
    Fiq,

    SError,
}

/// <summary>
/// One event reported by an engine. Fields not relevant to <see cref="Kind"/> are zero. For an abort,
/// <see cref="Syndrome"/> is the ESR_ELx value a real stage-2 abort carries (EC, IL, and for a data abort ISV, SAS,
/// SSE, SRT, SF, AR, WnR and the DFSC the engine saw, translation fault level 3 unless the owner knows better);
/// <see cref="Va"/> is the virtual address (FAR); <see cref="Ipa"/> the faulting IPA.
/// </summary>
public readonly record struct RealmEvent(
    RealmEventKind Kind,
    ulong Ipa = 0,
    int AccessSize = 0,
    bool IsWrite = false,
    int Register = 0,
    ulong Syndrome = 0,
    ulong Va = 0)
{
    /// <summary>ESR_ELx.ISV: the syndrome describes the access (single register, no writeback), so it can be emulated.</summary>
    public bool IsValidSyndrome => (Syndrome & (1UL << 24)) != 0;

    /// <summary>ESR_ELx.SSE: a load whose value must be sign-extended to the register.</summary>
    public bool SignExtend => (Syndrome & (1UL << 21)) != 0;

    /// <summary>ESR_ELx.SF: the register is 64-bit (else a W register: the upper half is cleared).</summary>
    public bool SixtyFourBitRegister => (Syndrome & (1UL << 15)) != 0;
}
