using CcaSim.Platform.Execution;
using CcaSim.Platform.Memory;
using CcaSim.Platform.Monitor;
using CcaSim.Platform.Tracing;

namespace CcaSim.Platform;

/// <summary>Description of a platform: its DRAM and the PAS of granules that firmware reserved at boot.</summary>
public sealed record PlatformOptions
{
    /// <summary>Default DRAM base, as on Arm's FVP and kvmtool's guest layout.</summary>
    public const ulong DefaultMemoryBase = 0x8000_0000;

    /// <summary>Default pool: 1 GiB.</summary>
    public const ulong DefaultMemorySize = 1UL << 30;

    public ulong MemoryBase { get; init; } = DefaultMemoryBase;

    public ulong MemorySize { get; init; } = DefaultMemorySize;

    /// <summary>Bytes of host storage the simulated DRAM may take (2 MiB slabs); unlimited by default.</summary>
    public ulong MaxCommittedBytes { get; init; } = ulong.MaxValue;

    /// <summary>Ranges that boot firmware placed in a PAS other than Non-secure (e.g. Secure-world carve-outs).</summary>
    public IReadOnlyList<PasRange> ReservedRanges { get; init; } = [];
}

/// <summary>A granule-aligned range of physical memory and the PAS it boots in.</summary>
public readonly record struct PasRange(ulong Base, ulong Size, Pas Pas);

/// <summary>
/// The machine below the RMM: DRAM, the Granule Protection Table, the EL3 monitor and the host's (normal-world)
/// view of memory. Upper layers reach the RMM only through <see cref="Monitor"/> and read or write memory only
/// through <see cref="HostMemory"/>.
/// </summary>
public sealed class CcaPlatform
{
    public CcaPlatform(PlatformOptions? options = null)
    {
        options ??= new PlatformOptions();
        Options = options;
        Memory = new PhysicalMemory(options.MemoryBase, options.MemorySize) { CommitLimit = options.MaxCommittedBytes };
        Gpt = new GranuleProtectionTable(Memory);
        foreach (PasRange range in options.ReservedRanges)
        {
            if (range.Base % PhysicalMemory.GranuleSize != 0 || range.Size % PhysicalMemory.GranuleSize != 0 || !Memory.Contains(range.Base, range.Size))
            {
                throw new ArgumentException($"reserved range 0x{range.Base:x}+0x{range.Size:x} is not a granule-aligned part of memory", nameof(options));
            }

            for (ulong pa = range.Base; pa < range.Base + range.Size; pa += PhysicalMemory.GranuleSize)
            {
                Gpt.Set(Memory.GranuleIndex(pa), range.Pas);
            }
        }

        Trace = new TracePort(Clock);
        Monitor = new SecureMonitor(Memory, Gpt, Trace);
        HostMemory = new MemoryAccessor(Memory, Gpt, AccessWorld.NonSecure);
    }

    public PlatformOptions Options { get; }

    public PhysicalMemory Memory { get; }

    public GranuleProtectionTable Gpt { get; }

    public SecureMonitor Monitor { get; }

    /// <summary>The machine's virtual time: the system counter and the host scheduler's time slice.</summary>
    public VirtualClock Clock { get; } = new();

    /// <summary>The trace port every layer emits to (the monitor, the RMM, the CPU engine, KVM); off until a sink is set.</summary>
    public TracePort Trace { get; }

    /// <summary>Physical interrupt lines of the PE that runs realms.</summary>
    public PhysicalInterrupts Interrupts { get; } = new();

    /// <summary>The normal world's view of memory: touching a Realm, Secure or Root granule is a granule protection fault.</summary>
    public MemoryAccessor HostMemory { get; }
}
