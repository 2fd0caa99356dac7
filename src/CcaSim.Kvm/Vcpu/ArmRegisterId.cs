namespace CcaSim.Kvm.Vcpu;

/// <summary>
/// arm64 KVM_{GET,SET}_ONE_REG register ids (include/uapi/linux/kvm.h, arch/arm64/include/uapi/asm/kvm.h):
/// arch[63:56] = KVM_REG_ARM64, size[55:52] = log2(bytes), coproc[27:16], and a coproc-specific index below.
/// Core registers are indexed by their offset in <c>struct kvm_regs</c> counted in 32-bit words.
/// </summary>
public static class ArmRegisterId
{
    public const ulong Arm64 = 0x6000_0000_0000_0000;
    public const ulong ArchMask = 0xFF00_0000_0000_0000;

    public const int SizeShift = 52;
    public const ulong SizeMask = 0x00F0_0000_0000_0000;
    public const ulong SizeU8 = 0x0000_0000_0000_0000;
    public const ulong SizeU16 = 0x0010_0000_0000_0000;
    public const ulong SizeU32 = 0x0020_0000_0000_0000;
    public const ulong SizeU64 = 0x0030_0000_0000_0000;
    public const ulong SizeU128 = 0x0040_0000_0000_0000;
    public const ulong SizeU256 = 0x0050_0000_0000_0000;
    public const ulong SizeU512 = 0x0060_0000_0000_0000;
    public const ulong SizeU1024 = 0x0070_0000_0000_0000;
    public const ulong SizeU2048 = 0x0080_0000_0000_0000;

    public const int CoprocShift = 16;
    public const ulong CoprocMask = 0x0000_0000_0FFF_0000;

    /// <summary>KVM_REG_ARM_CORE: <c>struct kvm_regs</c> by word offset.</summary>
    public const ulong Core = 0x0010UL << CoprocShift;

    /// <summary>KVM_REG_ARM_DEMUX (CCSIDR); never listed for realms (kvm-realm-abi.md §2.9), not modelled.</summary>
    public const ulong Demux = 0x0011UL << CoprocShift;

    /// <summary>KVM_REG_ARM64_SYSREG: op0/op1/CRn/CRm/op2.</summary>
    public const ulong SysReg = 0x0013UL << CoprocShift;

    /// <summary>KVM_REG_ARM_FW: KVM-as-firmware pseudo-registers.</summary>
    public const ulong Firmware = 0x0014UL << CoprocShift;

    /// <summary>KVM_REG_ARM64_SVE.</summary>
    public const ulong Sve = 0x0015UL << CoprocShift;

    /// <summary>KVM_REG_ARM_FW_FEAT_BMAP.</summary>
    public const ulong FirmwareFeatureBitmap = 0x0016UL << CoprocShift;

    private const int SysRegOp0Shift = 14;
    private const int SysRegOp1Shift = 11;
    private const int SysRegCrnShift = 7;
    private const int SysRegCrmShift = 3;

    /// <summary>ARM64_SYS_REG(op0, op1, crn, crm, op2): always 64-bit.</summary>
    public static ulong SysRegId(int op0, int op1, int crn, int crm, int op2) =>
        Arm64 | SizeU64 | SysReg
        | (((ulong)op0 << SysRegOp0Shift) & 0xC000)
        | (((ulong)op1 << SysRegOp1Shift) & 0x3800)
        | (((ulong)crn << SysRegCrnShift) & 0x0780)
        | (((ulong)crm << SysRegCrmShift) & 0x0078)
        | ((ulong)op2 & 0x0007);

    /// <summary>ID_AA64DFR0_EL1 = ARM64_SYS_REG(3, 0, 0, 5, 0): VM-wide; its BRPs/WRPs/CTX_CMPs configure a realm (§2.9).</summary>
    public static readonly ulong IdAa64Dfr0El1 = SysRegId(3, 0, 0, 5, 0);

    /// <summary>PMCR_EL0 = ARM64_SYS_REG(3, 3, 9, 12, 0): its N field sets a realm's PMU counter count (§2.9).</summary>
    public static readonly ulong PmcrEl0 = SysRegId(3, 3, 9, 12, 0);

    /// <summary>KVM_REG_ARM_PSCI_VERSION = KVM_REG_ARM_FW_REG(0).</summary>
    public const ulong PsciVersion = Arm64 | SizeU64 | Firmware | 0;

