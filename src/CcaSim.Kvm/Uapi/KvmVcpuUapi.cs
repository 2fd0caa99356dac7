using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CcaSim.Kvm.Uapi;

// The arm64 vCPU structures of the KVM uAPI (arch/arm64/include/uapi/asm/kvm.h and include/uapi/linux/kvm.h of the
// 6.6 tree the v12 series is backported to), in the style of KvmStructs.cs: sequential, explicit padding, so
// Unsafe.SizeOf<T>() is the size the ioctl number encodes.

/// <summary><c>struct kvm_vcpu_init</c> (32 B): argument of KVM_ARM_VCPU_INIT and result of KVM_ARM_PREFERRED_TARGET.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmVcpuInit
{
    /// <summary>Must be <see cref="KvmArmTarget.GenericV8"/>, the only target a 6.6 host reports.</summary>
    public uint Target;

    /// <summary>Word 0 holds the <see cref="KvmVcpuFeature"/> bits; words 1..6 must be zero.</summary>
    public UInt32x7 Features;
}

/// <summary><c>struct kvm_one_reg</c> (16 B): argument of KVM_GET_ONE_REG / KVM_SET_ONE_REG.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmOneReg
{
    /// <summary>The register id (<c>ArmRegisterId</c>); its size field says how many bytes live at <see cref="Addr"/>.</summary>
    public ulong Id;

    /// <summary>VMM address of the value buffer.</summary>
    public ulong Addr;
}

/// <summary>
/// The fixed header of <c>struct kvm_reg_list</c> (8 B; a flexible <c>__u64 reg[]</c> follows). KVM_GET_REG_LIST's
/// ioctl number encodes only this header, which is why it is 0xC008AEB0 whatever the list length.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmRegListHeader
{
    /// <summary>In: capacity of the <c>reg[]</c> array. Out: the number of registers the vCPU has.</summary>
    public ulong N;
}

/// <summary>arm64 <c>struct kvm_vcpu_events</c> (64 B): argument of KVM_GET_VCPU_EVENTS / KVM_SET_VCPU_EVENTS.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmVcpuEvents
{
    public byte SerrorPending;
    public byte SerrorHasEsr;
    public byte ExtDabtPending;

    /// <summary>Aligns <see cref="SerrorEsr"/> to 8; KVM_SET_VCPU_EVENTS rejects a nonzero byte with -EINVAL.</summary>
    public UInt8x5 Pad;
    public ulong SerrorEsr;

    /// <summary>Must be zero on KVM_SET_VCPU_EVENTS (-EINVAL otherwise).</summary>
    public UInt32x12 Reserved;
}

/// <summary>
/// <c>struct reg_mask_range</c> (64 B): argument of KVM_ARM_GET_REG_WRITABLE_MASKS on a VM fd. The kernel writes one
/// u64 mask per feature ID register of the range to <see cref="Addr"/>.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmRegMaskRange
{
    /// <summary>VMM address of a <see cref="KvmArmFeatureIdRange.Size"/>-entry u64 array.</summary>
    public ulong Addr;

    /// <summary>Must be <see cref="KvmArmFeatureIdRange.Range"/> (the only range there is), else -EINVAL.</summary>
    public uint Range;

    /// <summary>Must be zero (-EINVAL otherwise).</summary>
    public UInt32x13 Reserved;
}

/// <summary>KVM_ARM_FEATURE_ID_RANGE: op0 3, op1 {0, 1, 3}, CRn 0, CRm 0–7, op2 0–7.</summary>
public static class KvmArmFeatureIdRange
{
    public const uint Range = 0;

    /// <summary>KVM_ARM_FEATURE_ID_RANGE_SIZE: 3 op1 values × 8 CRm × 8 op2.</summary>
    public const int Size = 3 * 8 * 8;

    /// <summary>KVM_ARM_FEATURE_ID_RANGE_IDX: op1 3 folds onto 2, then op1:CRm:op2.</summary>
    public static int Index(int op1, int crm, int op2)
    {
        int folded = op1 & 3;
        folded -= folded == 3 ? 1 : 0;
        return (folded << 6) | ((crm & 7) << 3) | (op2 & 7);
    }
}

/// <summary><c>__u8[5]</c>.</summary>
[InlineArray(5)]
public struct UInt8x5
{
    private byte _element;
}

/// <summary><c>__u32[7]</c>.</summary>
[InlineArray(7)]
public struct UInt32x7
{
    private uint _element;
}

/// <summary><c>__u32[13]</c>.</summary>
[InlineArray(13)]
public struct UInt32x13
{
    private uint _element;
}

/// <summary><c>__u32[12]</c>.</summary>
[InlineArray(12)]
public struct UInt32x12
{
    private uint _element;
}

/// <summary><c>KVM_ARM_TARGET_*</c>: the values <see cref="KvmVcpuInit.Target"/> may carry.</summary>
public static class KvmArmTarget
{
    /// <summary>KVM_ARM_TARGET_GENERIC_V8: what KVM_ARM_PREFERRED_TARGET returns on every 6.6 host.</summary>
    public const uint GenericV8 = 5;
}

