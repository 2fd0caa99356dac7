namespace CcaSim.Vmm;

/// <summary>The realm measurement algorithm (kvmtool --measurement-algo).</summary>
public enum MeasurementAlgorithm
{
    Sha256,
    Sha512,
}

/// <summary>
/// The shape of a VM, mirroring <c>lkvm run</c> where the options mean the same (kvm-realm-abi.md §3.1): -k, -i, -p,
/// -m, -c, --realm, --measurement-algo, --realm-pv, --sve-vl, --pmu, --pmu-counters, --console, --irqchip.
/// </summary>
public sealed record VmOptions
{
    /// <summary>kvmtool's default RAM for arm64 (-m), in MiB.</summary>
    public const int DefaultMemoryMiB = 64;

    /// <summary>-k/--kernel: path of an arm64 Image, an AArch64 ELF or a flat binary. Ignored when <see cref="KernelBytes"/> is set.</summary>
    public string? Kernel { get; init; }

    /// <summary>The kernel's bytes, for embedders that hold the image in memory.</summary>
    public byte[]? KernelBytes { get; init; }

    /// <summary>-i/--initrd: path of an initial RAM disk, placed below the DTB as kvmtool places it.</summary>
    public string? Initrd { get; init; }

    /// <summary>The initrd's bytes, for embedders; takes precedence over <see cref="Initrd"/>.</summary>
    public byte[]? InitrdBytes { get; init; }

    /// <summary>-p/--params: the kernel command line, /chosen/bootargs.</summary>
    public string? Params { get; init; }

    /// <summary>-m/--mem: RAM in MiB.</summary>
    public int MemoryMiB { get; init; } = DefaultMemoryMiB;

    /// <summary>-c/--cpus.</summary>
    public int Cpus { get; init; } = 1;

    /// <summary>--realm: run the VM as a realm (guest_memfd-backed RAM, populated and measured).</summary>
    public bool Realm { get; init; }

    /// <summary>
    /// --measurement-algo. The v12 KVM ABI always creates SHA-256 realms (§2.9); SHA-512 goes through the pre-v12
    /// CONFIG_REALM compatibility option of the KVM model (<see cref="UsesPreV12RealmConfig"/>, §2.20).
    /// </summary>
    public MeasurementAlgorithm MeasurementAlgorithm { get; init; } = MeasurementAlgorithm.Sha256;

    /// <summary>
    /// --realm-pv: the personalisation value as kvmtool takes it (the string's bytes, zero padded to 64). Like
    /// SHA-512, a non-empty one needs the pre-v12 CONFIG_REALM compatibility option (§2.20).
    /// </summary>
    public string? RealmPersonalisationValue { get; init; }

    /// <summary>The RPV bytes the realm gets: kvmtool's realm_configure_rpv copies the string's strlen bytes into a zeroed 64-byte field.</summary>
    public byte[] PersonalisationValueBytes
    {
        get
        {
            byte[] rpv = new byte[64];
            if (RealmPersonalisationValue is string value)
            {
                byte[] raw = System.Text.Encoding.UTF8.GetBytes(value);
                raw.AsSpan(0, Math.Min(raw.Length, rpv.Length)).CopyTo(rpv);
            }

            return rpv;
        }
    }

    /// <summary>
    /// Whether this realm asks for what v12 cannot give (SHA-512 or a non-empty RPV), so the VMM issues the pre-v12
    /// CONFIG_REALM and the composition root turns on <c>KvmHostOptions.PreV12RealmConfig</c>.
    /// </summary>
    public bool UsesPreV12RealmConfig => Realm && (MeasurementAlgorithm != MeasurementAlgorithm.Sha256 || !string.IsNullOrEmpty(RealmPersonalisationValue));

    /// <summary>--sve-vl: the SVE vector length in bits (a multiple of 128), or null for no SVE.</summary>
    public int? SveVectorLength { get; init; }

    /// <summary>--pmu: give every vCPU a PMUv3 and describe it in the DT.</summary>
    public bool Pmu { get; init; }

    /// <summary>--pmu-counters: PMCR_EL0.N of a realm's PMU (implies --pmu).</summary>
    public int? PmuCounters { get; init; }

    /// <summary>--console: only "serial" (the 8250) is modelled.</summary>
    public string Console { get; init; } = "serial";

    /// <summary>--irqchip: only "gicv3" is modelled.</summary>
    public string Irqchip { get; init; } = "gicv3";

    /// <summary>
    /// Budget of virtual time, counted in instructions (16 per counter tick; an idle skip to a timer counts as the
    /// instructions that would have run): a guest still running when it is spent stops with a clear message.
    /// </summary>
    public ulong? MaxInstructions { get; init; }

    /// <summary>Wall-clock limit of the run loop (not deterministic; for interactive use).</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>RAM size in bytes.</summary>
    public ulong RamSize => (ulong)MemoryMiB << 20;

    /// <summary>
    /// Checks the options that need no file: one line naming the bad option, or null, so that the CLI and embedders
    /// fail before anything is created.
    /// </summary>
    public string? Validate()
    {
        if (MemoryMiB < 1 || MemoryMiB > 1 << 20)
        {
            return $"--mem {MemoryMiB}: RAM must be between 1 MiB and 1 TiB";
        }

        if (Cpus < 1 || Cpus > 512)
        {
            return $"--cpus {Cpus}: a VM has between 1 and 512 vCPUs";
        }

        if (Kernel is null && KernelBytes is null)
        {
            return "--kernel: no kernel image given";
        }

        if (!string.Equals(Console, "serial", StringComparison.Ordinal))
        {
            return $"--console {Console}: only 'serial' (the 8250 UART) is modelled";
        }

        if (!string.Equals(Irqchip, "gicv3", StringComparison.Ordinal))
        {
            return $"--irqchip {Irqchip}: only 'gicv3' is modelled";
        }

        if (!Realm && (MeasurementAlgorithm != MeasurementAlgorithm.Sha256 || RealmPersonalisationValue is not null))
        {
            return "--measurement-algo/--realm-pv: only a realm (--realm) has a measurement";
        }

        if (RealmPersonalisationValue is not null && System.Text.Encoding.UTF8.GetByteCount(RealmPersonalisationValue) > 64)
        {
            return $"--realm-pv: the personalisation value is at most 64 bytes (this one is {System.Text.Encoding.UTF8.GetByteCount(RealmPersonalisationValue)})";
        }

        if (SveVectorLength is int vl && (vl < 128 || vl > 2048 || vl % 128 != 0))
        {
            return $"--sve-vl {vl}: the SVE vector length is a multiple of 128 bits between 128 and 2048";
        }

        if (PmuCounters is int n && (n < 0 || n > 31))
        {
            return $"--pmu-counters {n}: PMCR_EL0.N is between 0 and 31";
        }

        if (PmuCounters is not null && !Realm)
        {
            return "--pmu-counters: only supported for realms (as in kvmtool)";
        }

        return null;
    }
}
