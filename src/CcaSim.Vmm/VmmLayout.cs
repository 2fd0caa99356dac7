namespace CcaSim.Vmm;

/// <summary>
/// The guest physical memory map of an arm64 kvmtool VM (kvm-realm-abi.md §3.1, realm-platform.md §2.3), in one
/// place. Fixed addresses are constants; what depends on the RAM size or the vCPU count is computed by the
/// instance members.
/// </summary>
public sealed class VmmLayout
{
    /// <summary>kvmtool ARM_MEMORY_AREA: RAM is one bank starting at 2 GiB.</summary>
    public const ulong RamBase = 0x8000_0000;

    /// <summary>Where kvmtool loads an image without an arm64 Image header (its assumed TEXT_OFFSET).</summary>
    public const ulong DefaultTextOffset = 0x8_0000;

    /// <summary>kvmtool ARM_UART_MMIO_BASE: the first 8250 UART, the first device of the MMIO area.</summary>
    public const ulong UartBase = 0x0100_0000;

    /// <summary>The 8250's register window: eight byte-wide registers.</summary>
    public const ulong UartSize = 8;

    /// <summary>kvmtool gives the UART the first SPI (GIC INTID 32).</summary>
    public const uint UartSpi = 0;

    /// <summary>The 8250's input clock as kvmtool describes it in the DT (the classic 1.8432 MHz crystal).</summary>
    public const uint UartClockHz = 1_843_200;

    /// <summary>kvmtool ARM_GIC_DIST_BASE: the 64 KiB GICv3 distributor right below the AXI area at 1 GiB.</summary>
    public const ulong GicDistributorBase = 0x3FFF_0000;

    /// <summary>GICv3 distributor frame size.</summary>
    public const ulong GicDistributorSize = 0x1_0000;

    /// <summary>One GICv3 redistributor (RD_base + SGI_base frames) per vCPU.</summary>
    public const ulong GicRedistributorSize = 0x2_0000;

    /// <summary>kvmtool caps the DTB and the initrd to the first 256 MiB of RAM ("lowmem" for Linux).</summary>
    public const ulong LowMemoryLimit = 256UL << 20;

    /// <summary>kvmtool FDT_MAX_SIZE: the largest DTB it writes (64 KiB).</summary>
    public const ulong FdtMaxSize = 0x1_0000;

    /// <summary>kvmtool FDT_ALIGN: the DTB starts on a 2 MiB boundary.</summary>
    public const ulong FdtAlign = 2UL << 20;

    /// <summary>kvmtool INITRD_ALIGN.</summary>
    public const ulong InitrdAlign = 4;

    /// <summary>Granule of RMI_DATA_CREATE and of the realm's RIPAS: populated regions are 4 KiB aligned.</summary>
    public const ulong GranuleSize = 0x1000;

    /// <summary>The timer PPIs (INTID − 16) kvmtool lists in /timer: secure physical, non-secure physical, virtual, hypervisor.</summary>
    public static readonly uint[] TimerPpis = [13, 14, 11, 10];

    /// <summary>The PMU overflow PPI (INTID 23), as kvmtool wires it.</summary>
    public const uint PmuPpi = 7;

    public VmmLayout(ulong ramSize, int vcpus, bool realm)
    {
        if (ramSize == 0 || ramSize % GranuleSize != 0)
        {
            throw new VmmException($"the RAM size 0x{ramSize:x} is not a non-zero multiple of 4 KiB");
        }

        if (vcpus < 1)
        {
            throw new VmmException($"a VM needs at least one vCPU (asked for {vcpus})");
        }

        if ((ulong)vcpus * GicRedistributorSize > GicDistributorBase - (UartBase + UartSize))
        {
            throw new VmmException($"{vcpus} vCPUs' GICv3 redistributors do not fit below the distributor at 0x{GicDistributorBase:x}");
        }

        RamSize = ramSize;
        Vcpus = vcpus;
        IsRealm = realm;
    }

    public ulong RamSize { get; }

    public int Vcpus { get; }

    public bool IsRealm { get; }

    /// <summary>One past the last RAM byte.</summary>
    public ulong RamEnd => RamBase + RamSize;

    /// <summary>Base of the redistributor regions: one 128 KiB frame per vCPU, ending at the distributor.</summary>
    public ulong GicRedistributorBase => GicDistributorBase - ((ulong)Vcpus * GicRedistributorSize);

    /// <summary>Size of all redistributor frames together.</summary>
    public ulong GicRedistributorRegionSize => (ulong)Vcpus * GicRedistributorSize;

    /// <summary>
    /// The VM's IPA width: kvmtool takes max(32, fls(last RAM byte)) and adds one bit for a realm, whose upper half
    /// is the unprotected (shared) alias (§3.1).
    /// </summary>
    public int IpaBits
    {
        get
        {
            int bits = Math.Max(32, 64 - System.Numerics.BitOperations.LeadingZeroCount(RamEnd - 1));
            return IsRealm ? bits + 1 : bits;
        }
    }

    /// <summary>The realm's unprotected-alias bit (1 &lt;&lt; (IPA width − 1)); 0 for a normal VM.</summary>
    public ulong UnprotectedBit => IsRealm ? 1UL << (IpaBits - 1) : 0;

    /// <summary>kvmtool's "limit": the last byte of lowmem, min(RAM, 256 MiB) into RAM.</summary>
    public ulong LowMemoryLast => RamBase + Math.Min(RamSize, LowMemoryLimit) - 1;

    /// <summary>
    /// The DTB's address: kvmtool steps FDT_MAX_SIZE + FDT_ALIGN back from the end of lowmem and rounds up to
    /// 2 MiB, which puts it on the last 2 MiB boundary that leaves room for FDT_MAX_SIZE (realm-platform.md §2.3).
    /// </summary>
    public ulong FdtAddress
    {
        get
        {
            ulong last = LowMemoryLast;
            if (last - RamBase < FdtMaxSize + FdtAlign)
            {
                return RamBase;
            }

            return AlignUp(last - (FdtMaxSize + FdtAlign), FdtAlign);
        }
    }

    /// <summary>The initrd's address as kvmtool picks it: right below the DTB, 4-byte aligned (a realm's on a page).</summary>
    public ulong InitrdAddress(ulong initrdSize)
    {
        ulong fdt = FdtAddress;
        if (initrdSize + InitrdAlign > fdt - RamBase)
        {
            throw new VmmException($"the initrd ({initrdSize} bytes) does not fit in RAM below the device tree at 0x{fdt:x}");
        }

        ulong address = AlignUp(fdt - (initrdSize + InitrdAlign), InitrdAlign);

        // A realm populates whole granules: the initrd must not share its first granule with the kernel's tail (§3.1).
        return IsRealm ? address & ~(GranuleSize - 1) : address;
    }

    /// <summary>MPIDR_EL1 of vCPU <paramref name="vcpuId"/> as KVM resets it (reset_mpidr: Aff0 = 4 bits, Aff1, Aff2).</summary>
    public static ulong Mpidr(int vcpuId) =>
        (uint)(vcpuId & 0x0F) | ((ulong)(uint)((vcpuId >> 4) & 0xFF) << 8) | ((ulong)(uint)((vcpuId >> 12) & 0xFF) << 16);

    public static ulong AlignUp(ulong value, ulong alignment) => (value + alignment - 1) & ~(alignment - 1);

    public static ulong AlignDown(ulong value, ulong alignment) => value & ~(alignment - 1);
}
