using System.Buffers.Binary;
using System.Diagnostics;

namespace CcaSim.Guests.Tests;

/// <summary>
/// Builds hello's QEMU virt variant (<c>make qemu</c>, for bench/qemu-hello.sh) once, into a directory of its own.
/// </summary>
public sealed class QemuVariantBuild : IAsyncLifetime
{
    public string Output { get; } = Path.Combine(Path.GetTempPath(), "ccasim-guests-qemu-" + Guid.NewGuid().ToString("N"));

    public int ExitCode { get; private set; }

    public string Errors { get; private set; } = "";

    public string HelloBin => Path.Combine(Output, "qemu", "hello.bin");

    public string HelloElf => Path.Combine(Output, "qemu", "hello.elf");

    public async Task InitializeAsync()
    {
        string root = GuestImages.RepositoryRoot ?? throw new InvalidOperationException("the tests run outside a CcaSim checkout");
        var start = new ProcessStartInfo("make")
        {
            ArgumentList = { "-C", Path.Combine(root, "guests"), "-j2", "O=" + Output, "qemu" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process make = Process.Start(start)!;
        Task<string> stdout = make.StandardOutput.ReadToEndAsync();
        Errors = await make.StandardError.ReadToEndAsync();
        await make.WaitForExitAsync();
        _ = await stdout;
        ExitCode = make.ExitCode;
    }

    public Task DisposeAsync()
    {
        if (Directory.Exists(Output))
            Directory.Delete(Output, recursive: true);
        return Task.CompletedTask;
    }
}

public class QemuVariantTests(QemuVariantBuild build) : IClassFixture<QemuVariantBuild>
{
    // QEMU virt's RAM base plus the text_offset the header asks for (the same 0x80000 as kvmtool's TEXT_OFFSET).
    private const ulong QemuLoadAddress = 0x4000_0000 + GuestImages.EntryOffset;

    // arm64 Image header fields (Linux Documentation/arch/arm64/booting.rst).
    private const int TextOffsetField = 0x08;
    private const int ImageSizeField = 0x10;
    private const int MagicField = 0x38;
    private static readonly byte[] Arm64Magic = "ARM\x64"u8.ToArray();

    [Fact]
    public void MakeQemu_BuildsHello_AsAnElfAndAFlatBinary()
    {
        Assert.True(build.ExitCode == 0, "make qemu failed: " + build.Errors);
        Assert.True(File.Exists(build.HelloElf), $"{build.HelloElf} is missing");
        Assert.True(File.Exists(build.HelloBin), $"{build.HelloBin} is missing");
    }

    [Fact]
    public void QemuHello_StartsWithAnArm64ImageHeader_AskingForTextOffset0x80000()
    {
        byte[] bin = File.ReadAllBytes(build.HelloBin);

        Assert.True(bin.AsSpan(MagicField, 4).SequenceEqual(Arm64Magic), "no \"ARM\\x64\" magic at 0x38");
        Assert.Equal(GuestImages.EntryOffset, BinaryPrimitives.ReadUInt64LittleEndian(bin.AsSpan(TextOffsetField)));
    }

    [Fact]
    public void QemuHello_ImageSize_CoversBssAndStacks()
    {
        byte[] bin = File.ReadAllBytes(build.HelloBin);
        ElfImage elf = ElfImage.Parse(File.ReadAllBytes(build.HelloElf));

        ulong end = elf.LoadSegments.Max(s => s.VirtualAddress + s.MemorySize);
        Assert.Equal(end - QemuLoadAddress, BinaryPrimitives.ReadUInt64LittleEndian(bin.AsSpan(ImageSizeField)));
    }

    [Fact]
    public void QemuHello_IsLinkedAtQemuRamPlusTextOffset_AndItsFirstWordBranchesToTheEntry()
    {
        byte[] bin = File.ReadAllBytes(build.HelloBin);
        ElfImage elf = ElfImage.Parse(File.ReadAllBytes(build.HelloElf));

        Assert.Equal(QemuLoadAddress, elf.LoadSegments.Min(s => s.VirtualAddress));
        // code0 = B <_start>: 0b000101 then imm26, the word offset from the header (Arm ARM C6.2.26).
        uint code0 = BinaryPrimitives.ReadUInt32LittleEndian(bin);
        Assert.Equal(0x1400_0000u, code0 & 0xFC00_0000u);
        Assert.Equal(elf.Entry, QemuLoadAddress + (code0 & 0x03FF_FFFFu) * 4);
    }

    [Fact]
    public void DefaultHello_HasNoImageHeader_SoVmmsLoadItAsAFlatBinary()
    {
        byte[] bin = File.ReadAllBytes(GuestImages.BinPath("hello"));

        Assert.False(bin.AsSpan(MagicField, 4).SequenceEqual(Arm64Magic), "the default hello carries an arm64 Image header");
    }
}
