using System.Globalization;
using System.Text;
using CcaSim.Platform.Execution;
using CcaSim.Platform.Memory;
using CcaSim.Platform.Monitor;
using CcaSim.Rmm.Rmi;

namespace CcaSim.Cli.Console;

/// <summary>
/// The console's output stream, one whole line at a time. It knows which script line each result line belongs
/// to, so it can annotate the line (<c>--explain</c>), hold it against the script line's expectation
/// (<see cref="Expectation"/>), and remember the first line a strict run must fail on. Lines pass through
/// unchanged unless explained or expected, so plain runs print byte for byte what they always did. A plain run
/// does not even pass through it (<see cref="Writer"/>) until a line carries an expectation: the per-character
/// indirection cost a fifth of the CPU time of a 200,000-line script.
/// </summary>
internal sealed class Transcript : TextWriter
{
    /// <summary>Annotations start in this column, like the notes column of the README's transcripts.</summary>
    private const int NoteColumn = 28;

    private readonly TextWriter _inner;
    private readonly bool _explain;
    private readonly ulong _poolBase;
    private readonly MemoryAccessor _host;
    private const int KeptChars = 512;

    private readonly char[] _kept = new char[KeptChars];
    private readonly Dictionary<ulong[], (long Line, Expectation? Expect)> _queued = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<ulong> _runs = [];

    private bool _active;
    private int _keptLength;
    private int _lineLength;
    private long _lineNumber;
    private Expectation? _expect;
    private bool _expectConsumed;
    private bool _lineQueuedCall;

    private ulong _smcFid;
    private SmcRegisters _smcArgs;
    private ulong _readAddress;
    private bool _readPending;
    private RealmCall? _call;
    private (long Line, Expectation? Expect) _callOwner;

    public Transcript(TextWriter inner, RmmConsoleOptions options, ulong poolBase, MemoryAccessor host)
    {
        _inner = inner;
        _explain = options.Explain;
        _active = options.Explain || options.Strict;
        _poolBase = poolBase;
        _host = host;
    }

    public override Encoding Encoding => _inner.Encoding;

    /// <summary>Raised after each executed script line with its line number (tests check invariants here).</summary>
    public Action<long>? LineCompleted { get; set; }

    /// <summary>Where the console writes: this transcript once it has anything to do, else the plain output.</summary>
    public TextWriter Writer => _active ? this : _inner;

    /// <summary>
    /// Result lines that were E lines or carried an error status their script line did not expect. Every line
    /// counts under <see cref="RmmConsoleOptions.Strict"/> or Explain; otherwise only lines from the first
    /// expectation on (before it the transcript is not in the output path).
    /// </summary>
    public int Offences { get; private set; }

    /// <summary>The first offence: the script line number and what it printed.</summary>
    public (long Line, string What)? FirstOffence { get; private set; }

    /// <summary>Starts script line <paramref name="text"/>: counts it and splits its expectation off.</summary>
    public ReadOnlySpan<char> BeginLine(ReadOnlySpan<char> text)
    {
        _lineNumber++;
        _expectConsumed = false;
        _lineQueuedCall = false;
        _readPending = false;
        ReadOnlySpan<char> command = Expectation.Split(text, out _expect);
        _active |= _expect is not null;
        return command;
    }

    /// <summary>Ends the current script line: an expectation nothing printed for is unmet.</summary>
    public void EndLine()
    {
        if (_expect is not null && !_expectConsumed && !_lineQueuedCall)
        {
            Unmet(_lineNumber, _expect);
        }

        LineCompleted?.Invoke(_lineNumber);
    }

    /// <summary>The input has ended: what follows (E unrun) answers to no script line's expectation.</summary>
    public void EndInput()
    {
        _expect = null;
        _expectConsumed = true;
    }

    /// <summary>Reports each expectation of a queued call that never ran as unmet, in script line order.</summary>
    public void UnrunExpectations()
    {
        foreach ((long line, Expectation? expect) in _queued.Values.Where(v => v.Expect is not null).OrderBy(v => v.Line))
        {
            Unmet(line, expect!);
        }
    }

    /// <summary>An SMC the console made: the next R line is its result.</summary>
    public void Smc(in SmcRegisters arguments)
    {
        _smcFid = arguments[0];
        _smcArgs = arguments;

        // A REC run structure is worth naming when r64 reads it later (rmm-1.0.md §4.3).
        if ((_smcFid & ~(1UL << 16)) == (ulong)RmiFunctionId.RmiRecEnter && _runs.Count < 4096)
        {
            _runs.Add(arguments[2]);
        }
    }

