using System.Buffers.Binary;
using ELFSharp.ELF;
using ELFSharp.ELF.Segments;

namespace CcaSim.Vmm;

/// <summary>The format a kernel file was recognised as.</summary>
public enum GuestImageFormat
{
    /// <summary>An arm64 Linux <c>Image</c> (Documentation/arch/arm64/booting.rst header).</summary>
    LinuxImage,

    /// <summary>An ELF64 AArch64 executable, loaded by its PT_LOAD segments.</summary>
    Elf,

    /// <summary>A headerless flat binary, loaded at RAM + 0x80000 as kvmtool does.</summary>
    Flat,
}

/// <summary>One contiguous piece of a loaded image: its guest physical address and its file bytes.</summary>
public sealed record ImageSegment(ulong Address, ReadOnlyMemory<byte> Bytes, ulong MemorySize);

/// <summary>
/// A kernel image ready to be written into guest RAM: its segments, the entry point, and the extent it occupies
/// (which includes zero-initialised memory past the file bytes, e.g. an Image's image_size or an ELF's p_memsz).
/// </summary>
public sealed record GuestImage(GuestImageFormat Format, IReadOnlyList<ImageSegment> Segments, ulong Entry)
{
    /// <summary>Lowest guest address the image occupies.</summary>
    public ulong Start => Segments.Min(s => s.Address);

    /// <summary>One past the highest guest address the image occupies (file bytes and zero-initialised memory).</summary>
    public ulong End => Segments.Max(s => s.Address + s.MemorySize);
}

/// <summary>
/// The kernel loaders of kvmtool's arm64 port: an arm64 Linux <c>Image</c> goes to RAM + its header's text_offset
/// and occupies image_size; a file that is not an Image or an ELF goes to RAM + 0x80000 as a flat binary; an ELF is
/// loaded by its PT_LOAD segments (at their physical addresses) and entered at e_entry. Every malformed input ends
/// in a <see cref="VmmException"/> with one line that names the file.
/// </summary>
public static class GuestImageLoader
{
    /// <summary>arm64 Image header: "ARM\x64" at offset 0x38 (booting.rst).</summary>
    public const uint ImageMagic = 0x644D_5241;

    public const int ImageHeaderSize = 64;

    private static ReadOnlySpan<byte> ElfMagic => [0x7F, (byte)'E', (byte)'L', (byte)'F'];

    /// <summary>Reads <paramref name="path"/> and loads it for a VM whose RAM is <paramref name="ramSize"/> bytes.</summary>
    public static GuestImage LoadFile(string path, ulong ramSize) => Load(ReadFile(path, "kernel"), ramSize, path);

    /// <summary>Loads an image already in memory; <paramref name="name"/> names it in error messages.</summary>
    public static GuestImage Load(ReadOnlyMemory<byte> file, ulong ramSize, string name)
    {
        ReadOnlySpan<byte> bytes = file.Span;
        if (bytes.Length == 0)
        {
            throw new VmmException($"{name}: the kernel image is empty");
        }

        GuestImage image;
        if (bytes.Length >= 4 && bytes[..4].SequenceEqual(ElfMagic))
        {
            image = LoadElf(file, name);
        }
        else if (bytes.Length >= ImageHeaderSize && BinaryPrimitives.ReadUInt32LittleEndian(bytes[0x38..]) == ImageMagic)
        {
            image = LoadLinuxImage(file, name);
        }
        else
        {
            ulong at = VmmLayout.RamBase + VmmLayout.DefaultTextOffset;
            image = new GuestImage(GuestImageFormat.Flat, [new ImageSegment(at, file, (ulong)file.Length)], at);
        }

        CheckFitsInRam(image, ramSize, name);
        return image;
    }

