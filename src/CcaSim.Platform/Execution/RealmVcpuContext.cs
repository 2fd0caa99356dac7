namespace CcaSim.Platform.Execution;

/// <summary>
/// The architectural state of a vCPU as its owner keeps it: for a realm, the REC (the RMM owns it, as TF-RMM keeps
/// the realm's registers in the REC granule); for a normal VM, KVM's vCPU. The engine behind
/// <see cref="IRealmEngine"/> executes on it and may cache it between runs. The general-purpose registers, PC and
/// PSTATE are exchanged on every run (the owner reads and writes them at every event); everything else is loaded
/// by the engine when <see cref="Generation"/> changed and written back by <see cref="IRealmEngine.Flush"/>.
/// </summary>
public sealed class RealmVcpuContext
{
    /// <summary>x0..x30.</summary>
    public ulong[] X { get; } = new ulong[31];

    public ulong Pc { get; set; }

    /// <summary>PSTATE in SPSR_EL1 layout: NZCV, DAIF, M[3:0] (EL and SP selection).</summary>
    public ulong Pstate { get; set; }

    /// <summary>
    /// Bumped by the owner whenever it rewrites state other than X, PC and PSTATE (REC creation, PSCI CPU_ON
    /// reset, KVM_SET_ONE_REG): the engine then reloads the whole context before it runs the vCPU again.
    /// </summary>
    public ulong Generation { get; private set; }

    /// <summary>Marks the non-GPR state as rewritten by the owner (see <see cref="Generation"/>).</summary>
    public void MarkModified() => Generation++;

    public ulong SpEl0 { get; set; }

    public ulong SpEl1 { get; set; }

    public ulong ElrEl1 { get; set; }

    public ulong SpsrEl1 { get; set; }

    public ulong EsrEl1 { get; set; }

    public ulong FarEl1 { get; set; }

    public ulong VbarEl1 { get; set; }

    public ulong SctlrEl1 { get; set; }

    public ulong TcrEl1 { get; set; }

    public ulong Ttbr0El1 { get; set; }

    public ulong Ttbr1El1 { get; set; }

    public ulong MairEl1 { get; set; }

    public ulong AmairEl1 { get; set; }

    public ulong ContextidrEl1 { get; set; }

    public ulong TpidrEl0 { get; set; }

    public ulong TpidrroEl0 { get; set; }

    public ulong TpidrEl1 { get; set; }

    public ulong CpacrEl1 { get; set; }

    public ulong ParEl1 { get; set; }

    public ulong CntkctlEl1 { get; set; }

    /// <summary>MPIDR_EL1 as the vCPU reads it.</summary>
    public ulong MpidrEl1 { get; set; }

    /// <summary>V0..V31 (FP/SIMD), 16 bytes each, little-endian.</summary>
    public UInt128[] V { get; } = new UInt128[32];

    public ulong Fpcr { get; set; }

    public ulong Fpsr { get; set; }

    /// <summary>EL1 physical timer control (CNTP_CTL_EL0) and compare value, as the vCPU left them.</summary>
    public ulong CntpCtl { get; set; }

    public ulong CntpCval { get; set; }

    /// <summary>EL1 virtual timer control (CNTV_CTL_EL0) and compare value, as the vCPU left them.</summary>
    public ulong CntvCtl { get; set; }

    public ulong CntvCval { get; set; }

    /// <summary>CNTVOFF_EL2: the virtual counter reads the physical counter minus this.</summary>
    public ulong CntvOff { get; set; }

    /// <summary>
    /// The EL1 virtual timer's output is kept from interrupting the host while it stays asserted. For a realm this is
    /// CNTHCTL_EL2.CNTVMASK, which TF-RMM's check_pending_timers sets before each entry while the timer asserts; for a
    /// normal VM it is the host's timer PPI left active (KVM's kvm_timer_vcpu_load_gic: phys_active when the line is
    /// high) or disabled (kvm_timer_vcpu_load_nogic). The interrupt the guest sees comes only through a list register.
    /// </summary>
    public bool CntvSignalMasked { get; set; }

    /// <summary>The same for the EL1 physical timer (CNTHCTL_EL2.CNTPMASK for a realm).</summary>
    public bool CntpSignalMasked { get; set; }

    /// <summary>True when a PMU counter overflow interrupt is pending for the vCPU.</summary>
    public bool PmuOverflowActive { get; set; }

    /// <summary>
    /// The GICv3 virtual CPU interface the hypervisor programs (ICH_HCR_EL2, ICH_LR&lt;n&gt;_EL2, ICH_VMCR_EL2,
    /// ICH_AP1R&lt;n&gt;_EL2): for a realm, what the host passed in rec_enter and gets back in rec_exit; for a
    /// normal VM, what KVM's vGIC loads. The engine's ICC_* emulation works on these directly.
    /// </summary>
    public GicCpuInterfaceState Gic { get; } = new();