    /// <summary>An r64 of <paramref name="address"/>: the next V line is its value.</summary>
    public void HostRead(ulong address)
    {
        _readAddress = address;
        _readPending = true;
    }

    /// <summary>An rsi line queued a call: its result line, whenever it comes, answers to this script line.</summary>
    public void Queued(ulong[] arguments)
    {
        _queued[arguments] = (_lineNumber, _expect);
        _lineQueuedCall = true;
    }

    /// <summary>A queued call completed: the next RSI line is its result.</summary>
    public void RealmCallCompleted(RealmCall call)
    {
        _call = call;
        _callOwner = _queued.Remove(call.Arguments, out (long Line, Expectation? Expect) owner) ? owner : (_lineNumber, null);
    }

    public override void Write(char value)
    {
        if (value == '\n')
        {
            EndOutputLine();
            return;
        }

        _inner.Write(value);
        if (_keptLength < KeptChars)
        {
            _kept[_keptLength++] = value;
        }

        _lineLength++;
    }

    public override void Write(char[] buffer, int index, int count)
    {
        ReadOnlySpan<char> text = buffer.AsSpan(index, count);
        if (text.Contains('\n'))
        {
            Write(text);
            return;
        }

        _inner.Write(buffer, index, count);
        Keep(text);
    }

    public override void Write(string? value) => Write(value.AsSpan());

    public override void Write(ReadOnlySpan<char> buffer)
    {
        int nl;
        while ((nl = buffer.IndexOf('\n')) >= 0)
        {
            _inner.Write(buffer[..nl]);
            Keep(buffer[..nl]);
            EndOutputLine();
            buffer = buffer[(nl + 1)..];
        }

        _inner.Write(buffer);
        Keep(buffer);
    }

    public override void Flush() => _inner.Flush();

    /// <summary>
    /// Output goes straight through; only the line's first <see cref="KeptChars"/> characters are kept, enough to
    /// classify it and match expectations, so plain runs cost a copy of a few characters a line.
    /// </summary>
    private void Keep(ReadOnlySpan<char> text)
    {
        int room = KeptChars - _keptLength;
        if (room > 0)
        {
            text[..Math.Min(room, text.Length)].CopyTo(_kept.AsSpan(_keptLength));
            _keptLength += Math.Min(room, text.Length);
        }

        _lineLength += text.Length;
    }

    private void EndOutputLine()
    {
        ReadOnlySpan<char> line = _kept.AsSpan(0, _keptLength);
        int length = _lineLength;
        _keptLength = 0;
        _lineLength = 0;
        bool realm = line.StartsWith("RSI ", StringComparison.Ordinal);
        (long owner, Expectation? expect) = realm ? _callOwner : (_lineNumber, _expectConsumed ? null : _expect);
        if (!realm)
        {
            _expectConsumed = true;
        }

        bool error;
        string? status = null;
        string? note = null;
        if (_explain || expect is not null)
        {
            (status, error, note) = Classify(line, realm);
        }
        else
        {
            error = IsError(line, realm);
        }

        if (note is not null)
        {
            _inner.Write(length + 2 <= NoteColumn ? new string(' ', NoteColumn - length) : "  ");
            _inner.Write(note);
        }

        _inner.Write('\n');
        if (expect is not null)
        {
            if (!expect.Matches(line, status, _poolBase))
            {
                Unmet(owner, expect);
            }
        }
        else if (error)
        {
            Offend(owner, line.ToString());
        }
    }

    private void Unmet(long owner, Expectation expect)
    {
        string report = string.Create(CultureInfo.InvariantCulture, $"E expect {owner} {Printable.Of(expect.Text)}");
        _inner.Write(report);
        _inner.Write('\n');
        Offend(owner, report);
    }

    private void Offend(long owner, string what)
    {
        Offences++;
        FirstOffence ??= (owner, what);
    }

    /// <summary>The strict check alone: an E line, or an R or RSI line whose x0 is an error status.</summary>
    private bool IsError(ReadOnlySpan<char> line, bool realm)
    {
        if (line.StartsWith("E ", StringComparison.Ordinal))
        {
            return true;
        }

        if (line.StartsWith("R ", StringComparison.Ordinal))
        {
            return !line.StartsWith("R 0 ", StringComparison.Ordinal);
        }

        return realm && _call is not null && TryWords(line, out ulong[] x) && ResultNames.IsRealmError(_call.FunctionId, x[0]);
    }

