using CcaSim.Platform;
using CcaSim.Platform.Execution;
using CcaSim.Platform.Memory;
using CcaSim.Platform.Monitor;
using CcaSim.Rmm;
using CcaSim.Rmm.Granules;

namespace CcaSim.Cli.Console;

/// <summary>
/// <c>ccasim rmm</c>: drives an RMM the way a host kernel would, one command a line, through the SMC conduit
/// and the host's view of non-secure memory only. Every line's result is printed at once, in a fixed format:
/// <c>R x0..x4</c>, <c>RSI x0..x4</c>, <c>V value</c>, <c>D bytes</c>, <c>B base</c>, or <c>E reason</c>; bad lines never stop a run.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The transcript wraps the caller's writer, which the caller owns and disposes; it holds nothing of its own.")]
internal sealed class RmmConsole
{
    private const int MaxTokens = 16;
    private const int MaxDumpLength = 1 << 20;

    private readonly CcaPlatform _platform;
    private readonly RealmManagementMonitor _rmm;
    private readonly ScriptedRealm _realm;
    private readonly SecureMonitor _monitor;
    private readonly MemoryAccessor _host;
    private TextWriter _out;
    private readonly Transcript _transcript;
    private readonly ulong _poolBase;
    private readonly char[] _hex = new char[32];

    public RmmConsole(CcaPlatform platform, RealmManagementMonitor rmm, TextWriter output, RmmConsoleOptions? options = null)
    {
        _platform = platform;
        _rmm = rmm;
        _realm = new ScriptedRealm(platform.Interrupts);
        _realm.CallCompleted += PrintRealmCall;
        rmm.Engine = _realm;
        _monitor = platform.Monitor;
        _host = platform.HostMemory;
        _poolBase = platform.Memory.Base;
        _transcript = new Transcript(output, options ?? new RmmConsoleOptions(), _poolBase, _host);
        _out = _transcript.Writer;
    }

    /// <summary>Number of lines that printed an <c>E</c> result.</summary>
    public int Errors { get; private set; }

    /// <summary>Why the input stopped before its end (an I/O error), or null when it was read to the end.</summary>
    public string? InputError { get; private set; }

    /// <summary>Stops the run between two lines (SIGINT, SIGTERM): the results so far are written out.</summary>
    public CancellationToken Stop { get; init; }

    /// <summary>Number of input lines taken so far, the current one included.</summary>
    public long LinesRun { get; private set; }

    /// <summary>Write each line's result out as soon as it completes (for pipes, FIFOs and terminals).</summary>
    public bool FlushEachLine { get; init; }

    /// <summary>
    /// Runs every line of <paramref name="input"/>. I/O failures of the input or the output are not results: they
    /// leave as <see cref="IOException"/> for the command to report.
    /// </summary>
    public void Run(TextReader input)
    {
        Span<Range> tokens = stackalloc Range[MaxTokens + 1];
        var reader = new ScriptReader(input, Stop);
        while (!Stop.IsCancellationRequested && reader.TryReadLine(out ReadOnlySpan<char> raw, out bool overlong))
        {
            LinesRun = reader.LineNumber;
            if (overlong)
            {
                // Shown at once, whatever the input: a line that never ends (/dev/zero) holds no other output back.
                _transcript.BeginLine(default);
                _out = _transcript.Writer;
                Error(ErrorCodes.TooLong, reader.LineNumber);
                _transcript.EndLine();
                _out.Flush();
                continue;
            }

            // A '#' starts a comment wherever it stands; what is left may end in an expectation ('=> ...').
            int hash = raw.IndexOf('#');
            ReadOnlySpan<char> text = _transcript.BeginLine((hash < 0 ? raw : raw[..hash]).Trim());
            _out = _transcript.Writer;
            if (text.IsEmpty)
            {
                _transcript.EndLine();
                continue;
            }

            // Any whitespace separates words (empty separators mean char.IsWhiteSpace): a VT, FF, lone CR or
            // no-break space inside a word would otherwise be echoed as part of it.
            int n = text.SplitAny(tokens, default(ReadOnlySpan<char>), StringSplitOptions.RemoveEmptyEntries);
            try
            {
                Execute(text, tokens[..n]);
            }
            catch (OutOfMemoryException)
            {
                // The backstop for storage the RMM or realm side commits (host writes stop at the commit limit
                // first): the process is out of memory, the line is lost, the run goes on.
                Error(ErrorCodes.NoMem, text[tokens[0]]);
            }

            _transcript.EndLine();
            FlushLine();
        }

        InputError = reader.Error;
        if (Stop.IsCancellationRequested)
        {
            // Interrupted: what ran is written out; calls still queued are not "never run", just not reached.
            _out.Flush();
            return;
        }

        _transcript.EndInput();
        if (_realm.Pending > 0)
        {
            Error(ErrorCodes.Unrun, _realm.Pending);
            _transcript.UnrunExpectations();
        }

        _out.Flush();
    }

