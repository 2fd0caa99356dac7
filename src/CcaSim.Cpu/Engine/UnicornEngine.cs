using CcaSim.Cpu.Unicorn;
using CcaSim.Platform.Execution;
using CcaSim.Platform.Tracing;

namespace CcaSim.Cpu.Engine;

/// <summary>
/// Runs realm and VM vCPUs on Unicorn (unicorn-2.0.1.md, cpu-design.md): one uc engine per
/// <see cref="RealmVcpuContext"/>, created on its first run, all driven on the caller's thread so guest atomics
/// are exact and runs deterministic. Not thread-safe: one host thread per machine.
/// </summary>
public sealed class UnicornEngine : IRealmEngine, IDisposable
{
    private readonly VirtualClock _clock;
    private readonly bool _nativeCounter;
    private readonly TracePort? _trace;
    private readonly Dictionary<RealmVcpuContext, Vcpu> _vcpus = new(ReferenceEqualityComparer.Instance);

    /// <summary>Loads Unicorn (throws <see cref="UnicornNotFoundException"/> when it cannot).</summary>
    public UnicornEngine(VirtualClock clock)
        : this(clock, nativeBlockCounter: true)
    {
    }

    /// <summary>An engine that reports runs, interrupts, timer events and guest faults to <paramref name="trace"/>.</summary>
    public UnicornEngine(VirtualClock clock, TracePort? trace)
        : this(clock, nativeBlockCounter: true, trace)
    {
    }

    /// <summary>
    /// <paramref name="nativeBlockCounter"/> false counts instructions with the managed BLOCK callback even where
    /// the native stub is available (tests compare the two paths; the bench measures what the stub saves).
    /// </summary>
    internal UnicornEngine(VirtualClock clock, bool nativeBlockCounter, TracePort? trace = null)
    {
        ArgumentNullException.ThrowIfNull(clock);
        UnicornLibrary.Load();
        _clock = clock;
        _nativeCounter = nativeBlockCounter;
        _trace = trace;
    }

    /// <summary>The library the engine runs on, e.g. "2.1.1 (/path/libunicorn.so.2)".</summary>
    public static string LibraryDescription => $"{UnicornLibrary.Version} ({UnicornLibrary.Path})";

    /// <summary>How executed instructions are counted: the native stub, or the managed callback and why (one line).</summary>
    public static string InstructionCounting => BlockCounterStub.Description;

    public RealmEvent Run(RealmVcpuContext context, IRealmMemory memory) => Run(context, memory, null);

    /// <summary>Runs with <paramref name="fastPath"/> answering the SMCs it accepts from the INTR hook, without an exit.</summary>
    public RealmEvent Run(RealmVcpuContext context, IRealmMemory memory, IRealmSmcFastPath? fastPath)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(memory);
        if (!_vcpus.TryGetValue(context, out Vcpu? vcpu))
        {
            vcpu = new Vcpu(context, _clock, _nativeCounter, _trace);
            _vcpus.Add(context, vcpu);
        }

        return vcpu.Run(memory, fastPath);
    }

    public void Stage2Changed(IRealmMemory memory, ulong ipa, ulong size)
    {
        foreach (Vcpu vcpu in _vcpus.Values)
        {
            if (ReferenceEquals(vcpu.Memory, memory))
            {
                vcpu.Unmap(ipa, size);
            }
        }
    }

    public void Flush(RealmVcpuContext context)
    {
        if (_vcpus.TryGetValue(context, out Vcpu? vcpu))
        {
            vcpu.Flush();
        }
    }

    public void Release(RealmVcpuContext context)
    {
        if (_vcpus.Remove(context, out Vcpu? vcpu))
        {
            vcpu.Dispose();
        }
    }

    public void Release(IRealmMemory memory)
    {
        foreach (Vcpu vcpu in _vcpus.Values)
        {
            if (ReferenceEquals(vcpu.Memory, memory))
            {
                vcpu.UnmapAll();
            }
        }
    }

    /// <summary>Instructions counted for <paramref name="context"/> so far (BLOCK hook: TB size / 4).</summary>
    public ulong InstructionsExecuted(RealmVcpuContext context) =>
        _vcpus.TryGetValue(context, out Vcpu? vcpu) ? vcpu.Executed : 0;

    public void Dispose()
    {
        foreach (Vcpu vcpu in _vcpus.Values)
        {
            vcpu.Dispose();
        }

        _vcpus.Clear();
    }
}
