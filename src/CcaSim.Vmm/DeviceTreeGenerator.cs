namespace CcaSim.Vmm;

/// <summary>What the device tree describes beyond the layout.</summary>
public sealed record DeviceTreeContents(string? Bootargs, ulong InitrdStart, ulong InitrdEnd, bool Pmu);

/// <summary>
/// The device tree kvmtool's arm64 port generates (arm/fdt.c and the device files): /memory, /cpus with one cpu
/// per vCPU (reg = MPIDR affinity, enable-method psci), /psci (method smc for a realm, hvc otherwise), the GICv3,
/// the architected timer, the PMU when asked, the 8250 UART and /chosen. Node names carry unit addresses that match
/// their reg so that dtc decompiles it without warnings.
/// </summary>
public static class DeviceTreeGenerator
{
    /// <summary>phandle of the interrupt controller, the root's interrupt-parent.</summary>
    public const uint GicPhandle = 1;

    private const uint GicSpi = 0;
    private const uint GicPpi = 1;
    private const uint IrqTypeLevelHigh = 4;
    private const uint IrqTypeLevelLow = 8;

    /// <summary>The node path of the UART, which /chosen/stdout-path names.</summary>
    public static string UartPath => $"/serial@{VmmLayout.UartBase:x}";

    public static byte[] Build(VmmLayout layout, DeviceTreeContents contents)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(contents);
        var fdt = new FlattenedDeviceTree();
        fdt.BeginNodeNamed("")
            .Property("compatible", "linux,dummy-virt")
            .Cells("#address-cells", 2)
            .Cells("#size-cells", 2)
            .Cells("interrupt-parent", GicPhandle);

        fdt.BeginNodeNamed("chosen");
        if (contents.Bootargs is not null)
        {
            fdt.Property("bootargs", contents.Bootargs);
        }

        fdt.Property("stdout-path", UartPath);
        if (contents.InitrdEnd > contents.InitrdStart)
        {
            fdt.Cells64("linux,initrd-start", contents.InitrdStart).Cells64("linux,initrd-end", contents.InitrdEnd);
        }

        fdt.EndNodeHere();

        fdt.BeginNodeNamed($"memory@{VmmLayout.RamBase:x}")
            .Property("device_type", "memory")
            .Cells64("reg", VmmLayout.RamBase, layout.RamSize)
            .EndNodeHere();

        // cpu nodes: #address-cells 1 carries MPIDR Aff2..Aff0, which is all a VM's MPIDR has (VmmLayout.Mpidr).
        fdt.BeginNodeNamed("cpus").Cells("#address-cells", 1).Cells("#size-cells", 0);
        for (int i = 0; i < layout.Vcpus; i++)
        {
            uint mpidr = (uint)VmmLayout.Mpidr(i);
            fdt.BeginNodeNamed($"cpu@{mpidr:x}")
                .Property("device_type", "cpu")
                .Property("compatible", "arm,armv8")
                .Property("enable-method", "psci")
                .Cells("reg", mpidr)
                .EndNodeHere();
        }

        fdt.EndNodeHere();

        // KVM implements PSCI 1.x over SMCCC; a realm's conduit is SMC (the RMM forwards PSCI to the host), a
        // normal VM's is HVC (realm-platform.md §2.3).
        fdt.BeginNodeNamed("psci")
            .Property("compatible", "arm,psci-1.0", "arm,psci-0.2")
            .Property("method", layout.IsRealm ? "smc" : "hvc")
            .EndNodeHere();

        fdt.BeginNodeNamed($"intc@{VmmLayout.GicDistributorBase:x}")
            .Property("compatible", "arm,gic-v3")
            .Cells("#interrupt-cells", 3)
            .Cells("#address-cells", 0)
            .Property("interrupt-controller")
            .Cells64("reg", VmmLayout.GicDistributorBase, VmmLayout.GicDistributorSize, layout.GicRedistributorBase, layout.GicRedistributorRegionSize)
            .Cells("#redistributor-regions", 1)
            .Cells("phandle", GicPhandle)
            .EndNodeHere();

        // GICv3 PPIs carry no CPU mask (that is a GICv2 encoding); the timer's lines are level-low as on hardware.
        var timerCells = new List<uint>();
        foreach (uint ppi in VmmLayout.TimerPpis)
        {
            timerCells.AddRange([GicPpi, ppi, IrqTypeLevelLow]);
        }

        fdt.BeginNodeNamed("timer")
            .Property("compatible", "arm,armv8-timer")
            .Cells("interrupts", [.. timerCells])
            .Property("always-on")
            .EndNodeHere();

        if (contents.Pmu)
        {
            fdt.BeginNodeNamed("pmu")
                .Property("compatible", "arm,armv8-pmuv3")
                .Cells("interrupts", GicPpi, VmmLayout.PmuPpi, IrqTypeLevelHigh)
                .EndNodeHere();
        }

        fdt.BeginNodeNamed($"serial@{VmmLayout.UartBase:x}")
            .Property("compatible", "ns16550a")
            .Cells64("reg", VmmLayout.UartBase, VmmLayout.UartSize)
            .Cells("interrupts", GicSpi, VmmLayout.UartSpi, IrqTypeLevelHigh)
            .Cells("clock-frequency", VmmLayout.UartClockHz)
            .EndNodeHere();

        fdt.EndNodeHere();
        byte[] blob = fdt.Finish();
        if ((ulong)blob.Length > VmmLayout.FdtMaxSize)
        {
            throw new VmmException($"the device tree ({blob.Length} bytes) exceeds FDT_MAX_SIZE ({VmmLayout.FdtMaxSize} bytes); shorten --params");
        }

        return blob;
    }
}