    private void FlushLine()
    {
        if (FlushEachLine)
        {
            _out.Flush();
        }
    }

    private void Execute(ReadOnlySpan<char> line, ReadOnlySpan<Range> t)
    {
        ReadOnlySpan<char> word = line[t[0]];
        switch (word)
        {
            case "smc":
                Smc(line, t);
                break;
            case "w64":
                if (Arity(line, t, 2, 2) && Value(line, t[1], out ulong wa) && Value(line, t[2], out ulong wv))
                {
                    Memory(_host.TryWrite64(wa, wv), wa, 'W', 0);
                }

                break;
            case "r64":
                if (Arity(line, t, 1, 1) && Value(line, t[1], out ulong ra))
                {
                    MemoryAccessStatus status = _host.TryRead64(ra, out ulong rv);
                    _transcript.HostRead(ra);
                    Memory(status, ra, 'V', rv);
                }

                break;
            case "zero":
                if (Arity(line, t, 1, 1) && Value(line, t[1], out ulong za))
                {
                    ulong length = PhysicalMemory.GranuleSize - (za & (PhysicalMemory.GranuleSize - 1));
                    Memory(_host.TryZero(za, length), za, 'W', 0);
                }

                break;
            case "dump":
                Dump(line, t);
                break;
            case "base":
                if (Arity(line, t, 0, 0))
                {
                    _out.Write("B ");
                    Hex(_poolBase);
                    _out.Write('\n');
                }

                break;
            case "rsi":
                Rsi(line, t);
                break;
            case "irq":
                if (Arity(line, t, 1, 1) && (line[t[1]] is "0" or "1"))
                {
                    _platform.Interrupts.IrqPending = line[t[1]] is "1";
                }
                else if (t.Length == 2)
                {
                    Error(ErrorCodes.BadArg, line[t[1]]);
                }

                break;
            case "rdump":
                RealmDump(line, t);
                break;
            default:
                Error(ErrorCodes.Unknown, word);
                break;
        }
    }

    private void Smc(ReadOnlySpan<char> line, ReadOnlySpan<Range> t)
    {
        if (!Arity(line, t, 1, 7) || !Fid(line, t[1], rsi: false, out ulong fid))
        {
            return;
        }

        SmcRegisters regs = default;
        regs[0] = fid;
        for (int i = 2; i < t.Length; i++)
        {
            if (!Value(line, t[i], out ulong v))
            {
                return;
            }

            regs[i - 1] = v;
        }

        _transcript.Smc(regs);
        _monitor.Smc(ref regs);
        _out.Write('R');
        for (int i = 0; i < 5; i++)
        {
            _out.Write(' ');
            Hex(regs[i]);
        }

        _out.Write('\n');
    }

    /// <summary>Queues a realm-side SMC; it runs on the next RMI_REC_ENTER, and prints when it completes.</summary>
    private void Rsi(ReadOnlySpan<char> line, ReadOnlySpan<Range> t)
    {
        if (!Arity(line, t, 1, 11) || !Fid(line, t[1], rsi: true, out ulong fid))
        {
            return;
        }

        ulong[] args = new ulong[t.Length - 2];
        for (int i = 2; i < t.Length; i++)
        {
            if (!Value(line, t[i], out args[i - 2]))
            {
                return;
            }
        }

        _realm.Enqueue(fid, args);
        _transcript.Queued(args);
    }

    private void PrintRealmCall(RealmCall call, ulong[] x)
    {
        _transcript.RealmCallCompleted(call);
        _out.Write("RSI");
        for (int i = 0; i < 5; i++)
        {
            _out.Write(' ');
            Hex(x[i]);
        }

        _out.Write('\n');
    }

    /// <summary>rdump RD IPA LEN [FILE]: realm memory as the realm sees it (a simulator-only view).</summary>
    private void RealmDump(ReadOnlySpan<char> line, ReadOnlySpan<Range> t)
    {
        if (!Arity(line, t, 3, 4) || !Value(line, t[1], out ulong rd) || !Value(line, t[2], out ulong ipa) || !Value(line, t[3], out ulong length))
        {
            return;
        }

        if (length > MaxDumpLength)
        {
            Error(ErrorCodes.BadArg, line[t[3]]);
            return;
        }

        // GranuleStateOf takes only granule addresses of the pool; anything else is not an RD either.
        if (!_platform.Memory.Contains(rd) || (rd & (PhysicalMemory.GranuleSize - 1)) != 0 || _rmm.GranuleStateOf(rd) != GranuleState.Rd)
        {
            Error(ErrorCodes.NotRd, line[t[1]]);
            return;
        }

        byte[] bytes = new byte[(int)length];
        if (!_rmm.TryReadRealmMemory(rd, ipa, bytes))
        {
            // Named by the first IPA that is not mapped, which need not be the range's start.
            ErrorAt(ErrorCodes.Unmapped, FirstUnmapped(rd, ipa, bytes));
            return;
        }

        if (t.Length == 5)
        {
            string? problem = OutputFiles.TryWrite(line[t[4]].ToString(), bytes);
            if (problem is not null)
            {
                Error(ErrorCodes.Io, problem);
            }

            return;
        }

        _out.Write("D ");
        _out.Write(Convert.ToHexStringLower(bytes));
        _out.Write('\n');
    }

