using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CcaSim.Kvm.Uapi;

// The UAPI structures of kvm-realm-abi.md §2.1, field for field: little-endian, natural alignment, explicit
// padding so that Unsafe.SizeOf<T>() is the size encoded in the ioctl number. Fields are public and mutable
// because these are wire images a VMM fills in, not model state.

/// <summary><c>struct kvm_arm_rmi_psci_complete</c> (24 B), argument of KVM_ARM_VCPU_RMI_PSCI_COMPLETE (§2.15).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmArmRmiPsciComplete
{
    public ulong TargetMpidr;
    public uint PsciStatus;
    public UInt32x3 Padding;
}

/// <summary><c>struct kvm_arm_rmi_populate</c> (32 B), argument of KVM_ARM_RMI_POPULATE (§2.6).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmArmRmiPopulate
{
    public ulong Base;
    public ulong Size;
    public ulong SourceUaddr;

    /// <summary>Bit 0 MEASURE (<see cref="KvmArmRmiPopulateFlags"/>); any other bit is -EINVAL.</summary>
    public uint Flags;

    /// <summary>Must be zero (-EINVAL otherwise).</summary>
    public uint Reserved;
}

/// <summary><c>struct kvm_userspace_memory_region</c> (32 B), the v1 memslot ioctl, kept to reject v2-only flags (§4.2).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmUserspaceMemoryRegion
{
    public uint Slot;
    public uint Flags;
    public ulong GuestPhysAddr;
    public ulong MemorySize;
    public ulong UserspaceAddr;
}

/// <summary><c>struct kvm_userspace_memory_region2</c> (160 B), argument of KVM_SET_USER_MEMORY_REGION2 (§4.2).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmUserspaceMemoryRegion2
{
    public uint Slot;

    /// <summary><see cref="KvmMemoryRegionOptions"/>.</summary>
    public uint Flags;
    public ulong GuestPhysAddr;
    public ulong MemorySize;
    public ulong UserspaceAddr;

    /// <summary>Byte offset into the guest_memfd; the slot's <c>gmem.pgoff</c> is this / 4096 (§5.1).</summary>
    public ulong GuestMemfdOffset;
    public uint GuestMemfd;
    public uint Pad1;
    public UInt64x14 Pad2;
}

/// <summary><c>struct kvm_memory_attributes</c> (32 B), argument of KVM_SET_MEMORY_ATTRIBUTES (§4.3).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmMemoryAttributes
{
    public ulong Address;
    public ulong Size;
    public ulong Attributes;
    public ulong Flags;
}

/// <summary><c>struct kvm_create_guest_memfd</c> (64 B), argument of KVM_CREATE_GUEST_MEMFD (§4.1).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmCreateGuestMemfd
{
    /// <summary>Bytes; the kernel reads it as a signed <c>loff_t</c>, so values with bit 63 set are "≤ 0".</summary>
    public ulong Size;
    public ulong Flags;
    public UInt64x6 Reserved;
}

/// <summary>The <c>memory_fault</c> member of <c>kvm_run</c>'s exit union (24 B), filled for KVM_EXIT_MEMORY_FAULT (§4.4).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmRunMemoryFault
{
    /// <summary><see cref="KvmMemoryExitFlag"/>.</summary>
    public ulong Flags;
    public ulong Gpa;
    public ulong Size;
}

/// <summary><c>__u32[3]</c>.</summary>
[InlineArray(3)]
public struct UInt32x3
{
    private uint _element;
}

/// <summary><c>__u8[15]</c>.</summary>
[InlineArray(15)]
public struct UInt8x15
{
    private byte _element;
}

/// <summary><c>__u64[6]</c>.</summary>
[InlineArray(6)]
public struct UInt64x6
{
    private ulong _element;
}

/// <summary><c>__u64[14]</c>.</summary>
[InlineArray(14)]
public struct UInt64x14
{
    private ulong _element;
}

/// <summary>
/// Copies UAPI structures in and out of the byte images an ioctl argument occupies in VMM memory. A short
/// buffer is the model's copy_from_user/copy_to_user failure: -EFAULT.
/// </summary>
public static class UapiMarshal
{
    public static KvmResult<T> Read<T>(ReadOnlySpan<byte> source)
        where T : unmanaged
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("the UAPI images are little-endian; the model runs on little-endian hosts only");
        }

        return source.Length < Unsafe.SizeOf<T>() ? Errno.EFAULT : KvmResult<T>.Ok(MemoryMarshal.Read<T>(source));
    }

    public static KvmResult Write<T>(Span<byte> destination, in T value)
        where T : unmanaged
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("the UAPI images are little-endian; the model runs on little-endian hosts only");
        }

        if (destination.Length < Unsafe.SizeOf<T>())
        {
            return Errno.EFAULT;
        }

        T copy = value;
        MemoryMarshal.Write(destination, in copy);
        return KvmResult.Success;
    }
}
