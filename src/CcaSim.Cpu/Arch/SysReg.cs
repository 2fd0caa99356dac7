using System.Diagnostics.CodeAnalysis;

namespace CcaSim.Cpu.Arch;

/// <summary>
/// An AArch64 system register by its MRS/MSR encoding (Arm ARM C5.3, "op0, op1, CRn, CRm, op2"). The well-known
/// registers carry their architectural names (ICC_IAR1_EL1, ...) so traces and code read like the Arm ARM.
/// </summary>
[SuppressMessage("Naming", "CA1707:Identifiers should not contain underscores", Justification = "Architectural register names (Arm ARM), as every reader searches for them.")]
public readonly record struct SysReg(int Op0, int Op1, int CRn, int CRm, int Op2)
{
    // GICv3 CPU interface, System register view (GIC architecture spec IHI0069, §12.2; Arm ARM C5.3).
    public static readonly SysReg ICC_PMR_EL1 = new(3, 0, 4, 6, 0);
    public static readonly SysReg ICC_IAR0_EL1 = new(3, 0, 12, 8, 0);
    public static readonly SysReg ICC_EOIR0_EL1 = new(3, 0, 12, 8, 1);
    public static readonly SysReg ICC_HPPIR0_EL1 = new(3, 0, 12, 8, 2);
    public static readonly SysReg ICC_BPR0_EL1 = new(3, 0, 12, 8, 3);
    public static readonly SysReg ICC_AP0R0_EL1 = new(3, 0, 12, 8, 4);
    public static readonly SysReg ICC_AP0R1_EL1 = new(3, 0, 12, 8, 5);
    public static readonly SysReg ICC_AP0R2_EL1 = new(3, 0, 12, 8, 6);
    public static readonly SysReg ICC_AP0R3_EL1 = new(3, 0, 12, 8, 7);
    public static readonly SysReg ICC_AP1R0_EL1 = new(3, 0, 12, 9, 0);
    public static readonly SysReg ICC_AP1R1_EL1 = new(3, 0, 12, 9, 1);
    public static readonly SysReg ICC_AP1R2_EL1 = new(3, 0, 12, 9, 2);
    public static readonly SysReg ICC_AP1R3_EL1 = new(3, 0, 12, 9, 3);
    public static readonly SysReg ICC_DIR_EL1 = new(3, 0, 12, 11, 1);
    public static readonly SysReg ICC_RPR_EL1 = new(3, 0, 12, 11, 3);
    public static readonly SysReg ICC_SGI1R_EL1 = new(3, 0, 12, 11, 5);
    public static readonly SysReg ICC_ASGI1R_EL1 = new(3, 0, 12, 11, 6);
    public static readonly SysReg ICC_SGI0R_EL1 = new(3, 0, 12, 11, 7);
    public static readonly SysReg ICC_IAR1_EL1 = new(3, 0, 12, 12, 0);
    public static readonly SysReg ICC_EOIR1_EL1 = new(3, 0, 12, 12, 1);
    public static readonly SysReg ICC_HPPIR1_EL1 = new(3, 0, 12, 12, 2);
    public static readonly SysReg ICC_BPR1_EL1 = new(3, 0, 12, 12, 3);
    public static readonly SysReg ICC_CTLR_EL1 = new(3, 0, 12, 12, 4);
    public static readonly SysReg ICC_SRE_EL1 = new(3, 0, 12, 12, 5);
    public static readonly SysReg ICC_IGRPEN0_EL1 = new(3, 0, 12, 12, 6);
    public static readonly SysReg ICC_IGRPEN1_EL1 = new(3, 0, 12, 12, 7);

    // Generic timer (Arm ARM D11, registers in C5.3 / D23.8).
    public static readonly SysReg CNTKCTL_EL1 = new(3, 0, 14, 1, 0);
    public static readonly SysReg CNTFRQ_EL0 = new(3, 3, 14, 0, 0);
    public static readonly SysReg CNTPCT_EL0 = new(3, 3, 14, 0, 1);
    public static readonly SysReg CNTVCT_EL0 = new(3, 3, 14, 0, 2);
    public static readonly SysReg CNTPCTSS_EL0 = new(3, 3, 14, 0, 5);
    public static readonly SysReg CNTVCTSS_EL0 = new(3, 3, 14, 0, 6);
    public static readonly SysReg CNTP_TVAL_EL0 = new(3, 3, 14, 2, 0);
    public static readonly SysReg CNTP_CTL_EL0 = new(3, 3, 14, 2, 1);
    public static readonly SysReg CNTP_CVAL_EL0 = new(3, 3, 14, 2, 2);
    public static readonly SysReg CNTV_TVAL_EL0 = new(3, 3, 14, 3, 0);
    public static readonly SysReg CNTV_CTL_EL0 = new(3, 3, 14, 3, 1);
    public static readonly SysReg CNTV_CVAL_EL0 = new(3, 3, 14, 3, 2);

    // Identification and other registers an engine meets often (named for traces).
    public static readonly SysReg MIDR_EL1 = new(3, 0, 0, 0, 0);
    public static readonly SysReg MPIDR_EL1 = new(3, 0, 0, 0, 5);
    public static readonly SysReg REVIDR_EL1 = new(3, 0, 0, 0, 6);
    public static readonly SysReg ID_AA64PFR0_EL1 = new(3, 0, 0, 4, 0);
    public static readonly SysReg ID_AA64PFR1_EL1 = new(3, 0, 0, 4, 1);
    public static readonly SysReg ID_AA64DFR0_EL1 = new(3, 0, 0, 5, 0);
    public static readonly SysReg ID_AA64ISAR0_EL1 = new(3, 0, 0, 6, 0);
    public static readonly SysReg ID_AA64ISAR1_EL1 = new(3, 0, 0, 6, 1);
    public static readonly SysReg ID_AA64MMFR0_EL1 = new(3, 0, 0, 7, 0);
    public static readonly SysReg ID_AA64MMFR1_EL1 = new(3, 0, 0, 7, 1);
    public static readonly SysReg ID_AA64MMFR2_EL1 = new(3, 0, 0, 7, 2);
    public static readonly SysReg SCTLR_EL1 = new(3, 0, 1, 0, 0);
    public static readonly SysReg CPACR_EL1 = new(3, 0, 1, 0, 2);
    public static readonly SysReg TTBR0_EL1 = new(3, 0, 2, 0, 0);
    public static readonly SysReg TTBR1_EL1 = new(3, 0, 2, 0, 1);
    public static readonly SysReg TCR_EL1 = new(3, 0, 2, 0, 2);
    public static readonly SysReg SPSR_EL1 = new(3, 0, 4, 0, 0);
    public static readonly SysReg ELR_EL1 = new(3, 0, 4, 0, 1);
    public static readonly SysReg SP_EL0 = new(3, 0, 4, 1, 0);
    public static readonly SysReg DAIF = new(3, 3, 4, 2, 1);
    public static readonly SysReg CurrentEL = new(3, 0, 4, 2, 2);
    public static readonly SysReg ESR_EL1 = new(3, 0, 5, 2, 0);
    public static readonly SysReg FAR_EL1 = new(3, 0, 6, 0, 0);
    public static readonly SysReg PAR_EL1 = new(3, 0, 7, 4, 0);
    public static readonly SysReg MAIR_EL1 = new(3, 0, 10, 2, 0);
    public static readonly SysReg AMAIR_EL1 = new(3, 0, 10, 3, 0);
    public static readonly SysReg VBAR_EL1 = new(3, 0, 12, 0, 0);
    public static readonly SysReg ISR_EL1 = new(3, 0, 12, 1, 0);
    public static readonly SysReg CONTEXTIDR_EL1 = new(3, 0, 13, 0, 1);
    public static readonly SysReg TPIDR_EL1 = new(3, 0, 13, 0, 4);
    public static readonly SysReg TPIDR_EL0 = new(3, 3, 13, 0, 2);
    public static readonly SysReg TPIDRRO_EL0 = new(3, 3, 13, 0, 3);
    public static readonly SysReg CTR_EL0 = new(3, 3, 0, 0, 1);
    public static readonly SysReg DCZID_EL0 = new(3, 3, 0, 0, 7);
    public static readonly SysReg FPCR = new(3, 3, 4, 4, 0);
    public static readonly SysReg FPSR = new(3, 3, 4, 4, 1);

    private static readonly (SysReg Reg, string Name)[] Names =
    [
        (ICC_PMR_EL1, "ICC_PMR_EL1"), (ICC_IAR0_EL1, "ICC_IAR0_EL1"), (ICC_EOIR0_EL1, "ICC_EOIR0_EL1"),
        (ICC_HPPIR0_EL1, "ICC_HPPIR0_EL1"), (ICC_BPR0_EL1, "ICC_BPR0_EL1"), (ICC_AP0R0_EL1, "ICC_AP0R0_EL1"),
        (ICC_AP0R1_EL1, "ICC_AP0R1_EL1"), (ICC_AP0R2_EL1, "ICC_AP0R2_EL1"), (ICC_AP0R3_EL1, "ICC_AP0R3_EL1"),
        (ICC_AP1R0_EL1, "ICC_AP1R0_EL1"), (ICC_AP1R1_EL1, "ICC_AP1R1_EL1"), (ICC_AP1R2_EL1, "ICC_AP1R2_EL1"),
        (ICC_AP1R3_EL1, "ICC_AP1R3_EL1"), (ICC_DIR_EL1, "ICC_DIR_EL1"), (ICC_RPR_EL1, "ICC_RPR_EL1"),
        (ICC_SGI1R_EL1, "ICC_SGI1R_EL1"), (ICC_ASGI1R_EL1, "ICC_ASGI1R_EL1"), (ICC_SGI0R_EL1, "ICC_SGI0R_EL1"),
        (ICC_IAR1_EL1, "ICC_IAR1_EL1"), (ICC_EOIR1_EL1, "ICC_EOIR1_EL1"), (ICC_HPPIR1_EL1, "ICC_HPPIR1_EL1"),
        (ICC_BPR1_EL1, "ICC_BPR1_EL1"), (ICC_CTLR_EL1, "ICC_CTLR_EL1"), (ICC_SRE_EL1, "ICC_SRE_EL1"),
        (ICC_IGRPEN0_EL1, "ICC_IGRPEN0_EL1"), (ICC_IGRPEN1_EL1, "ICC_IGRPEN1_EL1"),
        (CNTKCTL_EL1, "CNTKCTL_EL1"), (CNTFRQ_EL0, "CNTFRQ_EL0"), (CNTPCT_EL0, "CNTPCT_EL0"),
        (CNTVCT_EL0, "CNTVCT_EL0"), (CNTPCTSS_EL0, "CNTPCTSS_EL0"), (CNTVCTSS_EL0, "CNTVCTSS_EL0"),
        (CNTP_TVAL_EL0, "CNTP_TVAL_EL0"), (CNTP_CTL_EL0, "CNTP_CTL_EL0"), (CNTP_CVAL_EL0, "CNTP_CVAL_EL0"),
        (CNTV_TVAL_EL0, "CNTV_TVAL_EL0"), (CNTV_CTL_EL0, "CNTV_CTL_EL0"), (CNTV_CVAL_EL0, "CNTV_CVAL_EL0"),
        (MIDR_EL1, "MIDR_EL1"), (MPIDR_EL1, "MPIDR_EL1"), (REVIDR_EL1, "REVIDR_EL1"),
        (ID_AA64PFR0_EL1, "ID_AA64PFR0_EL1"), (ID_AA64PFR1_EL1, "ID_AA64PFR1_EL1"),
        (ID_AA64DFR0_EL1, "ID_AA64DFR0_EL1"), (ID_AA64ISAR0_EL1, "ID_AA64ISAR0_EL1"),
        (ID_AA64ISAR1_EL1, "ID_AA64ISAR1_EL1"), (ID_AA64MMFR0_EL1, "ID_AA64MMFR0_EL1"),
        (ID_AA64MMFR1_EL1, "ID_AA64MMFR1_EL1"), (ID_AA64MMFR2_EL1, "ID_AA64MMFR2_EL1"),
        (SCTLR_EL1, "SCTLR_EL1"), (CPACR_EL1, "CPACR_EL1"), (TTBR0_EL1, "TTBR0_EL1"), (TTBR1_EL1, "TTBR1_EL1"),
        (TCR_EL1, "TCR_EL1"), (SPSR_EL1, "SPSR_EL1"), (ELR_EL1, "ELR_EL1"), (SP_EL0, "SP_EL0"), (DAIF, "DAIF"),
        (CurrentEL, "CurrentEL"), (ESR_EL1, "ESR_EL1"), (FAR_EL1, "FAR_EL1"), (PAR_EL1, "PAR_EL1"),
        (MAIR_EL1, "MAIR_EL1"), (AMAIR_EL1, "AMAIR_EL1"), (VBAR_EL1, "VBAR_EL1"), (ISR_EL1, "ISR_EL1"),
        (CONTEXTIDR_EL1, "CONTEXTIDR_EL1"), (TPIDR_EL1, "TPIDR_EL1"), (TPIDR_EL0, "TPIDR_EL0"),
        (TPIDRRO_EL0, "TPIDRRO_EL0"), (CTR_EL0, "CTR_EL0"), (DCZID_EL0, "DCZID_EL0"), (FPCR, "FPCR"),
        (FPSR, "FPSR"),
    ];

    /// <summary>The register an ESR_ELx ISS of EC 0x18 (trapped MSR/MRS/system instruction) names (Arm ARM D17.2.37).</summary>
    public static SysReg FromIss(uint iss) => new(
        (int)((iss >> 20) & 0x3),
        (int)((iss >> 14) & 0x7),
        (int)((iss >> 10) & 0xF),
        (int)((iss >> 1) & 0xF),
        (int)((iss >> 17) & 0x7));

    /// <summary>ISS field Rt[9:5] of an EC 0x18 syndrome.</summary>
    public static int IssRt(uint iss) => (int)((iss >> 5) & 0x1F);

    /// <summary>ISS field Direction[0] of an EC 0x18 syndrome: 1 is a read (MRS).</summary>
    public static bool IssIsRead(uint iss) => (iss & 1) != 0;

    /// <summary>
    /// The ISS of EC 0x18 for an access of this register through <paramref name="rt"/>: Op0[21:20], Op2[19:17],
    /// Op1[16:14], CRn[13:10], Rt[9:5], CRm[4:1], Direction[0] (1 = read, MRS).
    /// </summary>
    public uint ToIss(int rt, bool isRead) =>
        ((uint)(Op0 & 0x3) << 20)
        | ((uint)(Op2 & 0x7) << 17)
        | ((uint)(Op1 & 0x7) << 14)
        | ((uint)(CRn & 0xF) << 10)
        | ((uint)(rt & 0x1F) << 5)
        | ((uint)(CRm & 0xF) << 1)
        | (isRead ? 1u : 0u);

    /// <summary>
    /// Decodes an MRS or MSR (register) instruction (Arm ARM C6.2, "1101010100 L 1 o0 op1 CRn CRm op2 Rt"; op0 is
    /// 2 + o0). False for any other instruction (MSR immediate, SYS, hints have op0 0 or 1 and are not register moves).
    /// </summary>
    public static bool TryDecode(uint insn, out SysReg reg, out int rt, out bool isRead)
    {
        if ((insn & 0xFFD00000) != 0xD5100000)
        {
            reg = default;
            rt = 0;
            isRead = false;
            return false;
        }

        reg = new SysReg(
            2 + (int)((insn >> 19) & 1),
            (int)((insn >> 16) & 0x7),
            (int)((insn >> 12) & 0xF),
            (int)((insn >> 8) & 0xF),
            (int)((insn >> 5) & 0x7));
        rt = (int)(insn & 0x1F);
        isRead = (insn & (1u << 21)) != 0;
        return true;
    }

    /// <summary>The architectural name when this is a well-known register, else null.</summary>
    public string? Name
    {
        get
        {
            foreach ((SysReg reg, string name) in Names)
            {
                if (reg == this)
                {
                    return name;
                }
            }

            return null;
        }
    }

    /// <summary>"ICC_IAR1_EL1", or the generic assembler spelling "S3_0_C12_C12_0" for a register without a name.</summary>
    public override string ToString() => Name ?? $"S{Op0}_{Op1}_C{CRn}_C{CRm}_{Op2}";
}