    /// <summary>The first IPA of [ipa, ipa + range length) the realm has no memory at, granule by granule.</summary>
    private ulong FirstUnmapped(ulong rd, ulong ipa, Span<byte> range)
    {
        while (range.Length > 0)
        {
            int n = (int)Math.Min((ulong)range.Length, PhysicalMemory.GranuleSize - (ipa & (PhysicalMemory.GranuleSize - 1)));
            if (!_rmm.TryReadRealmMemory(rd, ipa, range[..n]) || n == range.Length)
            {
                return ipa;
            }

            range = range[n..];
            ipa += (ulong)n;
        }

        return ipa;
    }

    private void Dump(ReadOnlySpan<char> line, ReadOnlySpan<Range> t)
    {
        if (!Arity(line, t, 2, 2) || !Value(line, t[1], out ulong addr) || !Value(line, t[2], out ulong length))
        {
            return;
        }

        if (length > MaxDumpLength)
        {
            Error(ErrorCodes.BadArg, line[t[2]]);
            return;
        }

        byte[] bytes = new byte[(int)length];
        MemoryAccessStatus status = _host.TryRead(addr, bytes);
        if (status != MemoryAccessStatus.Ok)
        {
            Memory(status, addr, 'D', 0);
            return;
        }

        _out.Write("D ");
        _out.Write(Convert.ToHexStringLower(bytes));
        _out.Write('\n');
    }

    private void Memory(MemoryAccessStatus status, ulong addr, char kind, ulong value)
    {
        if (status == MemoryAccessStatus.Ok)
        {
            if (kind == 'V')
            {
                _out.Write("V ");
                Hex(value);
                _out.Write('\n');
            }

            return;
        }

        ErrorAt(status switch
        {
            MemoryAccessStatus.GranuleProtectionFault => ErrorCodes.Gpf,
            MemoryAccessStatus.StorageExhausted => ErrorCodes.NoMem,
            _ => ErrorCodes.Range,
        }, addr);
    }

    private bool Fid(ReadOnlySpan<char> line, Range r, bool rsi, out ulong fid)
    {
        ReadOnlySpan<char> word = line[r];
        if (!rsi && FunctionNames.TryParseRmi(word, out uint named))
        {
            fid = named;
            return true;
        }

        if (rsi && FunctionNames.TryParseRealm(word, out named))
        {
            fid = named;
            return true;
        }

        if (ScriptValues.TryParseNumber(word, out fid))
        {
            return true;
        }

        Error(ErrorCodes.BadArg, word);
        return false;
    }

    private bool Value(ReadOnlySpan<char> line, Range r, out ulong value)
    {
        if (ScriptValues.TryParseValue(line[r], _poolBase, out value))
        {
            return true;
        }

        Error(ErrorCodes.BadArg, line[r]);
        return false;
    }

    private bool Arity(ReadOnlySpan<char> line, ReadOnlySpan<Range> t, int min, int max)
    {
        int args = t.Length - 1;
        if (args >= min && args <= max)
        {
            return true;
        }

        Error(ErrorCodes.Arity, line[t[0]]);
        return false;
    }

    /// <summary>An E line whose detail is an address, in the lower-case hex of every other result.</summary>
    private void ErrorAt(string reason, ulong address)
    {
        Errors++;
        _out.Write("E ");
        _out.Write(reason);
        _out.Write(' ');
        Hex(address);
        _out.Write('\n');
    }

    private void Error(string reason, long number)
    {
        Span<char> digits = stackalloc char[20];
        number.TryFormat(digits, out int n, default, System.Globalization.CultureInfo.InvariantCulture);
        Error(reason, digits[..n]);
    }

    private void Error(string reason, ReadOnlySpan<char> detail = default)
    {
        Errors++;
        _out.Write("E ");
        _out.Write(reason);
        if (!detail.IsEmpty)
        {
            _out.Write(' ');
            Printable.Write(_out, detail);
        }

        _out.Write('\n');
    }

    private void Hex(ulong value)
    {
        value.TryFormat(_hex, out int n, "x", null);
        _out.Write(_hex, 0, n);
    }

    /// <summary>Result lines that were E lines or error statuses their script line did not expect (--strict).</summary>
    public int Offences => _transcript.Offences;

    /// <summary>The first of <see cref="Offences"/>: its script line number and what it printed.</summary>
    public (long Line, string What)? FirstOffence => _transcript.FirstOffence;

    /// <summary>Called after each executed script line with its line number (tests check invariants here).</summary>
    public Action<long>? LineCompleted
    {
        get => _transcript.LineCompleted;
        set => _transcript.LineCompleted = value;
    }

    /// <summary>The platform this console drives (tests read state through it).</summary>
    public CcaPlatform Platform => _platform;
}
