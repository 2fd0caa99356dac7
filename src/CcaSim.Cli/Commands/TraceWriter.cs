using System.Globalization;
using System.Text.Json;
using CcaSim.Cli.Console;
using CcaSim.Cpu.Disassembly;
using CcaSim.Platform.Execution;
using CcaSim.Platform.Tracing;
using CcaSim.Rmm.Rmi;
using CcaSim.Vmm;

namespace CcaSim.Cli.Commands;

/// <summary>
/// <c>run --trace FILE</c>: the run as Chrome trace-event JSON (the format Perfetto and chrome://tracing open), on the
/// virtual time line. The VMM's events (MachineOptions.Events: each KVM_RUN a slice ending in its exit reason, MMIO,
/// RIPAS changes, hypercalls, system events, populates on a track of their own) and the platform's trace port
/// (MachineOptions.Trace: RMI calls on a host track; REC and guest runs, RSI/PSCI calls, interrupts, timer PPIs and
/// guest faults on the vCPU tracks) go through one buffer per KVM_RUN, written sorted by start time with
/// Utf8JsonWriter (no reflection). A write that fails stops the trace, not the run; <see cref="Problem"/> says why.
/// </summary>
internal sealed class TraceWriter : ITraceSink, IDisposable
{
    private const int FlushEvery = 256;
    private const int PopulateTrack = 1000;
    private const int HostTrack = 1001;

    private readonly string _path;
    private readonly FileStream _file;
    private readonly Utf8JsonWriter _json;
    private readonly HashSet<int> _named = [];
    private readonly List<Pending> _buffer = [];
    private readonly Dictionary<int, ulong> _recInstructions = [];
    private readonly Dictionary<int, ulong> _runInstructions = [];
    private readonly Dictionary<int, TraceEvent> _lastWord = [];
    private ulong _sliceStart;
    private long _sequence;
    private int _pending;

    private TraceWriter(string path, FileStream file)
    {
        _path = path;
        _file = file;
        _json = new Utf8JsonWriter(file);
        _json.WriteStartObject();
        _json.WriteString("displayTimeUnit", "ns");
        _json.WriteStartArray("traceEvents");
        Metadata("process_name", 0, "ccasim run");
    }

    /// <summary>The first write that failed, as one line, or null.</summary>
    public string? Problem { get; private set; }

