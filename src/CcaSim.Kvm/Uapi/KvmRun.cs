using System.Buffers.Binary;

namespace CcaSim.Kvm.Uapi;

/// <summary>
/// The <c>struct kvm_run</c> page a VMM maps from a vCPU fd, in its arm64 byte layout: the header, the exit union
/// at offset 32 (256 bytes) and the rest of the page. The VMM and KVM share the bytes; the properties are views
/// at the kernel's offsets, so a VMM reads exits exactly where C code would.
/// </summary>
public sealed class KvmRun
{
    /// <summary>KVM_GET_VCPU_MMAP_SIZE on arm64: the run page plus the coalesced-MMIO ring page.</summary>
    public const int MmapSize = 2 * 4096;

    private const int ImmediateExitOffset = 1;
    private const int ExitReasonOffset = 8;
    private const int Union = 32;

    public KvmRun() => Bytes = new byte[MmapSize];

    /// <summary>The mapped bytes.</summary>
    public byte[] Bytes { get; }

    public bool ImmediateExit
    {
        get => Bytes[ImmediateExitOffset] != 0;
        set => Bytes[ImmediateExitOffset] = value ? (byte)1 : (byte)0;
    }

    public KvmExitReason ExitReason
    {
        get => (KvmExitReason)U32(ExitReasonOffset);
        internal set => SetU32(ExitReasonOffset, (uint)value);
    }

    // exit union: mmio { u64 phys_addr; u8 data[8]; u32 len; u8 is_write; }
    public ulong MmioPhysAddr => U64(Union);

    public Span<byte> MmioData => Bytes.AsSpan(Union + 8, 8);

    public uint MmioLen => U32(Union + 16);

    public bool MmioIsWrite => Bytes[Union + 20] != 0;

    internal void SetMmio(ulong physAddr, int length, bool isWrite, ulong data)
    {
        ClearUnion();
        SetU64(Union, physAddr);
        BinaryPrimitives.WriteUInt64LittleEndian(MmioData, data);
        SetU32(Union + 16, (uint)length);
        Bytes[Union + 20] = isWrite ? (byte)1 : (byte)0;
    }

    // hypercall { u64 nr; u64 args[6]; u64 ret; union { u32 longmode; u64 flags; } }
    public ulong HypercallNr => U64(Union);

    public ulong HypercallArg(int i) => U64(Union + 8 + (8 * i));

    public ulong HypercallRet
    {
        get => U64(Union + 56);
        set => SetU64(Union + 56, value);
    }

    public ulong HypercallFlags => U64(Union + 64);

    internal void SetHypercall(ulong nr, ulong flags)
    {
        ClearUnion();
        SetU64(Union, nr);
        SetU64(Union + 64, flags);
    }

    // system_event { u32 type; u32 ndata; u64 data[16]; }
    public uint SystemEventType => U32(Union);

    public uint SystemEventNdata => U32(Union + 4);

    public ulong SystemEventData(int i) => U64(Union + 8 + (8 * i));

    internal void SetSystemEvent(uint type, ulong flags)
    {
        ClearUnion();
        SetU32(Union, type);
        SetU32(Union + 4, 1);
        SetU64(Union + 8, flags);
    }

    // arm_nisv { u64 esr_iss; u64 fault_ipa; }
    public ulong ArmNisvEsrIss => U64(Union);

    public ulong ArmNisvFaultIpa => U64(Union + 8);

    internal void SetArmNisv(ulong esrIss, ulong faultIpa)
    {
        ClearUnion();
        SetU64(Union, esrIss);
        SetU64(Union + 8, faultIpa);
    }

    // memory_fault { u64 flags; u64 gpa; u64 size; }
    public KvmRunMemoryFault MemoryFault => new() { Flags = U64(Union), Gpa = U64(Union + 8), Size = U64(Union + 16) };

    internal void SetMemoryFault(ulong flags, ulong gpa, ulong size)
    {
        ClearUnion();
        SetU64(Union, flags);
        SetU64(Union + 8, gpa);
        SetU64(Union + 16, size);
    }

    // internal { u32 suberror; u32 ndata; u64 data[16]; }
    public uint InternalErrorSuberror => U32(Union);

    internal void SetInternalError(uint suberror)
    {
        ClearUnion();
        SetU32(Union, suberror);
    }

    private void ClearUnion() => Array.Clear(Bytes, Union, 256);

    private uint U32(int offset) => BinaryPrimitives.ReadUInt32LittleEndian(Bytes.AsSpan(offset));

    private ulong U64(int offset) => BinaryPrimitives.ReadUInt64LittleEndian(Bytes.AsSpan(offset));

    private void SetU32(int offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan(offset), value);

    private void SetU64(int offset, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Bytes.AsSpan(offset), value);
}

/// <summary><c>kvm_run.system_event.type</c>.</summary>
public static class KvmSystemEvent
{
    public const uint Shutdown = 1;
    public const uint Reset = 2;
    public const uint Crash = 3;
}

/// <summary><c>kvm_run.hypercall.flags</c>: the call was an SMC (KVM_HYPERCALL_EXIT_SMC).</summary>
public static class KvmHypercallFlags
{
    public const ulong Smc = 1UL << 0;
}
