using System.Runtime.CompilerServices;

namespace CcaSim.Kvm.Uapi;

/// <summary>
/// ioctl request numbers of /dev/kvm, VM and vCPU fds (kvm-realm-abi.md §2.1). Encoded with the asm-generic
/// _IOC layout arm64 uses — dir[31:30] (1 write, 2 read), size[29:16], type[15:8], nr[7:0] — and derived from
/// the C# structure sizes, so a layout mistake in a UAPI struct changes the number and fails a test
/// against the spec's literal values.
/// </summary>
public static class KvmIoctl
{
    /// <summary>KVMIO, the ioctl type byte of every KVM request.</summary>
    public const byte Type = 0xAE;

    private const uint DirNone = 0;
    private const uint DirWrite = 1;
    private const uint DirRead = 2;

    public static uint Io(byte nr) => Encode(DirNone, nr, 0);

    public static uint Iow<T>(byte nr)
        where T : unmanaged => Encode(DirWrite, nr, Unsafe.SizeOf<T>());

    public static uint Iowr<T>(byte nr)
        where T : unmanaged => Encode(DirWrite | DirRead, nr, Unsafe.SizeOf<T>());

    /// <summary>Direction bits [31:30] of a request.</summary>
    public static uint Direction(uint request) => request >> 30;

    /// <summary>Argument size bits [29:16] of a request: how many bytes the kernel copies in or out.</summary>
    public static int ArgumentSize(uint request) => (int)((request >> 16) & 0x3FFF);

    public static byte Number(uint request) => (byte)request;

    private static uint Encode(uint dir, byte nr, int size) => (dir << 30) | ((uint)size << 16) | ((uint)Type << 8) | nr;

    // /dev/kvm and VM fd, generic.
    public static readonly uint CreateVm = Io(0x01);
    public static readonly uint CheckExtension = Io(0x03);
    public static readonly uint CreateVcpu = Io(0x41);

    /// <summary>KVM_SET_USER_MEMORY_REGION (v1, 32-byte struct): needed to reject v2-only flags on the v1 ioctl (§4.2).</summary>
    public static readonly uint SetUserMemoryRegion = Iow<KvmUserspaceMemoryRegion>(0x46);

    /// <summary>KVM_SET_USER_MEMORY_REGION2 = 0x40A0AE49.</summary>
    public static readonly uint SetUserMemoryRegion2 = Iow<KvmUserspaceMemoryRegion2>(0x49);

    public static readonly uint Run = Io(0x80);

    /// <summary>KVM_SET_MEMORY_ATTRIBUTES = 0x4020AED2.</summary>
    public static readonly uint SetMemoryAttributes = Iow<KvmMemoryAttributes>(0xd2);

    /// <summary>KVM_CREATE_GUEST_MEMFD = 0xC040AED4.</summary>
    public static readonly uint CreateGuestMemfd = Iowr<KvmCreateGuestMemfd>(0xd4);

    // Arm CCA (v12).

    /// <summary>KVM_ARM_VCPU_RMI_PSCI_COMPLETE = 0x4018AED6, vCPU fd.</summary>
    public static readonly uint ArmVcpuRmiPsciComplete = Iow<KvmArmRmiPsciComplete>(0xd6);

    /// <summary>KVM_ARM_RMI_POPULATE = 0x4020AED7 in v12 (write-only: the struct is not updated, §2.6).</summary>
    public static readonly uint ArmRmiPopulate = Iow<KvmArmRmiPopulate>(0xd7);

    /// <summary>KVM_ARM_RMI_POPULATE from v13 on = 0xC020AED7 (in/out: the kernel advances the struct).</summary>
    public static readonly uint ArmRmiPopulateV13 = Iowr<KvmArmRmiPopulate>(0xd7);
}
