using System.Buffers.Binary;

namespace CcaSim.Guests.Tests;

/// <summary>The few ELF64 header fields the layout tests need (System V gABI, ELF-64 object file format).</summary>
internal sealed record ElfImage(ushort Machine, ulong Entry, IReadOnlyList<ElfSegment> LoadSegments)
{
    public const ushort MachineAArch64 = 183;
    private const uint PtLoad = 1;

    public static ElfImage Parse(ReadOnlySpan<byte> file)
    {
        if (file.Length < 64 || file[0] != 0x7f || file[1] != (byte)'E' || file[2] != (byte)'L' || file[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (file[4] != 2 || file[5] != 1)
            throw new InvalidDataException("not a little-endian ELF64 file");
        ushort machine = BinaryPrimitives.ReadUInt16LittleEndian(file[0x12..]);
        ulong entry = BinaryPrimitives.ReadUInt64LittleEndian(file[0x18..]);
        ulong phoff = BinaryPrimitives.ReadUInt64LittleEndian(file[0x20..]);
        ushort phentsize = BinaryPrimitives.ReadUInt16LittleEndian(file[0x36..]);
        ushort phnum = BinaryPrimitives.ReadUInt16LittleEndian(file[0x38..]);
        var segments = new List<ElfSegment>();
        for (int i = 0; i < phnum; i++)
        {
            ReadOnlySpan<byte> ph = file.Slice(checked((int)phoff + i * phentsize), 56);
            if (BinaryPrimitives.ReadUInt32LittleEndian(ph) != PtLoad)
                continue;
            segments.Add(new ElfSegment(
                Offset: BinaryPrimitives.ReadUInt64LittleEndian(ph[0x08..]),
                VirtualAddress: BinaryPrimitives.ReadUInt64LittleEndian(ph[0x10..]),
                FileSize: BinaryPrimitives.ReadUInt64LittleEndian(ph[0x20..]),
                MemorySize: BinaryPrimitives.ReadUInt64LittleEndian(ph[0x28..])));
        }
        return new ElfImage(machine, entry, segments);
    }
}

internal sealed record ElfSegment(ulong Offset, ulong VirtualAddress, ulong FileSize, ulong MemorySize);
