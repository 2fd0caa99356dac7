using System.Buffers.Binary;

namespace CcaSim.Platform.Memory;

/// <summary>
/// A world's view of physical memory: every access is checked against the Granule Protection Table first.
/// A faulting access changes nothing, even when it spans several granules.
/// </summary>
public class MemoryAccessor
{
    private readonly PhysicalMemory _memory;
    private readonly GranuleProtectionTable _gpt;

    internal MemoryAccessor(PhysicalMemory memory, GranuleProtectionTable gpt, AccessWorld world)
    {
        _memory = memory;
        _gpt = gpt;
        World = world;
    }

    public AccessWorld World { get; }

    public PhysicalMemory Memory => _memory;

    /// <summary>Checks that every granule of [pa, pa+length) exists and passes the granule protection check.</summary>
    public MemoryAccessStatus Check(ulong pa, ulong length)
    {
        if (length == 0)
        {
            return MemoryAccessStatus.Ok;
        }

        if (!_memory.Contains(pa, length))
        {
            return MemoryAccessStatus.OutOfRange;
        }

        ulong first = _memory.GranuleIndex(pa);
        ulong last = _memory.GranuleIndex(pa + length - 1);
        for (ulong i = first; i <= last; i++)
        {
            if (!GranuleProtectionTable.Permits(World, _gpt.Get(i)))
            {
                return MemoryAccessStatus.GranuleProtectionFault;
            }
        }

        return MemoryAccessStatus.Ok;
    }

    /// <summary>
    /// Host address of the granule holding <paramref name="pa"/>, for a CPU engine to map into a guest's stage 2, or
    /// zero when this world may not access it (or its storage would exceed the commit limit). Committing the
    /// granule keeps it in place until it is zeroed (see <see cref="PhysicalMemory.HostAddress"/>).
    /// </summary>
    public nint TryGetHostAddress(ulong pa)
    {
        ulong granule = pa & ~(ulong)(PhysicalMemory.GranuleSize - 1);
        if (Check(granule, PhysicalMemory.GranuleSize) != MemoryAccessStatus.Ok || !_memory.HasStorageFor(granule, PhysicalMemory.GranuleSize))
        {
            return 0;
        }

        return _memory.HostAddress(_memory.GranuleIndex(granule));
    }

    public MemoryAccessStatus TryRead(ulong pa, Span<byte> destination)
    {
        MemoryAccessStatus status = Check(pa, (ulong)destination.Length);
        if (status != MemoryAccessStatus.Ok)
        {
            return status;
        }

        while (!destination.IsEmpty)
        {
            int offset = (int)(pa & (PhysicalMemory.GranuleSize - 1));
            int n = Math.Min(destination.Length, PhysicalMemory.GranuleSize - offset);
            _memory.ReadGranule(_memory.GranuleIndex(pa)).Slice(offset, n).CopyTo(destination);
            destination = destination[n..];
            pa += (ulong)n;
        }

        return MemoryAccessStatus.Ok;
    }

    public MemoryAccessStatus TryWrite(ulong pa, ReadOnlySpan<byte> source)
    {
        MemoryAccessStatus status = Check(pa, (ulong)source.Length);
        if (status != MemoryAccessStatus.Ok)
        {
            return status;
        }

        // Only the normal world is held to the commit limit: it is the one a user drives directly, and its
        // accesses have a failure path. RMM and realm writes are bounded by what the host delegated.
        if (World == AccessWorld.NonSecure && !source.IsEmpty && !_memory.HasStorageFor(pa, (ulong)source.Length))
        {
            return MemoryAccessStatus.StorageExhausted;
        }

        while (!source.IsEmpty)
        {
            int offset = (int)(pa & (PhysicalMemory.GranuleSize - 1));
            int n = Math.Min(source.Length, PhysicalMemory.GranuleSize - offset);
            source[..n].CopyTo(_memory.WriteGranule(_memory.GranuleIndex(pa)).Slice(offset, n));
            source = source[n..];
            pa += (ulong)n;
        }

        return MemoryAccessStatus.Ok;
    }

    /// <summary>Zeroes [pa, pa+length); whole granules give their storage back.</summary>
    public MemoryAccessStatus TryZero(ulong pa, ulong length)
    {
        MemoryAccessStatus status = Check(pa, length);
        if (status != MemoryAccessStatus.Ok)
        {
            return status;
        }

        ulong end = pa + length;
        while (pa < end)
        {
            int offset = (int)(pa & (PhysicalMemory.GranuleSize - 1));
            int n = (int)Math.Min(end - pa, (ulong)(PhysicalMemory.GranuleSize - offset));
            ulong index = _memory.GranuleIndex(pa);
            if (n == PhysicalMemory.GranuleSize)
            {
                _memory.ZeroGranule(index);
            }
            else if (_memory.IsCommitted(index))
            {
                _memory.WriteGranule(index).Slice(offset, n).Clear();
            }

            pa += (ulong)n;
        }

        return MemoryAccessStatus.Ok;
    }

    public MemoryAccessStatus TryRead64(ulong pa, out ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        MemoryAccessStatus status = TryRead(pa, b);
        value = status == MemoryAccessStatus.Ok ? BinaryPrimitives.ReadUInt64LittleEndian(b) : 0;
        return status;
    }

    public MemoryAccessStatus TryWrite64(ulong pa, ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        return TryWrite(pa, b);
    }

    /// <summary>Reads 8 bytes; a faulting access raises <see cref="GranuleProtectionFaultException"/>.</summary>
    public ulong Read64(ulong pa)
    {
        Throw(pa, TryRead64(pa, out ulong value));
        return value;
    }

    /// <summary>Writes 8 bytes; a faulting access raises <see cref="GranuleProtectionFaultException"/>.</summary>
    public void Write64(ulong pa, ulong value) => Throw(pa, TryWrite64(pa, value));

    public void Read(ulong pa, Span<byte> destination) => Throw(pa, TryRead(pa, destination));

    public void Write(ulong pa, ReadOnlySpan<byte> source) => Throw(pa, TryWrite(pa, source));

    private static void Throw(ulong pa, MemoryAccessStatus status)
    {
        if (status != MemoryAccessStatus.Ok)
        {
            throw new GranuleProtectionFaultException(pa, status);
        }
    }
}
