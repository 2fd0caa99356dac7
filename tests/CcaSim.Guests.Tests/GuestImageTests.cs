using System.Diagnostics;
using System.Text.RegularExpressions;

namespace CcaSim.Guests.Tests;

public class GuestImageTests
{
    public static TheoryData<string> Payloads => new(GuestImages.Names);

    [Theory]
    [MemberData(nameof(Payloads))]
    public void Payload_IsBuilt_AsAnElfAndAFlatBinary(string name)
    {
        Assert.True(File.Exists(GuestImages.ElfPath(name)), $"{GuestImages.ElfPath(name)} is missing");
        Assert.True(File.Exists(GuestImages.BinPath(name)), $"{GuestImages.BinPath(name)} is missing");
        Assert.NotEqual(0, new FileInfo(GuestImages.BinPath(name)).Length);
    }

    [Theory]
    [MemberData(nameof(Payloads))]
    public void Payload_EntryPoint_IsTheLinkAddressAtRamPlusTextOffset(string name)
    {
        ElfImage elf = ElfImage.Parse(File.ReadAllBytes(GuestImages.ElfPath(name)));

        Assert.Equal(ElfImage.MachineAArch64, elf.Machine);
        Assert.Equal(GuestImages.LoadAddress, elf.Entry);
        Assert.Equal(GuestImages.LoadAddress, elf.LoadSegments.Min(s => s.VirtualAddress));
    }

    [Theory]
    [MemberData(nameof(Payloads))]
    public void Payload_FlatBinary_IsTheFileBytesOfItsLoadSegments(string name)
    {
        byte[] elfBytes = File.ReadAllBytes(GuestImages.ElfPath(name));
        byte[] bin = File.ReadAllBytes(GuestImages.BinPath(name));
        ElfImage elf = ElfImage.Parse(elfBytes);

        ulong end = elf.LoadSegments.Where(s => s.FileSize > 0).Max(s => s.VirtualAddress + s.FileSize);
        Assert.Equal(end - GuestImages.LoadAddress, (ulong)bin.Length);
        foreach (ElfSegment s in elf.LoadSegments.Where(s => s.FileSize > 0))
        {
            var inElf = elfBytes.AsSpan(checked((int)s.Offset), checked((int)s.FileSize));
            var inBin = bin.AsSpan(checked((int)(s.VirtualAddress - GuestImages.LoadAddress)), checked((int)s.FileSize));
            Assert.True(inElf.SequenceEqual(inBin), $"{name}.bin differs from the ELF segment at 0x{s.VirtualAddress:x}");
        }
    }

    [Theory]
    [MemberData(nameof(Payloads))]
    public void Payload_IncludingBssAndStacks_EndsBelowTheDtbOfTheSmallestRam(string name)
    {
        ElfImage elf = ElfImage.Parse(File.ReadAllBytes(GuestImages.ElfPath(name)));
        ulong dtb = GuestImages.DtbAddress(GuestImages.MinimumRamSize);

        Assert.All(elf.LoadSegments, s =>
        {
            Assert.True(s.VirtualAddress >= GuestImages.LoadAddress, $"segment at 0x{s.VirtualAddress:x} is below the image");
            Assert.True(s.VirtualAddress + s.MemorySize <= dtb,
                $"segment 0x{s.VirtualAddress:x}+0x{s.MemorySize:x} reaches the DTB at 0x{dtb:x}");
        });
    }

    [Fact]
    public void DtbAddress_ForSixteenMegabytes_IsTwoMegabytesBelowTheTopOfRam()
    {
        Assert.Equal(0x80E0_0000UL, GuestImages.DtbAddress(16UL << 20));
        Assert.Equal(0x8FE0_0000UL, GuestImages.DtbAddress(256UL << 20));
        Assert.Equal(0x8FE0_0000UL, GuestImages.DtbAddress(1UL << 30));
    }

    [Fact]
    public void PayloadNames_MatchTheMakefile()
    {
        string makefile = File.ReadAllText(Path.Combine(RepositoryRoot(), "guests", "Makefile"));
        Match m = Regex.Match(makefile, @"^PAYLOADS\s*:=\s*(.+)$", RegexOptions.Multiline);

        Assert.True(m.Success, "guests/Makefile has no PAYLOADS line");
        Assert.Equal(GuestImages.Names, m.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Payloads_RebuiltFromCleanInAnotherDirectory_AreByteIdentical()
    {
        // One more clean build, into a different directory: equal bytes show the build neither embeds time nor
        // the output path, so two builds of the same sources give the same images.
        string output = Path.Combine(Path.GetTempPath(), "ccasim-guests-" + Guid.NewGuid().ToString("N"));
        try
        {
            var start = new ProcessStartInfo("make")
            {
                ArgumentList = { "-C", Path.Combine(RepositoryRoot(), "guests"), "-j2", "O=" + output },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using Process make = Process.Start(start)!;
            Task<string> stdout = make.StandardOutput.ReadToEndAsync();
            string stderr = await make.StandardError.ReadToEndAsync();
            await make.WaitForExitAsync();
            _ = await stdout;
            Assert.True(make.ExitCode == 0, "make failed: " + stderr);

            foreach (string name in GuestImages.Names)
            {
                byte[] first = File.ReadAllBytes(GuestImages.BinPath(name));
                byte[] second = File.ReadAllBytes(Path.Combine(output, name + ".bin"));
                Assert.True(first.AsSpan().SequenceEqual(second), $"{name}.bin differs between two builds");
            }
        }
        finally
        {
            if (System.IO.Directory.Exists(output))
                System.IO.Directory.Delete(output, recursive: true);
        }
    }

    private static string RepositoryRoot() =>
        GuestImages.RepositoryRoot ?? throw new InvalidOperationException("the tests run outside a CcaSim checkout");
}