/// <summary>
/// <c>KVM_ARM_VCPU_*</c> feature numbers: bit positions in <c>kvm_vcpu_init.features[0]</c>, and the
/// <c>what</c> argument of KVM_ARM_VCPU_FINALIZE. v12 has no REC feature (kvm-realm-abi.md §2.1).
/// </summary>
public static class KvmVcpuFeature
{
    /// <summary>Start the vCPU powered off; ephemeral, never part of the recorded feature set.</summary>
    public const int PowerOff = 0;
    public const int El1Aarch32 = 1;
    public const int Psci02 = 2;
    public const int PmuV3 = 3;
    public const int Sve = 4;
    public const int PtrAuthAddress = 5;
    public const int PtrAuthGeneric = 6;

    /// <summary>Defined in the 6.6 uAPI header but beyond that kernel's KVM_VCPU_MAX_FEATURES (7), so INIT rejects it.</summary>
    public const int HasEl2 = 7;

    /// <summary>KVM_VCPU_MAX_FEATURES of the 6.6 tree: bits at or above it are unknown to KVM_ARM_VCPU_INIT.</summary>
    public const int MaxFeatures = 7;

    public static uint Bit(int feature) => 1u << feature;
}

/// <summary><c>struct kvm_arm_counter_offset</c> (16 B), argument of KVM_ARM_SET_COUNTER_OFFSET on a VM fd.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmArmCounterOffset
{
    /// <summary>Subtracted from the physical counter for both the virtual and the physical view of every vCPU.</summary>
    public ulong CounterOffset;

    /// <summary>Must be zero (-EINVAL otherwise).</summary>
    public ulong Reserved;
}

/// <summary>
/// vCPU-fd ioctl numbers for the arm64 register ABI, derived from the structure sizes like <see cref="KvmIoctl"/>
/// (which has no _IOR helper, hence <see cref="Ior{T}"/> here).
/// </summary>
public static class KvmVcpuIoctl
{
    private const uint DirRead = 2;

    public static uint Ior<T>(byte nr)
        where T : unmanaged => (DirRead << 30) | ((uint)Unsafe.SizeOf<T>() << 16) | ((uint)KvmIoctl.Type << 8) | nr;

    /// <summary>KVM_ARM_VCPU_INIT = 0x4020AEAE.</summary>
    public static readonly uint ArmVcpuInit = KvmIoctl.Iow<KvmVcpuInit>(0xae);

    /// <summary>KVM_ARM_PREFERRED_TARGET = 0x8020AEAF, VM fd.</summary>
    public static readonly uint ArmPreferredTarget = Ior<KvmVcpuInit>(0xaf);

    /// <summary>KVM_GET_ONE_REG = 0x4010AEAB: _IOW although it writes the value, because only the id/addr pair is copied in.</summary>
    public static readonly uint GetOneReg = KvmIoctl.Iow<KvmOneReg>(0xab);

    /// <summary>KVM_SET_ONE_REG = 0x4010AEAC.</summary>
    public static readonly uint SetOneReg = KvmIoctl.Iow<KvmOneReg>(0xac);

    /// <summary>KVM_GET_REG_LIST = 0xC008AEB0.</summary>
    public static readonly uint GetRegList = KvmIoctl.Iowr<KvmRegListHeader>(0xb0);

    /// <summary>KVM_GET_VCPU_EVENTS = 0x8040AE9F.</summary>
    public static readonly uint GetVcpuEvents = Ior<KvmVcpuEvents>(0x9f);

    /// <summary>KVM_SET_VCPU_EVENTS = 0x4040AEA0.</summary>
    public static readonly uint SetVcpuEvents = KvmIoctl.Iow<KvmVcpuEvents>(0xa0);

    /// <summary>KVM_ARM_SET_COUNTER_OFFSET = 0x4010AEB5, VM fd.</summary>
    public static readonly uint ArmSetCounterOffset = KvmIoctl.Iow<KvmArmCounterOffset>(0xb5);

    /// <summary>KVM_ARM_GET_REG_WRITABLE_MASKS = 0x8040AEB6, VM fd.</summary>
    public static readonly uint ArmGetRegWritableMasks = Ior<KvmRegMaskRange>(0xb6);

    /// <summary>KVM_ARM_VCPU_FINALIZE = 0x4004AEC2; the argument is an <c>int</c> feature number.</summary>
    public static readonly uint ArmVcpuFinalize = KvmIoctl.Iow<int>(0xc2);
}

/// <summary><c>struct kvm_enable_cap</c>: argument of KVM_ENABLE_CAP (the 64 bytes of padding are not modelled).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmEnableCap
{
    public uint Cap;

    /// <summary>Must be zero on arm64 VM fds.</summary>
    public uint Flags;

    public ulong Arg0;

    public ulong Arg1;

    public ulong Arg2;

    public ulong Arg3;
}
