namespace CcaSim.Cli.Console;

/// <summary>
/// Lines of a script with a bounded length: an overlong line is skipped without being held in memory (a line of
/// <c>/dev/zero</c> never ends), and a leading UTF-8 byte order mark is dropped. Lines end at LF; a CR before it is
/// left for the caller's whitespace trimming.
/// </summary>
internal sealed class ScriptReader
{
    /// <summary>The longest line a script may have, in characters (without its line end).</summary>
    public const int MaxLineLength = 4096;

    private readonly TextReader _input;
    private readonly char[] _buffer = new char[1 << 14];
    private readonly char[] _line = new char[MaxLineLength];
    private int _pos;
    private int _end;
    private bool _eof;
    private bool _first = true;
    private bool _skipping;
    private readonly CancellationToken _stop;

    public ScriptReader(TextReader input, CancellationToken stop = default)
    {
        _input = input;
        _stop = stop;
    }

    /// <summary>Number of lines read so far (the current line's number, from 1).</summary>
    public long LineNumber { get; private set; }

    /// <summary>
    /// The next line, or false at end of input. <paramref name="overlong"/> is set, with an empty line, as soon as a
    /// line passes <see cref="MaxLineLength"/> (a line that never ends is reported at once); the rest of that line is
    /// skipped before the next one is read.
    /// </summary>
    public bool TryReadLine(out ReadOnlySpan<char> line, out bool overlong)
    {
        line = default;
        overlong = false;
        if (_skipping && !SkipToLineEnd())
        {
            return false;
        }

        int length = 0;
        bool any = false;
        while (true)
        {
            if (_pos == _end && (_eof || !Fill()))
            {
                if (!any || _stop.IsCancellationRequested)
                {
                    return false;
                }

                LineNumber++;
                line = _line.AsSpan(0, length);
                return true;
            }

            any = true;
            ReadOnlySpan<char> available = _buffer.AsSpan(_pos, _end - _pos);
            int newline = available.IndexOf('\n');
            ReadOnlySpan<char> part = newline < 0 ? available : available[..newline];
            if (length + part.Length > MaxLineLength)
            {
                LineNumber++;
                overlong = true;
                _skipping = true;
                return true;
            }

            part.CopyTo(_line.AsSpan(length));
            length += part.Length;
            _pos += newline < 0 ? available.Length : newline + 1;
            if (newline >= 0)
            {
                LineNumber++;
                line = _line.AsSpan(0, length);
                return true;
            }
        }
    }

    /// <summary>Drops input up to and including the next line end; false when the input ended first.</summary>
    private bool SkipToLineEnd()
    {
        while (_pos < _end || (!_eof && Fill()))
        {
            int newline = _buffer.AsSpan(_pos, _end - _pos).IndexOf('\n');
            if (newline >= 0)
            {
                _pos += newline + 1;
                _skipping = false;
                return true;
            }

            _pos = _end;
        }

        return false;
    }

    /// <summary>Why reading stopped early (an I/O error of the input), or null.</summary>
    public string? Error { get; private set; }

    private bool Fill()
    {
        _pos = 0;
        if (_stop.IsCancellationRequested)
        {
            // Checked between reads, so that a line that never ends (/dev/zero) still stops on SIGINT/SIGTERM.
            _end = 0;
            _eof = true;
            return false;
        }

        try
        {
            _end = _input.Read(_buffer, 0, _buffer.Length);
        }
        catch (IOException e)
        {
            // The lines read so far have run; the command reports the failure and its exit code.
            Error = OutputFiles.OneLine(e.Message);
            _end = 0;
        }
        catch (UnauthorizedAccessException)
        {
            // EBADF: standard input is open, but not for reading (0>/dev/null).
            Error = "it is not open for reading";
            _end = 0;
        }

        if (_end <= 0)
        {
            _end = 0;
            _eof = true;
            return false;
        }

        // A BOM (U+FEFF) opening the input is an encoding mark, not text (StreamReader drops it from files, but
        // standard input hands it through).
        if (_first)
        {
            _first = false;
            if (_buffer[0] == '\uFEFF')
            {
                _pos = 1;
            }
        }

        return _pos < _end || Fill();
    }
}
