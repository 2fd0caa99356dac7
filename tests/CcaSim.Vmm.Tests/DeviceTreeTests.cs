using System.Diagnostics;

namespace CcaSim.Vmm.Tests;

/// <summary>The generated DTB, decompiled by Debian's dtc (device-tree-compiler, installed by scripts/setup.sh).</summary>
public class DeviceTreeTests
{
    private static (string Dts, string Warnings) Decompile(byte[] dtb)
    {
        string path = TestFiles.Write($"tree-{Guid.NewGuid():N}.dtb", dtb);
        var start = new ProcessStartInfo("dtc") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[] { "-I", "dtb", "-O", "dts", path })
        {
            start.ArgumentList.Add(arg);
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("dtc is not installed: run scripts/setup.sh (it installs Debian's device-tree-compiler)", e);
        }

        using (process)
        {
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            string dts = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, $"dtc failed ({process.ExitCode}): {stderr.Result}");
            return (dts, stderr.Result);
        }
    }

    private static string Build(bool realm, int vcpus = 2, bool pmu = false, string? bootargs = "console=ttyS0", ulong initrdStart = 0, ulong initrdEnd = 0) =>
        Decompile(DeviceTreeGenerator.Build(new VmmLayout(64UL << 20, vcpus, realm), new DeviceTreeContents(bootargs, initrdStart, initrdEnd, pmu))).Dts;

    [Theory]
    [InlineData(true, 1, false)]
    [InlineData(false, 4, true)]
    [InlineData(true, 17, true)]
    public void Dtc_DecompilesTheTreeWithoutWarnings(bool realm, int vcpus, bool pmu)
    {
        (_, string warnings) = Decompile(DeviceTreeGenerator.Build(new VmmLayout(64UL << 20, vcpus, realm), new DeviceTreeContents("a b", 0x8100_0000, 0x8100_1000, pmu)));

        Assert.Equal(string.Empty, warnings);
    }

    [Fact]
    public void Tree_DescribesMemoryCpusGicTimerUartAndChosen()
    {
        string dts = Build(realm: true);

        Assert.Contains("compatible = \"linux,dummy-virt\";", dts, StringComparison.Ordinal);
        Assert.Contains("memory@80000000 {", dts, StringComparison.Ordinal);
        Assert.Contains("reg = <0x00 0x80000000 0x00 0x4000000>;", dts, StringComparison.Ordinal);
        Assert.Contains("cpu@0 {", dts, StringComparison.Ordinal);
        Assert.Contains("cpu@1 {", dts, StringComparison.Ordinal);
        Assert.Contains("enable-method = \"psci\";", dts, StringComparison.Ordinal);
        Assert.Contains("intc@3fff0000 {", dts, StringComparison.Ordinal);
        Assert.Contains("compatible = \"arm,gic-v3\";", dts, StringComparison.Ordinal);
        Assert.Contains("#interrupt-cells = <0x03>;", dts, StringComparison.Ordinal);
        Assert.Contains("interrupt-controller;", dts, StringComparison.Ordinal);
        Assert.Contains("reg = <0x00 0x3fff0000 0x00 0x10000 0x00 0x3ffb0000 0x00 0x40000>;", dts, StringComparison.Ordinal);
        Assert.Contains("compatible = \"arm,armv8-timer\";", dts, StringComparison.Ordinal);
        Assert.Contains("interrupts = <0x01 0x0d 0x08 0x01 0x0e 0x08 0x01 0x0b 0x08 0x01 0x0a 0x08>;", dts, StringComparison.Ordinal);
        Assert.Contains("serial@1000000 {", dts, StringComparison.Ordinal);
        Assert.Contains("compatible = \"ns16550a\";", dts, StringComparison.Ordinal);
        Assert.Contains("clock-frequency = <0x1c2000>;", dts, StringComparison.Ordinal);
        Assert.Contains("bootargs = \"console=ttyS0\";", dts, StringComparison.Ordinal);
        Assert.Contains("stdout-path = \"/serial@1000000\";", dts, StringComparison.Ordinal);
        Assert.DoesNotContain("pmu", dts, StringComparison.Ordinal);
        Assert.DoesNotContain("linux,initrd-start", dts, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true, "smc")]
    [InlineData(false, "hvc")]
    public void Psci_UsesSmcForARealmAndHvcForANormalVm(bool realm, string method)
    {
        string dts = Build(realm);

        Assert.Contains("compatible = \"arm,psci-1.0\\0arm,psci-0.2\";", dts, StringComparison.Ordinal);
        Assert.Contains($"method = \"{method}\";", dts, StringComparison.Ordinal);
    }

    [Fact]
    public void Pmu_IsDescribedWhenAsked()
    {
        string dts = Build(realm: false, pmu: true);

        Assert.Contains("compatible = \"arm,armv8-pmuv3\";", dts, StringComparison.Ordinal);
        Assert.Contains("interrupts = <0x01 0x07 0x04>;", dts, StringComparison.Ordinal);
    }

    [Fact]
    public void Initrd_IsInChosen()
    {
        string dts = Build(realm: false, initrdStart: 0x83DF_0000, initrdEnd: 0x83DF_8000);

        Assert.Contains("linux,initrd-start = <0x00 0x83df0000>;", dts, StringComparison.Ordinal);
        Assert.Contains("linux,initrd-end = <0x00 0x83df8000>;", dts, StringComparison.Ordinal);
    }

    [Fact]
    public void SeventeenthCpu_IsNamedByItsMpidr()
    {
        string dts = Build(realm: false, vcpus: 17);

        Assert.Contains("cpu@100 {", dts, StringComparison.Ordinal);
        Assert.Contains("reg = <0x100>;", dts, StringComparison.Ordinal);
    }

    [Fact]
    public void Header_IsAVersion17Dtb()
    {
        byte[] dtb = DeviceTreeGenerator.Build(new VmmLayout(64UL << 20, 1, true), new DeviceTreeContents(null, 0, 0, false));

        Assert.Equal(0xD00DFEEDu, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(dtb));
        Assert.Equal((uint)dtb.Length, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(dtb.AsSpan(4)));
        Assert.Equal(17u, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(dtb.AsSpan(20)));
    }

    [Fact]
    public void OverlongBootargs_AreRefused()
    {
        var e = Assert.Throws<VmmException>(() => DeviceTreeGenerator.Build(new VmmLayout(64UL << 20, 1, true), new DeviceTreeContents(new string('x', 70_000), 0, 0, false)));

        Assert.Contains("FDT_MAX_SIZE", e.Message, StringComparison.Ordinal);
    }
}