    /// <summary>A result line's status name, whether that status is an error, and its annotation.</summary>
    private (string? Status, bool Error, string? Note) Classify(ReadOnlySpan<char> line, bool realm)
    {
        if (line.StartsWith("E ", StringComparison.Ordinal))
        {
            return (null, true, null);
        }

        if (line.StartsWith("R ", StringComparison.Ordinal) && TryWords(line, out ulong[] x))
        {
            string status = ResultNames.RmiStatusName(_smcFid, x[0]);
            return (status, x[0] != 0, _explain ? ExplainRmi(status, x) : null);
        }

        if (realm && _call is not null && TryWords(line, out x))
        {
            string? status = ResultNames.RealmStatusName(_call.FunctionId, x[0]);
            return (status, ResultNames.IsRealmError(_call.FunctionId, x[0]), _explain ? ExplainRealm(status, x) : null);
        }

        if (line.StartsWith("V ", StringComparison.Ordinal) && _readPending && TryWords(line, out x))
        {
            return (null, false, _explain ? ExplainRead(x[0]) : null);
        }

        return (null, false, null);
    }

    private string ExplainRmi(string status, ulong[] x)
    {
        string name = ResultNames.RmiName(_smcFid) ?? $"0x{_smcFid:x}";
        string? decode = (ResultNames.RmiName(_smcFid), x[0]) switch
        {
            ("RMI_VERSION", _) when x[0] <= 1 => $"lower {ResultNames.Version(x[1])} higher {ResultNames.Version(x[2])}",
            ("RMI_FEATURES", 0) when _smcArgs[1] == 0 => ResultNames.Features(x[1]),
            ("RMI_REC_AUX_COUNT", 0) => string.Create(CultureInfo.InvariantCulture, $"aux_count {x[1]}"),
            ("RMI_RTT_READ_ENTRY", 0) => ResultNames.RttEntry(x[1], x[2], x[3], x[4]),
            ("RMI_RTT_INIT_RIPAS" or "RMI_RTT_SET_RIPAS", 0) => $"top 0x{x[1]:x}",
            ("RMI_RTT_UNMAP_UNPROTECTED", _) when x[0] == 0 || RmiReturn.Status(x[0]) == RmiStatus.ErrorRtt => $"top 0x{x[1]:x}",
            ("RMI_RTT_DESTROY", 0) => $"rtt 0x{x[1]:x} top 0x{x[2]:x}",
            ("RMI_DATA_DESTROY", 0) => $"data 0x{x[1]:x} top 0x{x[2]:x}",
            ("RMI_RTT_DESTROY" or "RMI_DATA_DESTROY", _) when RmiReturn.Status(x[0]) == RmiStatus.ErrorRtt => $"top 0x{x[2]:x}",
            ("RMI_RTT_FOLD", 0) => $"rtt 0x{x[1]:x}",
            ("RMI_REC_ENTER", 0) => ExitSummary(_smcArgs[2]),
            _ => null,
        };
        return decode is null ? $"{name} {status}" : $"{name} {status} {decode}";
    }

    /// <summary>The exit the run structure reports after a successful RMI_REC_ENTER, read as the host would.</summary>
    private string? ExitSummary(ulong run)
    {
        if (_host.TryRead64(run + RecRunLayout.ExitReason, out ulong reason) != MemoryAccessStatus.Ok)
        {
            return null;
        }

        string summary = $"exit {ResultNames.ExitReasonName(reason)}";
        if (reason == 0 && _host.TryRead64(run + RecRunLayout.ExitEsr, out ulong esr) == MemoryAccessStatus.Ok)
        {
            summary += $" ({ResultNames.EsrClass(esr)})";
        }

        return summary;
    }

    private string ExplainRealm(string? status, ulong[] x)
    {
        ulong fid = _call!.FunctionId;
        string name = ResultNames.RealmCallName(fid) ?? $"0x{fid:x}";
        bool ok = x[0] == 0;
        string? decode = name switch
        {
            "PSCI_VERSION" or "SMCCC_VERSION" => ResultNames.Version(x[0]),
            "RSI_VERSION" when x[0] <= 1 => $"lower {ResultNames.Version(x[1])} higher {ResultNames.Version(x[2])}",
            "RSI_IPA_STATE_GET" when ok => $"top 0x{x[1]:x} {ResultNames.RipasName(x[2])}",
            "RSI_IPA_STATE_SET" when ok => $"next 0x{x[1]:x} {(x[2] == 0 ? "ACCEPT" : "REJECT")}",
            "RSI_ATTESTATION_TOKEN_INIT" when ok => $"max size 0x{x[1]:x}",
            "RSI_ATTESTATION_TOKEN_CONTINUE" when ok || x[0] == (ulong)Rmm.Rsi.RsiStatus.Incomplete => $"0x{x[1]:x} bytes",
            _ => null,
        };
        string head = status is null ? name : $"{name} {status}";
        return decode is null ? head : $"{head} {decode}";
    }

