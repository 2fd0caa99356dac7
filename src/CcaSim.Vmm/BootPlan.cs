namespace CcaSim.Vmm;

/// <summary>One region of guest RAM the VMM fills before the first run: its address and its bytes (zero padded).</summary>
public sealed record LoadedRegion(string Name, ulong Address, ReadOnlyMemory<byte> Bytes);

/// <summary>
/// Everything the VMM writes into a VM before it runs, computed from the options alone (no KVM): the layout, the
/// kernel's segments, the initrd, the DTB, and — for a realm — the granule-aligned regions it populates, measured,
/// in GPA order (kvm-realm-abi.md §3.1 step 7), plus the boot registers (Documentation/arch/arm64/booting.rst:
/// x0 = DTB, x1..x3 = 0, PC = the image's entry). An offline measurement replays exactly this plan.
/// </summary>
public sealed class BootPlan
{
    private BootPlan(VmOptions options, VmmLayout layout, GuestImage kernel, byte[]? initrd, ulong initrdAddress, byte[] dtb, IReadOnlyList<LoadedRegion> populate)
    {
        Options = options;
        Layout = layout;
        Kernel = kernel;
        Initrd = initrd;
        InitrdAddress = initrdAddress;
        Dtb = dtb;
        PopulatedRegions = populate;
    }

    public VmOptions Options { get; }

    public VmmLayout Layout { get; }

    public GuestImage Kernel { get; }

    public byte[]? Initrd { get; }

    /// <summary>Where the initrd goes (0 without one).</summary>
    public ulong InitrdAddress { get; }

    public byte[] Dtb { get; }

    /// <summary>The DTB's address, which is also x0 at entry.</summary>
    public ulong DtbAddress => Layout.FdtAddress;

    /// <summary>PC of vCPU 0 at entry.</summary>
    public ulong Entry => Kernel.Entry;

    /// <summary>
    /// A realm's populated regions: each loaded item's granules (kernel segments, initrd, DTB), merged where they
    /// touch, sorted by address; empty for a normal VM.
    /// </summary>
    public IReadOnlyList<LoadedRegion> PopulatedRegions { get; }

    /// <summary>Checks the options, reads the images and lays the VM out; a <see cref="VmmException"/> on bad input.</summary>
    public static BootPlan Create(VmOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Validate() is string problem)
        {
            throw new VmmException(problem);
        }

        var layout = new VmmLayout(options.RamSize, options.Cpus, options.Realm);
        byte[] kernelBytes = options.KernelBytes ?? GuestImageLoader.ReadFile(options.Kernel!, "kernel");
        string kernelName = options.Kernel ?? "kernel";
        GuestImage kernel = GuestImageLoader.Load(kernelBytes, options.RamSize, kernelName);

        // A realm populates whole granules: what follows the kernel starts on the next granule (§3.1).
        ulong kernelEnd = options.Realm ? VmmLayout.AlignUp(kernel.End, VmmLayout.GranuleSize) : kernel.End;
        ulong fdt = layout.FdtAddress;
        if (fdt < kernelEnd)
        {
            throw new VmmException($"{kernelName}: the image (0x{kernel.Start:x}-0x{kernel.End:x}) overlaps the device tree at 0x{fdt:x}; give the VM more memory (--mem)");
        }

        byte[]? initrd = options.InitrdBytes ?? (options.Initrd is null ? null : GuestImageLoader.ReadFile(options.Initrd, "initrd"));
        string initrdName = options.Initrd ?? "initrd";
        ulong initrdAddress = 0;
        if (initrd is not null)
        {
            if (initrd.Length == 0)
            {
                throw new VmmException($"{initrdName}: the initrd is empty");
            }

            try
            {
                initrdAddress = layout.InitrdAddress((ulong)initrd.Length);
            }
            catch (VmmException e)
            {
                throw new VmmException($"{initrdName}: {e.Message}", e);
            }

            if (initrdAddress < kernelEnd)
            {
                throw new VmmException($"{initrdName}: the initrd (0x{initrdAddress:x}-0x{initrdAddress + (ulong)initrd.Length:x}) overlaps the kernel image (0x{kernel.Start:x}-0x{kernel.End:x}); give the VM more memory (--mem) or use a smaller initrd");
            }
        }

        var contents = new DeviceTreeContents(options.Params, initrdAddress, initrd is null ? 0 : initrdAddress + (ulong)initrd.Length, options.Pmu || options.PmuCounters is not null);
        byte[] dtb = DeviceTreeGenerator.Build(layout, contents);

        var items = new List<LoadedRegion>();
        foreach (ImageSegment segment in kernel.Segments)
        {
            items.Add(new LoadedRegion("kernel", segment.Address, segment.Bytes));
        }

        if (initrd is not null)
        {
            items.Add(new LoadedRegion("initrd", initrdAddress, initrd));
        }

        items.Add(new LoadedRegion("dtb", fdt, dtb));
        IReadOnlyList<LoadedRegion> populate = options.Realm ? GranuleRegions(items) : [];
        return new BootPlan(options, layout, kernel, initrd, initrdAddress, dtb, populate) { Items = items };
    }

    /// <summary>The loaded items (kernel segments, initrd, DTB) as they are written into RAM.</summary>
    public IReadOnlyList<LoadedRegion> Items { get; private init; } = [];

    /// <summary>
    /// The items' granules, merged where they touch or share a granule, in GPA order, each with the RAM contents
    /// (file bytes, zero elsewhere) that RMI_DATA_CREATE copies and measures.
    /// </summary>
    private static List<LoadedRegion> GranuleRegions(List<LoadedRegion> items)
    {
        var spans = items
            .Select(i => (Start: VmmLayout.AlignDown(i.Address, VmmLayout.GranuleSize), End: VmmLayout.AlignUp(i.Address + (ulong)i.Bytes.Length, VmmLayout.GranuleSize)))
            .Where(s => s.End > s.Start)
            .OrderBy(s => s.Start)
            .ToList();
        var merged = new List<(ulong Start, ulong End)>();
        foreach ((ulong start, ulong end) in spans)
        {
            if (merged.Count > 0 && start <= merged[^1].End)
            {
                merged[^1] = (merged[^1].Start, Math.Max(merged[^1].End, end));
            }
            else
            {
                merged.Add((start, end));
            }
        }

        var regions = new List<LoadedRegion>();
        foreach ((ulong start, ulong end) in merged)
        {
            byte[] bytes = new byte[end - start];
            foreach (LoadedRegion item in items)
            {
                if (item.Address >= start && item.Address < end)
                {
                    item.Bytes.Span.CopyTo(bytes.AsSpan((int)(item.Address - start)));
                }
            }

            regions.Add(new LoadedRegion(string.Join('+', items.Where(i => i.Address >= start && i.Address < end).Select(i => i.Name).Distinct()), start, bytes));
        }

        return regions;
    }
}