    /// <summary>Creates <paramref name="path"/>; null with one line saying why it cannot be.</summary>
    public static TraceWriter? TryCreate(string path, out string? problem)
    {
        problem = path.Length == 0 ? "--trace: the file name is empty"
            : Directory.Exists(path) ? $"--trace '{path}' is a directory, not a file"
            : null;
        if (problem is not null)
        {
            return null;
        }

        try
        {
            return new TraceWriter(path, new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException or System.Security.SecurityException)
        {
            problem = $"--trace: cannot create '{path}': {Console.OutputFiles.OneLine(e.Message)}";
            return null;
        }
    }

    /// <summary>Records one VMM event (MachineOptions.Events).</summary>
    public void Add(VmmEvent e)
    {
        if (e.Kind == VmmEventKind.Exit)
        {
            // vCPUs run round-robin on one virtual clock: a KVM_RUN began where the previous one ended. Everything
            // the layers below reported during it is in the buffer; the slice goes in front of it and all is written.
            ulong start = Math.Min(_sliceStart, e.VirtualTime);
            ulong instructions = _runInstructions.Remove(e.Vcpu, out ulong counted) ? counted : (e.VirtualTime - start) * Platform.Execution.VirtualClock.InstructionsPerTick;
            Buffer(new Pending { Ticks = start, IsVmm = true, Vmm = e, Instructions = instructions });
            _sliceStart = e.VirtualTime;
            WriteBuffered();
            return;
        }

        if (e.Kind == VmmEventKind.Populate)
        {
            _sliceStart = Math.Max(_sliceStart, e.VirtualTime);
        }

        Buffer(new Pending { Ticks = e.VirtualTime, IsVmm = true, Vmm = e });
    }

    /// <summary>
    /// Records one event of the platform's trace port (MachineOptions.Trace). Events arrive when they complete, so a
    /// REC run or an RMI call comes after what happened inside it: they are buffered until the KVM_RUN ends and
    /// written in order of their start (stable, so ties keep their order of arrival).
    /// </summary>
    public void Record(in TraceEvent e)
    {
        TraceEvent ev = e;
        switch (e.Kind)
        {
            case TraceEventKind.EngineRun:
                // Instructions are summed into the REC run (or normal-VM run) and the KVM_RUN that contain them.
                _recInstructions[e.Vcpu] = _recInstructions.GetValueOrDefault(e.Vcpu) + e.Instructions;
                _runInstructions[e.Vcpu] = _runInstructions.GetValueOrDefault(e.Vcpu) + e.Instructions;
                if (e.HasInstruction)
                {
                    _lastWord[e.Vcpu] = e;
                }

                break;
            case TraceEventKind.RecRun:
            case TraceEventKind.GuestExit:
                ev = e with { Instructions = _recInstructions.Remove(e.Vcpu, out ulong n) ? n : 0 };
                if (_lastWord.Remove(e.Vcpu, out TraceEvent run) && run.Pc == e.Pc)
                {
                    // The engine read the word at the PC of the access that stopped it, which is where the REC stays.
                    ev = ev with { Instruction = run.Instruction, HasInstruction = true };
                }

                break;
        }

        Buffer(new Pending { Ticks = e.Time, Trace = ev });
    }

    private void Buffer(in Pending p)
    {
        if (Problem is null)
        {
            _buffer.Add(p with { Sequence = _sequence++ });
        }
    }

    private void WriteBuffered()
    {
        if (Problem is not null)
        {
            _buffer.Clear();
            return;
        }

        _buffer.Sort(static (a, b) => a.Ticks != b.Ticks ? a.Ticks.CompareTo(b.Ticks) : a.Sequence.CompareTo(b.Sequence));
        try
        {
            foreach (Pending p in _buffer)
            {
                if (p.IsVmm)
                {
                    Write(p.Vmm, p.Ticks, p.Instructions);
                }
                else
                {
                    Write(p.Trace);
                }

                if (++_pending >= FlushEvery)
                {
                    _pending = 0;
                    _json.Flush();
                }
            }
        }
        catch (Exception x) when (x is IOException or UnauthorizedAccessException)
        {
            Problem = $"--trace: writing '{_path}' failed: {Console.OutputFiles.OneLine(x.Message)}; the trace is incomplete";
        }

        _buffer.Clear();
    }

    /// <summary>Closes the JSON and the file; false (with <see cref="Problem"/>) when the trace could not be completed.</summary>
    public bool Complete()
    {
        WriteBuffered();
        if (Problem is null)
        {
            try
            {
                _json.WriteEndArray();
                _json.WriteEndObject();
                _json.Flush();
                _file.Flush();
            }
            catch (Exception x) when (x is IOException or UnauthorizedAccessException)
            {
                Problem = $"--trace: writing '{_path}' failed: {Console.OutputFiles.OneLine(x.Message)}; the trace is incomplete";
            }
        }

        return Problem is null;
    }

    public void Dispose()
    {
        try
        {
            _json.Dispose();
            _file.Dispose();
        }
        catch (Exception x) when (x is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            Problem ??= $"--trace: closing '{_path}' failed: {Console.OutputFiles.OneLine(x.Message)}";
        }
    }

    /// <summary>The counter runs at 62.5 MHz; trace timestamps are microseconds.</summary>
    private static double Microseconds(ulong ticks) => ticks * 1e6 / Platform.Execution.VirtualClock.CounterFrequency;

    private void Write(VmmEvent e, ulong start, ulong instructions)
    {
        if (e.Kind == VmmEventKind.Populated)
        {
            return; // the populate instant already says what and where; steps are for progress displays
        }

        int track = e.Kind == VmmEventKind.Populate ? PopulateTrack : e.Vcpu;
        Name(track);

        if (e.Kind == VmmEventKind.Exit)
        {
            // vCPUs run round-robin on one virtual clock: a KVM_RUN began where the previous one ended.
            _json.WriteStartObject();
            _json.WriteString("name", e.Detail == "EINTR" ? "KVM_RUN (slice end)" : $"KVM_RUN → {e.Detail}");
            _json.WriteString("ph", "X");
            Place(track, start);
            _json.WriteNumber("dur", Microseconds(e.VirtualTime - start));
            _json.WriteStartObject("args");
            _json.WriteString("exit", e.Detail);
            _json.WriteNumber("instructions", instructions);
            _json.WriteEndObject();
            _json.WriteEndObject();
            return;
        }

        _json.WriteStartObject();
        _json.WriteString("name", e.Kind switch
        {
            VmmEventKind.Mmio => $"MMIO {(e.IsWrite ? "write" : "read")} {e.Detail}",
            VmmEventKind.MemoryFault => $"RIPAS change → {e.Detail}",
            VmmEventKind.SystemEvent => $"PSCI system event: {e.Detail}",
            VmmEventKind.Hypercall => "SMCCC call to the VMM",
            VmmEventKind.Populate => $"populate {e.Detail}",
            _ => e.Kind.ToString(),
        });
        _json.WriteString("ph", "i");
        _json.WriteString("s", "t");
        Place(track, e.VirtualTime);
        _json.WriteStartObject("args");
        if (e.Kind is VmmEventKind.Mmio or VmmEventKind.MemoryFault or VmmEventKind.Populate)
        {
            _json.WriteString("address", "0x" + e.Address.ToString("x", CultureInfo.InvariantCulture));
            _json.WriteNumber("size", e.Size);
        }

        if (e.Kind is VmmEventKind.Mmio or VmmEventKind.Hypercall or VmmEventKind.SystemEvent)
        {
            _json.WriteString("value", "0x" + e.Value.ToString("x", CultureInfo.InvariantCulture));
        }

        _json.WriteEndObject();
        _json.WriteEndObject();
    }

    /// <summary>One event of the platform's trace port: runs as slices, calls, interrupts and faults as instants.</summary>
    private void Write(in TraceEvent e)
    {
        int track = e.Vcpu == TraceEvent.Host ? HostTrack : e.Vcpu;
        Name(track);
        switch (e.Kind)
        {
            case TraceEventKind.RmiCall:
                Slice(track, FunctionNames.NameOf(e.Function), e.Time, e.Duration);
                Hex("x1", e.Arg1);
                Hex("x2", e.Arg2);
                Hex("x3", e.Arg3);
                _json.WriteString("status", RmiStatusName(e.Function, e.Result));
                break;
            case TraceEventKind.RecRun:
                Slice(track, $"REC run → {RecExitName(e.Function)}", e.Time, e.Duration);
                _json.WriteString("exit", RecExitName(e.Function));
                ExitArguments(e);
                break;
            case TraceEventKind.GuestExit:
                Slice(track, $"guest run → {(RealmEventKind)e.Function}", e.Time, e.Duration);
                _json.WriteString("exit", ((RealmEventKind)e.Function).ToString());
                ExitArguments(e);
                break;
            case TraceEventKind.EngineRun:
                Slice(track, $"engine run → {(RealmEventKind)e.Function}", e.Time, e.Duration);
                _json.WriteNumber("instructions", e.Instructions);
                Hex("pc", e.Pc);
                break;
            case TraceEventKind.RsiCall:
            case TraceEventKind.PsciCall:
                Instant(track, FunctionNames.NameOf(e.Function), e.Time);
                Hex("x1", e.Arg1);
                Hex("x2", e.Arg2);
                Hex("x3", e.Arg3);
                if (e.Result == e.Function)
                {
                    _json.WriteString("result", "completes after an exit to the host");
                }
                else if (e.Kind == TraceEventKind.RsiCall)
                {
                    _json.WriteString("result", RsiStatusName(e.Result));
                }
                else
                {
                    _json.WriteString("result", ((long)e.Result).ToString(CultureInfo.InvariantCulture));
                }

                if (e.Inline)
                {
                    _json.WriteBoolean("inline", true);
                }

                break;
            case TraceEventKind.InterruptAcknowledged:
                Instant(track, $"IRQ {e.Intid} taken", e.Time);
                _json.WriteNumber("intid", e.Intid);
                Hex("pc", e.Pc);
                break;
            case TraceEventKind.TimerFired:
                Instant(track, e.Intid == 27 ? "CNTV timer fired (PPI 27)" : $"CNTP timer fired (PPI {e.Intid})", e.Time);
                _json.WriteNumber("intid", e.Intid);
                break;
            case TraceEventKind.GuestException:
                Instant(track, $"guest exception EC 0x{(e.Esr >> 26) & 0x3F:x2}", e.Time);
                Hex("esr", e.Esr);
                Hex("far", e.Far);
                Hex("pc", e.Pc);
                Instruction(e);
                break;
            default:
                Instant(track, e.Kind.ToString(), e.Time);
                break;
        }

        _json.WriteEndObject();
        _json.WriteEndObject();
    }

    private void ExitArguments(in TraceEvent e)
    {
        Hex("esr", e.Esr);
        Hex("far", e.Far);
        Hex("ipa", e.Ipa);
        Hex("pc", e.Pc);
        _json.WriteNumber("instructions", e.Instructions);
        Instruction(e);
    }

    /// <summary>The faulting instruction: its word, and its disassembly where Capstone is installed.</summary>
    private void Instruction(in TraceEvent e)
    {
        if (!e.HasInstruction)
        {
            return;
        }

        _json.WriteString("instruction", "0x" + e.Instruction.ToString("x8", CultureInfo.InvariantCulture));
        _json.WriteString("disassembly", A64Disassembler.TryDisassemble(e.Instruction, e.Pc) ?? (A64Disassembler.IsAvailable ? "(not an A64 instruction)" : A64Disassembler.Unavailable));
    }

    /// <summary>Starts a complete ("X") event and its args object; the caller writes the args and closes both.</summary>
    private void Slice(int track, string name, ulong start, ulong duration)
    {
        _json.WriteStartObject();
        _json.WriteString("name", name);
        _json.WriteString("ph", "X");
        Place(track, start);
        _json.WriteNumber("dur", Microseconds(duration));
        _json.WriteStartObject("args");
    }

    /// <summary>Starts a thread-scoped instant ("i") event and its args object.</summary>
    private void Instant(int track, string name, ulong ticks)
    {
        _json.WriteStartObject();
        _json.WriteString("name", name);
        _json.WriteString("ph", "i");
        _json.WriteString("s", "t");
        Place(track, ticks);
        _json.WriteStartObject("args");
    }

    private void Hex(string name, ulong value) => _json.WriteString(name, "0x" + value.ToString("x", CultureInfo.InvariantCulture));

    private void Name(int track)
    {
        if (_named.Add(track))
        {
            Metadata("thread_name", track, track switch
            {
                PopulateTrack => "populate (KVM_ARM_RMI_POPULATE)",
                HostTrack => "host (RMI calls by KVM)",
                _ => $"vCPU {track}",
            });
        }
    }

    // The names `ccasim rmm` prints (Console.ResultNames), with the spec's RMI_/RMI_EXIT_ prefixes.
    private static string RmiStatusName(ulong fid, ulong x0) => x0 >> 16 == 0 ? "RMI_" + ResultNames.RmiStatusName(fid, x0) : ResultNames.RmiStatusName(fid, x0);

    private static string RsiStatusName(ulong x0) => ResultNames.RsiStatusName(x0);

    /// <summary>RmiRecExitReason (rmm-1.0.md §4.3) by its spec name.</summary>
    private static string RecExitName(ulong reason) =>
        reason <= (ulong)RecExitReason.SError ? "RMI_EXIT_" + ResultNames.ExitReasonName(reason) : $"exit reason {reason}";

    /// <summary>A buffered event: a VMM event (with the start and instruction count of a KVM_RUN slice) or a trace-port event.</summary>
    private readonly record struct Pending
    {
        public ulong Ticks { get; init; }

        public long Sequence { get; init; }

        public bool IsVmm { get; init; }

        public VmmEvent Vmm { get; init; }

        public TraceEvent Trace { get; init; }

        public ulong Instructions { get; init; }
    }

    private void Place(int track, ulong ticks)
    {
        _json.WriteNumber("pid", 0);
        _json.WriteNumber("tid", track);
        _json.WriteNumber("ts", Microseconds(ticks));
    }

    private void Metadata(string name, int track, string value)
    {
        _json.WriteStartObject();
        _json.WriteString("name", name);
        _json.WriteString("ph", "M");
        _json.WriteNumber("pid", 0);
        _json.WriteNumber("tid", track);
        _json.WriteStartObject("args");
        _json.WriteString("name", value);
        _json.WriteEndObject();
        _json.WriteEndObject();
    }
}