    /// <summary>
    /// An exception the owner injected (a synchronous external abort, or UNDEF for HVC) that the engine must deliver
    /// before executing anything else; it clears this once taken.
    /// </summary>
    public RealmFault PendingException { get; set; }

    /// <summary>Copies every field of <paramref name="other"/> into this context and bumps <see cref="Generation"/>.</summary>
    public void CopyFrom(RealmVcpuContext other)
    {
        ArgumentNullException.ThrowIfNull(other);
        other.X.CopyTo(X, 0);
        other.V.CopyTo(V, 0);
        Pc = other.Pc;
        Pstate = other.Pstate;
        SpEl0 = other.SpEl0;
        SpEl1 = other.SpEl1;
        ElrEl1 = other.ElrEl1;
        SpsrEl1 = other.SpsrEl1;
        EsrEl1 = other.EsrEl1;
        FarEl1 = other.FarEl1;
        VbarEl1 = other.VbarEl1;
        SctlrEl1 = other.SctlrEl1;
        TcrEl1 = other.TcrEl1;
        Ttbr0El1 = other.Ttbr0El1;
        Ttbr1El1 = other.Ttbr1El1;
        MairEl1 = other.MairEl1;
        AmairEl1 = other.AmairEl1;
        ContextidrEl1 = other.ContextidrEl1;
        TpidrEl0 = other.TpidrEl0;
        TpidrroEl0 = other.TpidrroEl0;
        TpidrEl1 = other.TpidrEl1;
        CpacrEl1 = other.CpacrEl1;
        ParEl1 = other.ParEl1;
        CntkctlEl1 = other.CntkctlEl1;
        MpidrEl1 = other.MpidrEl1;
        Fpcr = other.Fpcr;
        Fpsr = other.Fpsr;
        CntpCtl = other.CntpCtl;
        CntpCval = other.CntpCval;
        CntvCtl = other.CntvCtl;
        CntvCval = other.CntvCval;
        CntvOff = other.CntvOff;
        CntvSignalMasked = other.CntvSignalMasked;
        CntpSignalMasked = other.CntpSignalMasked;
        PmuOverflowActive = other.PmuOverflowActive;
        Gic.CopyFrom(other.Gic);
        PendingException = other.PendingException;
        MarkModified();
    }
}

/// <summary>
/// The GICv3 virtual CPU interface of one vCPU, in the hypervisor's register layout (ICH_*_EL2). The list registers
/// carry the virtual interrupts; the guest's ICC_IAR1/EOIR1/DIR accesses move them between pending, active and
/// invalid, as the hardware does.
/// </summary>
public sealed class GicCpuInterfaceState
{
    public const int MaxListRegisters = 16;

    /// <summary>ICH_HCR_EL2.</summary>
    public ulong Hcr { get; set; }

    /// <summary>ICH_LR0..15_EL2 (only the first <see cref="NumListRegisters"/> are implemented).</summary>
    public ulong[] Lrs { get; } = new ulong[MaxListRegisters];

    /// <summary>How many list registers the CPU implements (ICH_VTR_EL2.ListRegs + 1).</summary>
    public int NumListRegisters { get; set; } = MaxListRegisters;

    /// <summary>ICH_VMCR_EL2: the guest's PMR, BPR0/1, EOImode, group enables.</summary>
    public ulong Vmcr { get; set; }

    /// <summary>ICH_AP1R0_EL2: active priorities of group 1 (one bit per preemption level, 5 priority bits).</summary>
    public ulong Ap1r0 { get; set; }

    /// <summary>ICH_MISR_EL2 as computed at the last exit (maintenance interrupt status).</summary>
    public ulong Misr { get; set; }

    public void CopyFrom(GicCpuInterfaceState other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Hcr = other.Hcr;
        other.Lrs.CopyTo(Lrs, 0);
        NumListRegisters = other.NumListRegisters;
        Vmcr = other.Vmcr;
        Ap1r0 = other.Ap1r0;
        Misr = other.Misr;
    }
}

/// <summary>Exceptions an owner injects into a vCPU (rmm-1.0.md §5.7; KVM_SET_VCPU_EVENTS).</summary>
public enum RealmFault : byte
{
    None = 0,

    /// <summary>
    /// Synchronous external abort on the access or fetch the last <see cref="RealmEventKind.DataAbort"/> or
    /// <see cref="RealmEventKind.InstructionAbort"/> reported (RIPAS EMPTY, outside the IPA space, INJECT_SEA),
    /// taken with ELR at that instruction; with no such event outstanding, an SEA on the current PC.
    /// </summary>
    SynchronousExternalAbort,

    /// <summary>Undefined instruction at the instruction the last event reported (HVC from a realm: ELR past it).</summary>
    Undefined,
}
