using System.Runtime.InteropServices;

namespace CcaSim.Kvm.Uapi;

// The device-control and interrupt-line UAPI a VMM uses to build the in-kernel GICv3 a realm requires
// (kvm-realm-abi.md §2.8, §2.16): include/uapi/linux/kvm.h for the structures, ioctls and device types,
// arch/arm64/include/uapi/asm/kvm.h for the vGIC attribute groups and the KVM_IRQ_LINE irq encoding.

/// <summary><c>struct kvm_create_device</c> (12 B), argument of KVM_CREATE_DEVICE on a VM fd.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmCreateDevice
{
    /// <summary>In: <see cref="KvmDeviceType"/>.</summary>
    public uint Type;

    /// <summary>Out: the new device fd.</summary>
    public uint Fd;

    /// <summary>In: <see cref="KvmCreateDeviceOptions"/>.</summary>
    public uint Flags;
}

/// <summary><c>struct kvm_device_attr</c> (24 B), argument of KVM_{SET,GET,HAS}_DEVICE_ATTR on a device fd.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmDeviceAttr
{
    /// <summary>No flag is defined; the kernel does not look at it.</summary>
    public uint Flags;
    public uint Group;
    public ulong Attr;

    /// <summary>Userspace address of the attribute's data (a u64 for addresses, a u32 for NR_IRQS).</summary>
    public ulong Addr;
}

/// <summary><c>struct kvm_irq_level</c> (8 B), argument of KVM_IRQ_LINE; <see cref="Irq"/> is encoded by <see cref="KvmArmIrqLine"/>.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmIrqLevel
{
    /// <summary>The <c>irq</c> member of the <c>irq</c>/<c>status</c> union.</summary>
    public uint Irq;
    public uint Level;
}

/// <summary><c>enum kvm_device_type</c> values the arm64 model cares about (FSL_MPIC_20 = 1 starts the enum).</summary>
public enum KvmDeviceType : uint
{
    ArmVgicV2 = 5,
    ArmVgicV3 = 7,
    ArmVgicIts = 8,
}

/// <summary><c>kvm_create_device.flags</c>.</summary>
[Flags]
public enum KvmCreateDeviceOptions : uint
{
    None = 0,

    /// <summary>KVM_CREATE_DEVICE_TEST: only report whether the type exists; nothing is created.</summary>
    Test = 1,
}

/// <summary>Device-fd and VM-fd ioctls for in-kernel devices and interrupt lines, encoded like <see cref="KvmIoctl"/>.</summary>
public static class KvmDeviceIoctl
{
    /// <summary>KVM_CREATE_DEVICE = 0xC00CAEE0, VM fd.</summary>
    public static readonly uint CreateDevice = KvmIoctl.Iowr<KvmCreateDevice>(0xe0);

    /// <summary>KVM_SET_DEVICE_ATTR = 0x4018AEE1, device fd.</summary>
    public static readonly uint SetDeviceAttr = KvmIoctl.Iow<KvmDeviceAttr>(0xe1);

    /// <summary>KVM_GET_DEVICE_ATTR = 0x4018AEE2: declared _IOW although it writes through <c>addr</c>.</summary>
    public static readonly uint GetDeviceAttr = KvmIoctl.Iow<KvmDeviceAttr>(0xe2);

    /// <summary>KVM_HAS_DEVICE_ATTR = 0x4018AEE3, device fd.</summary>
    public static readonly uint HasDeviceAttr = KvmIoctl.Iow<KvmDeviceAttr>(0xe3);

    /// <summary>KVM_IRQ_LINE = 0x4008AE61, VM fd.</summary>
    public static readonly uint IrqLine = KvmIoctl.Iow<KvmIrqLevel>(0x61);
}

