using System.Globalization;

namespace CcaSim.Cli.Commands;

/// <summary>
/// Standard streams the shell closed (<c>&gt;&amp;-</c>, <c>&lt;&amp;-</c>, <c>2&gt;&amp;-</c>). The runtime opens its own pipes
/// before <c>Main</c>, and a closed descriptor 0, 1 or 2 is the first it reuses: reading "standard input" then waits
/// on the runtime's pipe forever, and writing "standard output" writes into it. Such descriptors are recognised
/// by close-on-exec: the runtime opens its descriptors with it, while one inherited across exec cannot carry it.
/// </summary>
internal static class StandardStreams
{
    private const int CloseOnExec = 0x80000; // O_CLOEXEC (02000000 octal) in /proc/self/fdinfo's "flags:"

    public static bool InputClosed { get; private set; }

    public static bool OutputClosed { get; private set; }

    public static bool ErrorClosed { get; private set; }

    /// <summary>Looks at descriptors 0..2 once, before anything is read or written; replaces closed ones.</summary>
    public static void Install()
    {
        InputClosed = IsClosed(0);
        OutputClosed = IsClosed(1);
        ErrorClosed = IsClosed(2);
        if (ErrorClosed)
        {
            System.Console.SetError(TextWriter.Null);
        }

        if (OutputClosed)
        {
            System.Console.SetOut(new StreamWriter(new ClosedStream("it is closed")) { AutoFlush = true });
        }
    }

    /// <summary>Standard output as a stream; writing a closed one fails as an I/O error naming it.</summary>
    /// <remarks>
    /// For a pipe, FIFO or terminal, a stream over descriptor 1 itself, not the console stream: that one drops writes
    /// to a pipe whose reader has gone (EPIPE), so a script would run on to its end printing into nothing and exit 0.
    /// For a regular file, the console stream: a FileStream writes at its own position (pwrite), so it would overwrite
    /// what others sharing the descriptor wrote (<c>&gt; log 2&gt;&amp;1</c>, <c>{ ccasim …; echo; } &gt; f</c>).
    /// </remarks>
    public static Stream OpenOutput()
    {
        if (OutputClosed)
        {
            return new ClosedStream("it is closed");
        }

        return OverDescriptor(1, FileAccess.Write, out _) ?? System.Console.OpenStandardOutput();
    }

    /// <summary>
    /// A stream over descriptor <paramref name="fd"/> when it is not seekable (a pipe, FIFO, terminal or character
    /// device), else null: the caller then uses the console stream, which reads and writes through the descriptor's
    /// shared file offset. <paramref name="seekable"/> says whether the descriptor is a regular (seekable) file.
    /// </summary>
    public static FileStream? OverDescriptor(int fd, FileAccess access, out bool seekable)
    {
        seekable = false;
        FileStream stream;
        try
        {
            stream = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: false), access, bufferSize: 0);
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return null;
        }

        if (stream.CanSeek)
        {
            seekable = true;
            stream.Dispose();
            return null;
        }

        return stream;
    }

    /// <summary>Whether <paramref name="path"/> names standard input itself (so reading it would read descriptor 0).</summary>
    public static bool IsStandardInputPath(string path) => path is "/dev/stdin" or "/dev/fd/0" or "/proc/self/fd/0";

    private static bool IsClosed(int fd)
    {
        string info = $"/proc/self/fdinfo/{fd}";
        try
        {
            foreach (string line in File.ReadLines(info))
            {
                if (line.StartsWith("flags:", StringComparison.Ordinal))
                {
                    return int.TryParse(line.AsSpan(6).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int octal)
                        && (FromOctal(octal) & CloseOnExec) != 0;
                }
            }

            return false;
        }
        catch (FileNotFoundException)
        {
            // Not open at all (the runtime did not reuse it).
            return Directory.Exists("/proc/self/fdinfo");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No /proc (not Linux): nothing to tell; the streams are used as they are.
            return false;
        }
    }

    private static int FromOctal(int digits)
    {
        int value = 0;
        int scale = 1;
        for (; digits > 0; digits /= 10, scale *= 8)
        {
            value += digits % 10 * scale;
        }

        return value;
    }

    /// <summary>A stream standing in for a closed standard stream: every read or write is an I/O error.</summary>
    private sealed class ClosedStream(string reason) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
            // Nothing is buffered here; a write is what fails.
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new IOException(reason);

        public override void Write(byte[] buffer, int offset, int count) => throw new IOException(reason);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }

    /// <summary>Standard input as a stream: a closed one reads as an I/O error naming it.</summary>
    public static Stream? ClosedInput() => InputClosed ? new ClosedStream("it is closed") : null;
}