    /// <summary>Reads a whole file, turning every I/O failure into one line that names it.</summary>
    public static byte[] ReadFile(string path, string what)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            string reason = e switch
            {
                FileNotFoundException or DirectoryNotFoundException => "no such file",
                // .NET reports opening a directory as access denied; say what it is.
                UnauthorizedAccessException when Directory.Exists(path) => "it is a directory",
                UnauthorizedAccessException => "permission denied",
                _ => e.Message,
            };
            throw new VmmException($"{path}: cannot read the {what}: {reason}", e);
        }
    }

    /// <summary>
    /// An arm64 Image: text_offset at 8 and image_size at 16 (booting.rst). As kvmtool does, an old header with both
    /// zero means the historical 0x80000 and a file-sized image.
    /// </summary>
    private static GuestImage LoadLinuxImage(ReadOnlyMemory<byte> file, string name)
    {
        ReadOnlySpan<byte> header = file.Span;
        ulong textOffset = BinaryPrimitives.ReadUInt64LittleEndian(header[8..]);
        ulong imageSize = BinaryPrimitives.ReadUInt64LittleEndian(header[16..]);
        if (textOffset == 0 && imageSize == 0)
        {
            textOffset = VmmLayout.DefaultTextOffset;
        }

        if (textOffset % VmmLayout.GranuleSize != 0 || textOffset >= 1UL << 32)
        {
            throw new VmmException($"{name}: malformed arm64 Image header: text_offset 0x{textOffset:x} is not a page-aligned offset into RAM");
        }

        if (imageSize != 0 && imageSize < (ulong)file.Length)
        {
            throw new VmmException($"{name}: malformed arm64 Image header: image_size {imageSize} is smaller than the file ({file.Length} bytes)");
        }

        ulong at = VmmLayout.RamBase + textOffset;
        ulong memorySize = Math.Max(imageSize, (ulong)file.Length);
        return new GuestImage(GuestImageFormat.LinuxImage, [new ImageSegment(at, file, memorySize)], at);
    }

    private static GuestImage LoadElf(ReadOnlyMemory<byte> file, string name)
    {
        byte[] bytes = file.ToArray();
        if (bytes.Length < 64)
        {
            throw new VmmException($"{name}: truncated ELF: {bytes.Length} bytes is shorter than an ELF64 header");
        }

        if (bytes[4] != 2)
        {
            throw new VmmException($"{name}: not an ELF64 file (EI_CLASS {bytes[4]}); the VMM loads AArch64 ELF64 images");
        }

        IELF? parsed;
        try
        {
            if (!ELFReader.TryLoad(new MemoryStream(bytes, writable: false), true, out parsed) || parsed is null)
            {
                throw new VmmException($"{name}: malformed ELF: its headers could not be read");
            }
        }
        catch (Exception e) when (e is not VmmException and not OutOfMemoryException)
        {
            // ELFSharp reports headers that point outside the file by throwing from its parser.
            throw new VmmException($"{name}: truncated or malformed ELF ({e.Message.TrimEnd('.')})", e);
        }

        using IELF elf = parsed;
        if (elf.Class != Class.Bit64 || elf is not ELF<ulong> elf64)
        {
            throw new VmmException($"{name}: not an ELF64 file; the VMM loads AArch64 ELF64 images");
        }

        if (elf.Machine != Machine.AArch64)
        {
            throw new VmmException($"{name}: the ELF is for {elf.Machine}, not AArch64");
        }

        var segments = new List<ImageSegment>();
        foreach (Segment<ulong> segment in elf64.Segments)
        {
            if (segment.Type != SegmentType.Load || segment.Size == 0)
            {
                continue;
            }

            long offset = segment.Offset, fileSize = segment.FileSize;
            if (offset < 0 || fileSize < 0 || offset > bytes.Length || fileSize > bytes.Length - offset)
            {
                throw new VmmException($"{name}: truncated ELF: a PT_LOAD segment needs file bytes 0x{segment.Offset:x}+0x{segment.FileSize:x} but the file has {bytes.Length} bytes");
            }

            if ((ulong)fileSize > segment.Size)
            {
                throw new VmmException($"{name}: malformed ELF: a PT_LOAD segment's p_filesz 0x{segment.FileSize:x} exceeds its p_memsz 0x{segment.Size:x}");
            }

            ulong address = segment.PhysicalAddress != 0 ? segment.PhysicalAddress : segment.Address;
            segments.Add(new ImageSegment(address, file.Slice((int)offset, (int)fileSize), segment.Size));
        }

        if (segments.Count == 0)
        {
            throw new VmmException($"{name}: the ELF has no PT_LOAD segment to load");
        }

        segments.Sort((a, b) => a.Address.CompareTo(b.Address));
        for (int i = 1; i < segments.Count; i++)
        {
            if (segments[i].Address < segments[i - 1].Address + segments[i - 1].MemorySize)
            {
                throw new VmmException($"{name}: malformed ELF: PT_LOAD segments at 0x{segments[i - 1].Address:x} and 0x{segments[i].Address:x} overlap");
            }
        }

        return new GuestImage(GuestImageFormat.Elf, segments, elf64.EntryPoint);
    }

    private static void CheckFitsInRam(GuestImage image, ulong ramSize, string name)
    {
        ulong ramEnd = VmmLayout.RamBase + ramSize;
        foreach (ImageSegment segment in image.Segments)
        {
            if (segment.Address < VmmLayout.RamBase || segment.Address >= ramEnd || segment.MemorySize > ramEnd - segment.Address)
            {
                throw new VmmException(
                    $"{name}: the image needs 0x{segment.Address:x}-0x{segment.Address + segment.MemorySize:x}, outside the {ramSize >> 20} MiB of RAM at 0x{VmmLayout.RamBase:x}-0x{ramEnd:x} (the image is larger than RAM or linked elsewhere)");
            }
        }

        if (image.Entry < image.Start || image.Entry >= image.End)
        {
            throw new VmmException($"{name}: the entry point 0x{image.Entry:x} is outside the loaded image 0x{image.Start:x}-0x{image.End:x}");
        }
    }
}
