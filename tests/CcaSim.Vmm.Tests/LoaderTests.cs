using System.Buffers.Binary;

namespace CcaSim.Vmm.Tests;

public class LoaderTests
{
    private const ulong Ram = 32UL << 20;

    private static byte[] LinuxImage(ulong textOffset, ulong imageSize, int fileSize = 4096)
    {
        byte[] image = new byte[fileSize];
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(8), textOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(16), imageSize);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(0x38), GuestImageLoader.ImageMagic);
        return image;
    }

    [Fact]
    public void FlatBinary_LoadsAtRamPlus0x80000AndStartsThere()
    {
        GuestImage image = GuestImageLoader.LoadFile(TestFiles.Bin("hello"), Ram);

        Assert.Equal(GuestImageFormat.Flat, image.Format);
        Assert.Equal(0x8008_0000UL, image.Start);
        Assert.Equal(0x8008_0000UL, image.Entry);
        Assert.Equal((ulong)new FileInfo(TestFiles.Bin("hello")).Length, image.End - image.Start);
    }

    [Fact]
    public void LinuxImage_LoadsAtItsTextOffsetAndOccupiesImageSize()
    {
        GuestImage image = GuestImageLoader.Load(LinuxImage(0x20_0000, 0x4_0000), Ram, "Image");

        Assert.Equal(GuestImageFormat.LinuxImage, image.Format);
        Assert.Equal(0x8020_0000UL, image.Start);
        Assert.Equal(0x8020_0000UL, image.Entry);
        Assert.Equal(0x8024_0000UL, image.End);
    }

    [Fact]
    public void LinuxImage_WithAnOldZeroHeader_LoadsAt0x80000()
    {
        GuestImage image = GuestImageLoader.Load(LinuxImage(0, 0), Ram, "Image");

        Assert.Equal(0x8008_0000UL, image.Start);
        Assert.Equal(0x8008_1000UL, image.End);
    }

    [Fact]
    public void Elf_LoadsItsPtLoadSegmentsAndEntersAtEEntry()
    {
        GuestImage elf = GuestImageLoader.LoadFile(TestFiles.Elf("hello"), Ram);
        byte[] flat = File.ReadAllBytes(TestFiles.Bin("hello"));

        Assert.Equal(GuestImageFormat.Elf, elf.Format);
        Assert.Equal(0x8008_0000UL, elf.Entry);
        Assert.Equal(0x8008_0000UL, elf.Start);

        // The flat binary is objcopy's image of the same segments: the ELF's bytes land where the flat file's do.
        ImageSegment first = elf.Segments[0];
        Assert.True(first.Bytes.Span.SequenceEqual(flat.AsSpan(0, first.Bytes.Length)));
    }

    public static TheoryData<string, Func<byte[]>, string> BadImages => new()
    {
        { "empty", () => [], "is empty" },
        { "truncated ELF header", () => File.ReadAllBytes(TestFiles.Elf("hello"))[..40], "truncated ELF" },
        { "truncated ELF segments", () => File.ReadAllBytes(TestFiles.Elf("hello"))[..400], "truncated" },
        { "ELF32", () => Patch(File.ReadAllBytes(TestFiles.Elf("hello")), 4, 1), "not an ELF64" },
        { "x86-64 ELF", () => Patch(File.ReadAllBytes(TestFiles.Elf("hello")), 18, 62), "not AArch64" },
        { "Image with a misaligned text_offset", () => LinuxImage(0x80001, 0), "text_offset" },
        { "Image with image_size below the file size", () => LinuxImage(0x80000, 16, 8192), "image_size" },
        { "Image larger than RAM", () => LinuxImage(0x80000, 64UL << 20), "larger than RAM" },
        { "flat binary larger than RAM", () => new byte[(int)Ram], "larger than RAM" },
    };

    [Theory]
    [MemberData(nameof(BadImages))]
    public void BadImage_GivesOneLineNamingTheFile(string what, Func<byte[]> bytes, string expected)
    {
        string path = TestFiles.Write(what.Replace(' ', '-') + ".img", bytes());

        var e = Assert.Throws<VmmException>(() => GuestImageLoader.LoadFile(path, Ram));

        Assert.StartsWith(path + ":", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void MissingFile_SaysSo()
    {
        string path = Path.Combine(Path.GetTempPath(), "ccasim-vmm-tests", "no-such-kernel");

        var e = Assert.Throws<VmmException>(() => GuestImageLoader.LoadFile(path, Ram));

        Assert.Equal($"{path}: cannot read the kernel: no such file", e.Message);
    }

    [Fact]
    public void Directory_SaysItIsADirectory()
    {
        string path = Directory.CreateTempSubdirectory("ccasim-vmm-dir-").FullName;
        try
        {
            var e = Assert.Throws<VmmException>(() => GuestImageLoader.LoadFile(path, Ram));

            Assert.Equal($"{path}: cannot read the kernel: it is a directory", e.Message);
        }
        finally
        {
            Directory.Delete(path);
        }
    }

    [Fact]
    public void Directory_InsteadOfAFile_IsAnError()
    {
        var e = Assert.Throws<VmmException>(() => GuestImageLoader.LoadFile(Path.GetTempPath(), Ram));

        Assert.Contains("cannot read the kernel", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Initrd_OverlappingTheKernel_IsRefused()
    {
        // 8 MiB of RAM: the DTB sits at 6 MiB, so a 6 MiB initrd below it would reach into the kernel at 512 KiB.
        var options = new VmOptions { Kernel = TestFiles.Bin("hello"), MemoryMiB = 8, InitrdBytes = new byte[6_000_000] };

        var e = Assert.Throws<VmmException>(() => BootPlan.Create(options));

        Assert.Contains("overlaps the kernel image", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Initrd_ThatDoesNotFitInRam_IsRefused()
    {
        var options = new VmOptions { Kernel = TestFiles.Bin("hello"), MemoryMiB = 8, InitrdBytes = new byte[9 << 20] };

        var e = Assert.Throws<VmmException>(() => BootPlan.Create(options));

        Assert.Contains("does not fit", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Kernel_ReachingTheDtb_IsRefused()
    {
        var options = new VmOptions { KernelBytes = new byte[(3 << 20) - 0x8_0000 + 1], MemoryMiB = 4 };

        var e = Assert.Throws<VmmException>(() => BootPlan.Create(options));

        Assert.Contains("overlaps the device tree", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RealmPlan_PopulatesKernelInitrdAndDtbGranulesInGpaOrder_MergingTheInitrdWithTheDtbRightAboveIt()
    {
        byte[] initrd = new byte[10_000];
        initrd[0] = 0xA5;
        var options = new VmOptions { Kernel = TestFiles.Bin("hello"), MemoryMiB = 32, Realm = true, InitrdBytes = initrd };

        BootPlan plan = BootPlan.Create(options);

        Assert.Equal(["kernel", "initrd+dtb"], plan.PopulatedRegions.Select(r => r.Name));
        Assert.Equal(0xA5, plan.PopulatedRegions[1].Bytes.Span[(int)(plan.InitrdAddress - plan.PopulatedRegions[1].Address)]);
        Assert.Equal(plan.DtbAddress, plan.PopulatedRegions[1].Address + (ulong)plan.PopulatedRegions[1].Bytes.Length - VmmLayout.AlignUp((ulong)plan.Dtb.Length, 0x1000));
        Assert.Equal(plan.PopulatedRegions.OrderBy(r => r.Address).Select(r => r.Address), plan.PopulatedRegions.Select(r => r.Address));
        Assert.All(plan.PopulatedRegions, r => Assert.Equal(0UL, (r.Address | (ulong)(uint)r.Bytes.Length) % 0x1000));
    }

    [Fact]
    public void NormalPlan_PopulatesNothing() =>
        Assert.Empty(BootPlan.Create(new VmOptions { Kernel = TestFiles.Bin("hello") }).PopulatedRegions);

    public static TheoryData<VmOptions, string> BadOptions => new()
    {
        { new VmOptions { Kernel = "k", MemoryMiB = 0 }, "--mem" },
        { new VmOptions { Kernel = "k", Cpus = 0 }, "--cpus" },
        { new VmOptions(), "--kernel" },
        { new VmOptions { Kernel = "k", Console = "virtio" }, "--console virtio" },
        { new VmOptions { Kernel = "k", Irqchip = "gicv2" }, "--irqchip gicv2" },
        { new VmOptions { Kernel = "k", Realm = true, RealmPersonalisationValue = new string('x', 65) }, "--realm-pv: the personalisation value is at most 64 bytes (this one is 65)" },
        { new VmOptions { Kernel = "k", Realm = true, RealmPersonalisationValue = new string('\u00e9', 33) }, "--realm-pv: the personalisation value is at most 64 bytes (this one is 66)" },
        { new VmOptions { Kernel = "k", RealmPersonalisationValue = "abc" }, "only a realm" },
        { new VmOptions { Kernel = "k", MeasurementAlgorithm = MeasurementAlgorithm.Sha512 }, "only a realm" },
        { new VmOptions { Kernel = "k", SveVectorLength = 100 }, "--sve-vl 100" },
        { new VmOptions { Kernel = "k", Realm = true, PmuCounters = 32 }, "--pmu-counters 32" },
        { new VmOptions { Kernel = "k", PmuCounters = 4 }, "only supported for realms" },
    };

    [Theory]
    [InlineData(null, MeasurementAlgorithm.Sha256, false)]
    [InlineData("", MeasurementAlgorithm.Sha256, false)]
    [InlineData("a", MeasurementAlgorithm.Sha256, true)]
    [InlineData(null, MeasurementAlgorithm.Sha512, true)]
    public void UsesPreV12RealmConfig_OnlyForWhatV12CannotGive(string? rpv, MeasurementAlgorithm algorithm, bool expected) =>
        Assert.Equal(expected, new VmOptions { Kernel = "k", Realm = true, RealmPersonalisationValue = rpv, MeasurementAlgorithm = algorithm }.UsesPreV12RealmConfig);

    [Fact]
    public void PersonalisationValueBytes_AreTheStringsUtf8BytesZeroPaddedTo64()
    {
        byte[] expected = new byte[64];
        "pv-\u00e9"u8.CopyTo(expected);

        Assert.Equal(expected, new VmOptions { RealmPersonalisationValue = "pv-\u00e9" }.PersonalisationValueBytes);
        Assert.Equal(new byte[64], new VmOptions().PersonalisationValueBytes);
        Assert.Equal(Enumerable.Repeat((byte)'z', 64), new VmOptions { RealmPersonalisationValue = new string('z', 64) }.PersonalisationValueBytes);
    }

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void BadOptions_NameTheOption(VmOptions options, string expected)
    {
        var e = Assert.Throws<VmmException>(() => BootPlan.Create(options));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    private static byte[] Patch(byte[] bytes, int offset, byte value)
    {
        bytes[offset] = value;
        return bytes;
    }
}
