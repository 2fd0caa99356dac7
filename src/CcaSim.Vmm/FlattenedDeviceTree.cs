using System.Buffers.Binary;
using System.Text;

namespace CcaSim.Vmm;

/// <summary>
/// A writer of flattened device trees (DTB, Devicetree Specification v0.4 §5, version 17): nodes are opened and
/// closed in order and properties are added to the open node, as libfdt's sequential-write mode works. Property
/// names are shared in the strings block. Big-endian throughout, as the format requires.
/// </summary>
public sealed class FlattenedDeviceTree
{
    private const uint Magic = 0xD00D_FEED;
    private const uint Version = 17;
    private const uint LastCompatibleVersion = 16;
    private const int HeaderSize = 40;
    private const uint BeginNode = 1;
    private const uint EndNode = 2;
    private const uint Prop = 3;
    private const uint End = 9;

    private readonly ByteBuffer _structure = new();
    private readonly ByteBuffer _strings = new();
    private readonly Dictionary<string, int> _stringOffsets = new(StringComparer.Ordinal);
    private int _depth;
    private bool _finished;

    /// <summary>Opens a node; the root is the node named "".</summary>
    public FlattenedDeviceTree BeginNodeNamed(string name)
    {
        EnsureOpen();
        WriteToken(BeginNode);
        WriteString(_structure, name);
        Pad(_structure);
        _depth++;
        return this;
    }

    /// <summary>Closes the innermost open node.</summary>
    public FlattenedDeviceTree EndNodeHere()
    {
        EnsureOpen();
        if (_depth == 0)
        {
            throw new InvalidOperationException("no node is open");
        }

        WriteToken(EndNode);
        _depth--;
        return this;
    }

    /// <summary>A property with raw bytes.</summary>
    public FlattenedDeviceTree Property(string name, ReadOnlySpan<byte> value)
    {
        EnsureOpen();
        if (_depth == 0)
        {
            throw new InvalidOperationException("properties belong to a node");
        }

        WriteToken(Prop);
        WriteU32(_structure, (uint)value.Length);
        WriteU32(_structure, (uint)NameOffset(name));
        _structure.Write(value);
        Pad(_structure);
        return this;
    }

    /// <summary>An empty (boolean) property such as interrupt-controller.</summary>
    public FlattenedDeviceTree Property(string name) => Property(name, ReadOnlySpan<byte>.Empty);

    /// <summary>A string list property (each string NUL-terminated).</summary>
    public FlattenedDeviceTree Property(string name, params string[] values)
    {
        var bytes = new ByteBuffer();
        foreach (string value in values)
        {
            WriteString(bytes, value);
        }

        return Property(name, bytes.ToArray());
    }

    /// <summary>A property of 32-bit cells.</summary>
    public FlattenedDeviceTree Cells(string name, params uint[] cells)
    {
        byte[] bytes = new byte[cells.Length * 4];
        for (int i = 0; i < cells.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(i * 4), cells[i]);
        }

        return Property(name, bytes);
    }

    /// <summary>A property of 64-bit values, each two cells (for #address-cells = #size-cells = 2).</summary>
    public FlattenedDeviceTree Cells64(string name, params ulong[] values)
    {
        byte[] bytes = new byte[values.Length * 8];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(i * 8), values[i]);
        }

        return Property(name, bytes);
    }

    /// <summary>Closes the tree and returns the DTB: header, an empty memory reservation map, structure, strings.</summary>
    public byte[] Finish(uint bootCpuId = 0)
    {
        EnsureOpen();
        if (_depth != 0)
        {
            throw new InvalidOperationException($"{_depth} node(s) still open");
        }

        WriteToken(End);
        _finished = true;

        const int reservationOffset = HeaderSize;
        const int reservationSize = 16;
        int structureOffset = reservationOffset + reservationSize;
        int structureSize = (int)_structure.Length;
        int stringsOffset = structureOffset + structureSize;
        int stringsSize = (int)_strings.Length;
        int total = stringsOffset + stringsSize;

        byte[] blob = new byte[total];
        Span<byte> header = blob;
        BinaryPrimitives.WriteUInt32BigEndian(header[0..], Magic);
        BinaryPrimitives.WriteUInt32BigEndian(header[4..], (uint)total);
        BinaryPrimitives.WriteUInt32BigEndian(header[8..], (uint)structureOffset);
        BinaryPrimitives.WriteUInt32BigEndian(header[12..], (uint)stringsOffset);
        BinaryPrimitives.WriteUInt32BigEndian(header[16..], reservationOffset);
        BinaryPrimitives.WriteUInt32BigEndian(header[20..], Version);
        BinaryPrimitives.WriteUInt32BigEndian(header[24..], LastCompatibleVersion);
        BinaryPrimitives.WriteUInt32BigEndian(header[28..], bootCpuId);
        BinaryPrimitives.WriteUInt32BigEndian(header[32..], (uint)stringsSize);
        BinaryPrimitives.WriteUInt32BigEndian(header[36..], (uint)structureSize);

        // The reservation map is one all-zero terminating entry (already zero).
        _structure.ToArray().CopyTo(blob, structureOffset);
        _strings.ToArray().CopyTo(blob, stringsOffset);
        return blob;
    }

    private int NameOffset(string name)
    {
        if (!_stringOffsets.TryGetValue(name, out int offset))
        {
            offset = (int)_strings.Length;
            WriteString(_strings, name);
            _stringOffsets.Add(name, offset);
        }

        return offset;
    }

    private void EnsureOpen()
    {
        if (_finished)
        {
            throw new InvalidOperationException("the tree is finished");
        }
    }

    private void WriteToken(uint token) => WriteU32(_structure, token);

    private static void WriteU32(ByteBuffer stream, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        stream.Write(bytes);
    }

    private static void WriteString(ByteBuffer stream, string value)
    {
        stream.Write(Encoding.UTF8.GetBytes(value));
        stream.WriteByte(0);
    }

    private static void Pad(ByteBuffer stream)
    {
        while (stream.Length % 4 != 0)
        {
            stream.WriteByte(0);
        }
    }

    /// <summary>A growable byte buffer (a MemoryStream without the disposal obligation).</summary>
    private sealed class ByteBuffer
    {
        private readonly List<byte> _bytes = [];

        public int Length => _bytes.Count;

        public void Write(ReadOnlySpan<byte> bytes)
        {
            foreach (byte b in bytes)
            {
                _bytes.Add(b);
            }
        }

        public void WriteByte(byte value) => _bytes.Add(value);

        public byte[] ToArray() => [.. _bytes];
    }
}