/// <summary>The arm64 "Device Control API: ARM VGIC" attribute groups and attributes used with a GICv3 device.</summary>
public static class KvmVgicAttr
{
    public const uint GroupAddr = 0;
    public const uint GroupDistRegs = 1;
    public const uint GroupCpuRegs = 2;
    public const uint GroupNrIrqs = 3;
    public const uint GroupCtrl = 4;
    public const uint GroupRedistRegs = 5;
    public const uint GroupCpuSysregs = 6;
    public const uint GroupLevelInfo = 7;

    // GroupAddr attributes (KVM_VGIC_V2_ADDR_TYPE_* are 0 and 1).
    public const ulong AddrTypeV2Dist = 0;
    public const ulong AddrTypeV2Cpu = 1;
    public const ulong AddrTypeV3Dist = 2;
    public const ulong AddrTypeV3Redist = 3;
    public const ulong AddrTypeIts = 4;
    public const ulong AddrTypeV3RedistRegion = 5;

    // GroupCtrl attributes.
    public const ulong CtrlInit = 0;
    public const ulong CtrlSavePendingTables = 3;

    /// <summary>KVM_VGIC_V3_DIST_SIZE: one 64 KiB GICD frame.</summary>
    public const ulong V3DistSize = 0x1_0000;

    /// <summary>KVM_VGIC_V3_REDIST_SIZE: RD_base + SGI_base, 2 × 64 KiB per vCPU.</summary>
    public const ulong V3RedistSize = 0x2_0000;
}

/// <summary>
/// The VM-fd device attributes of arm64 (KVM_{SET,HAS}_DEVICE_ATTR on a VM fd, kvm_vm_set_attr / kvm_vm_has_attr):
/// one group, KVM_ARM_VM_SMCCC_CTRL, with one attribute, the write-only KVM_ARM_VM_SMCCC_FILTER.
/// </summary>
public static class KvmArmVmAttr
{
    public const uint GroupSmcccCtrl = 0;
    public const ulong SmcccFilter = 0;
}

/// <summary>
/// The arm64 KVM_IRQ_LINE <c>irq</c> word: vcpu2_index[31:28], irq_type[27:24], vcpu_index[23:16], irq_id[15:0].
/// The vCPU index is vcpu2_index × 256 + vcpu_index, so 4096 vCPUs are addressable.
/// </summary>
public static class KvmArmIrqLine
{
    public const int Vcpu2Shift = 28;
    public const uint Vcpu2Mask = 0xf;
    public const int TypeShift = 24;
    public const uint TypeMask = 0xf;
    public const int VcpuShift = 16;
    public const uint VcpuMask = 0xff;
    public const int NumShift = 0;
    public const uint NumMask = 0xffff;

    /// <summary>KVM_ARM_IRQ_TYPE_CPU: the IRQ/FIQ pins of a vCPU, only without an in-kernel irqchip.</summary>
    public const uint TypeCpu = 0;

    /// <summary>KVM_ARM_IRQ_TYPE_SPI: a shared interrupt, INTID ≥ 32, vCPU fields ignored.</summary>
    public const uint TypeSpi = 1;

    /// <summary>KVM_ARM_IRQ_TYPE_PPI: a private interrupt 16..31 of the vCPU named by the index fields.</summary>
    public const uint TypePpi = 2;

    public static uint Encode(uint type, int vcpuIndex, uint num)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(vcpuIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(vcpuIndex, (int)(((Vcpu2Mask + 1) * (VcpuMask + 1)) - 1));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(type, TypeMask);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(num, NumMask);
        uint index = (uint)vcpuIndex;
        return ((index / (VcpuMask + 1)) << Vcpu2Shift) | (type << TypeShift) | ((index % (VcpuMask + 1)) << VcpuShift) | (num << NumShift);
    }

    public static uint Type(uint irq) => (irq >> TypeShift) & TypeMask;

    public static int VcpuIndex(uint irq) => (int)((((irq >> Vcpu2Shift) & Vcpu2Mask) * (VcpuMask + 1)) + ((irq >> VcpuShift) & VcpuMask));

    public static uint Number(uint irq) => (irq >> NumShift) & NumMask;
}
