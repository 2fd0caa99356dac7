using System.Globalization;
using System.Text.Json;
using CcaSim.Vmm;

namespace CcaSim.Cli.Commands;

/// <summary>
/// <c>run --trace FILE</c>: the VMM's events as Chrome trace-event JSON (the format Perfetto and chrome://tracing
/// open), on the virtual time line: one track per vCPU, each KVM_RUN a slice ending in its exit reason, MMIO, RIPAS
/// changes, hypercalls and system events as instants, populates on a track of their own. Written as the run goes,
/// with Utf8JsonWriter (no reflection). A write that fails stops the trace, not the run; <see cref="Problem"/> says why.
/// </summary>
internal sealed class TraceWriter : IDisposable
{
    private const int FlushEvery = 256;
    private const int PopulateTrack = 1000;

    private readonly string _path;
    private readonly FileStream _file;
    private readonly Utf8JsonWriter _json;
    private readonly HashSet<int> _named = [];
    private ulong _sliceStart;
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
        if (Problem is not null)
        {
            return;
        }

        try
        {
            Write(e);
            if (++_pending >= FlushEvery)
            {
                _pending = 0;
                _json.Flush();
            }
        }
        catch (Exception x) when (x is IOException or UnauthorizedAccessException)
        {
            Problem = $"--trace: writing '{_path}' failed: {Console.OutputFiles.OneLine(x.Message)}; the trace is incomplete";
        }
    }

    /// <summary>Closes the JSON and the file; false (with <see cref="Problem"/>) when the trace could not be completed.</summary>
    public bool Complete()
    {
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

    private void Write(VmmEvent e)
    {
        if (e.Kind == VmmEventKind.Populated)
        {
            return; // the populate instant already says what and where; steps are for progress displays
        }

        int track = e.Kind == VmmEventKind.Populate ? PopulateTrack : e.Vcpu;
        if (_named.Add(track))
        {
            Metadata("thread_name", track, track == PopulateTrack ? "populate (KVM_ARM_RMI_POPULATE)" : $"vCPU {track}");
        }

        if (e.Kind == VmmEventKind.Exit)
        {
            // vCPUs run round-robin on one virtual clock: a KVM_RUN began where the previous one ended.
            _json.WriteStartObject();
            _json.WriteString("name", e.Detail == "EINTR" ? "KVM_RUN (slice end)" : $"KVM_RUN → {e.Detail}");
            _json.WriteString("ph", "X");
            Place(track, _sliceStart);
            _json.WriteNumber("dur", Microseconds(e.VirtualTime - Math.Min(_sliceStart, e.VirtualTime)));
            _json.WriteStartObject("args");
            _json.WriteString("exit", e.Detail);
            _json.WriteNumber("instructions", (e.VirtualTime - Math.Min(_sliceStart, e.VirtualTime)) * Platform.Execution.VirtualClock.InstructionsPerTick);
            _json.WriteEndObject();
            _json.WriteEndObject();
            _sliceStart = e.VirtualTime;
            return;
        }

        if (e.Kind == VmmEventKind.Populate)
        {
            _sliceStart = Math.Max(_sliceStart, e.VirtualTime);
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