    /// <summary>Names the field of a REC run structure (passed to RMI_REC_ENTER) that an r64 read.</summary>
    private string? ExplainRead(ulong value)
    {
        ulong run = _readAddress & ~(ulong)(RecRunLayout.Size - 1);
        if (!_runs.Contains(run))
        {
            return null;
        }

        int off = (int)(_readAddress - run);
        return off switch
        {
            RecRunLayout.EnterFlags => $"enter.flags{Flags(value)}",
            >= RecRunLayout.EnterGprs and < RecRunLayout.EnterGprs + (8 * RecRunLayout.NumGprs) when off % 8 == 0 => Indexed("enter.gprs", off - RecRunLayout.EnterGprs),
            RecRunLayout.EnterGicv3Hcr => "enter.gicv3_hcr",
            >= RecRunLayout.EnterGicv3Lrs and < RecRunLayout.EnterGicv3Lrs + (8 * RecRunLayout.NumLrs) when off % 8 == 0 => Indexed("enter.gicv3_lrs", off - RecRunLayout.EnterGicv3Lrs),
            RecRunLayout.ExitReason => $"exit {ResultNames.ExitReasonName(value)}",
            RecRunLayout.ExitEsr => $"exit.esr {ResultNames.EsrClass(value)}",
            RecRunLayout.ExitFar => "exit.far",
            RecRunLayout.ExitHpfar => $"exit.hpfar (IPA 0x{(value & ~0xFUL) << 8:x})",
            >= RecRunLayout.ExitGprs and < RecRunLayout.ExitGprs + (8 * RecRunLayout.NumGprs) when off % 8 == 0 => Indexed("exit.gprs", off - RecRunLayout.ExitGprs),
            RecRunLayout.ExitGicv3Hcr => "exit.gicv3_hcr",
            >= RecRunLayout.ExitGicv3Lrs and < RecRunLayout.ExitGicv3Lrs + (8 * RecRunLayout.NumLrs) when off % 8 == 0 => Indexed("exit.gicv3_lrs", off - RecRunLayout.ExitGicv3Lrs),
            RecRunLayout.ExitGicv3Misr => "exit.gicv3_misr",
            RecRunLayout.ExitGicv3Vmcr => "exit.gicv3_vmcr",
            RecRunLayout.ExitCntpCtl => "exit.cntp_ctl",
            RecRunLayout.ExitCntpCval => "exit.cntp_cval",
            RecRunLayout.ExitCntvCtl => "exit.cntv_ctl",
            RecRunLayout.ExitCntvCval => "exit.cntv_cval",
            RecRunLayout.ExitRipasBase => "exit.ripas_base",
            RecRunLayout.ExitRipasTop => "exit.ripas_top",
            RecRunLayout.ExitRipasValue => $"exit.ripas_value {ResultNames.RipasName(value & 0xFF)}",
            RecRunLayout.ExitImm => "exit.imm",
            RecRunLayout.ExitPmuOvfStatus => $"exit.pmu_ovf_status {((value & 0xFF) == 0 ? "NOT_ACTIVE" : "ACTIVE")}",
            _ => string.Create(CultureInfo.InvariantCulture, $"run+0x{off:x}"),
        };
    }

    private static string Indexed(string field, int byteOffset) =>
        string.Create(CultureInfo.InvariantCulture, $"{field}[{byteOffset / 8}]");

    /// <summary>RmiRecEnter.flags bits (rmm-1.0.md §4.3).</summary>
    private static string Flags(ulong value)
    {
        var sb = new StringBuilder();
        (ulong Bit, string Name)[] bits =
        [
            (RecRunLayout.EnterFlagEmulMmio, "EMUL_MMIO"),
            (RecRunLayout.EnterFlagInjectSea, "INJECT_SEA"),
            (RecRunLayout.EnterFlagTrapWfi, "TRAP_WFI"),
            (RecRunLayout.EnterFlagTrapWfe, "TRAP_WFE"),
            (RecRunLayout.EnterFlagRipasResponse, "RIPAS_REJECT"),
        ];
        foreach ((ulong bit, string name) in bits)
        {
            if ((value & bit) != 0)
            {
                sb.Append(' ').Append(name);
            }
        }

        return sb.ToString();
    }

    /// <summary>The hex words after a line's tag (R, RSI, V), padded with zeros to five values.</summary>
    private static bool TryWords(ReadOnlySpan<char> line, out ulong[] values)
    {
        values = new ulong[5];
        int i = -1;
        foreach (Range r in line.Split(' '))
        {
            if (i >= 0 && i < values.Length
                && !ulong.TryParse(line[r], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out values[i]))
            {
                return false;
            }

            i++;
        }

        return i > 0;
    }
}