    /// <summary>KVM_REG_ARM64_SVE_VLS: the 512-bit bitmap of vector lengths (in quadwords) the vCPU offers.</summary>
    public const ulong SveVls = Arm64 | Sve | SizeU512 | 0xFFFF;

    /// <summary>KVM_REG_ARM64_SVE_ZREG(n, slice): 2048-bit.</summary>
    public static ulong SveZReg(int n, int slice) => Arm64 | Sve | SizeU2048 | ((ulong)(uint)(n & 31) << 5) | (uint)(slice & 31);

    /// <summary>KVM_REG_ARM64_SVE_PREG(n, slice): 256-bit.</summary>
    public static ulong SvePReg(int n, int slice) => Arm64 | Sve | 0x400UL | SizeU256 | ((ulong)(uint)(n & 15) << 5) | (uint)(slice & 31);

    /// <summary>KVM_REG_ARM64_SVE_FFR(slice): 256-bit.</summary>
    public static ulong SveFfr(int slice) => Arm64 | Sve | 0x600UL | SizeU256 | (uint)(slice & 31);

    /// <summary>A KVM_REG_ARM_CORE id: KVM_REG_ARM_CORE_REG(field) is the field's byte offset in <c>struct kvm_regs</c> / 4.</summary>
    public static ulong CoreReg(int wordOffset, ulong size) => Arm64 | size | Core | (ulong)(uint)wordOffset;

    public static ulong X(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(n, 30);
        return CoreReg(CoreOffset.X0 + (2 * n), SizeU64);
    }

    public static ulong Sp => CoreReg(CoreOffset.Sp, SizeU64);

    public static ulong Pc => CoreReg(CoreOffset.Pc, SizeU64);

    public static ulong Pstate => CoreReg(CoreOffset.Pstate, SizeU64);

    public static ulong SpEl1 => CoreReg(CoreOffset.SpEl1, SizeU64);

    public static ulong ElrEl1 => CoreReg(CoreOffset.ElrEl1, SizeU64);

    public static ulong Spsr(int i)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(i);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(i, CoreOffset.SpsrCount);
        return CoreReg(CoreOffset.Spsr0 + (2 * i), SizeU64);
    }

    public static ulong V(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(n, 31);
        return CoreReg(CoreOffset.V0 + (4 * n), SizeU128);
    }

    public static ulong Fpsr => CoreReg(CoreOffset.Fpsr, SizeU32);

    public static ulong Fpcr => CoreReg(CoreOffset.Fpcr, SizeU32);

    /// <summary>KVM_REG_SIZE(id): the value size in bytes the id's size field encodes.</summary>
    public static int SizeInBytes(ulong id) => 1 << (int)((id & SizeMask) >> SizeShift);

    public static ulong Coproc(ulong id) => id & CoprocMask;

    /// <summary>What remains of a core id once arch, size and coproc are stripped (core_reg_offset_from_id).</summary>
    public static ulong CoreOffsetOf(ulong id) => id & ~(ArchMask | SizeMask | CoprocMask);

    /// <summary>
    /// kvm_arm_{get,set}_reg's first test: bits [63:32] other than the size field must be KVM_REG_ARM64's, else
    /// -EINVAL before any lookup.
    /// </summary>
    public static bool HasArm64Prefix(ulong id) => (id & ~SizeMask) >> 32 == Arm64 >> 32;
}

/// <summary>
/// Word offsets of the <c>struct kvm_regs</c> fields: user_pt_regs (regs[31], sp, pc, pstate) at 0, sp_el1 at
/// 272 B, elr_el1 at 280, spsr[5] at 288, then user_fpsimd_state 16-byte aligned at 336 (vregs[32], fpsr at 848,
/// fpcr at 852, two reserved words); 864 bytes in all.
/// </summary>
public static class CoreOffset
{
    public const int X0 = 0;
    public const int Sp = 62;
    public const int Pc = 64;
    public const int Pstate = 66;
    public const int SpEl1 = 68;
    public const int ElrEl1 = 70;
    public const int Spsr0 = 72;
    public const int SpsrCount = 5;
    public const int V0 = 84;
    public const int Fpsr = 212;
    public const int Fpcr = 213;

    /// <summary>sizeof(struct kvm_regs) / 4.</summary>
    public const int KvmRegsWords = 216;
}
