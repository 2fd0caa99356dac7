using Microsoft.Win32.SafeHandles;

namespace CcaSim.Cli.Commands;

/// <summary>The input of <c>ccasim rmm</c>: a named script, or standard input for none or <c>-</c>.</summary>
internal static class ScriptInput
{
    /// <summary>
    /// Opens the script; null, or the one-line reason it cannot be read. <paramref name="seekable"/> is false for
    /// pipes, FIFOs and terminals, whose results must appear line by line.
    /// </summary>
    public static string? TryOpen(string? path, bool literal, out Stream? stream, out bool seekable)
    {
        seekable = false;
        if (path is null or "-")
        {
            stream = StandardInput();
            seekable = stream.CanSeek;
            return null;
        }

        if (StandardStreams.IsStandardInputPath(path) && StandardStreams.ClosedInput() is { } closed)
        {
            stream = closed;
            return null;
        }

        if (!literal && path.StartsWith('-') && !File.Exists(path))
        {
            stream = null;
            return $"unknown option '{path}'";
        }

        string? problem = InputFiles.TryOpen(path, "script", out FileStream? file);
        stream = file;
        seekable = file?.CanSeek == true;
        return problem;
    }

    private static Stream StandardInput()
    {
        if (StandardStreams.ClosedInput() is { } closed)
        {
            return closed;
        }

        // A FileStream over descriptor 0 says whether standard input is a regular file (seekable) or a pipe,
        // FIFO or terminal; the console stream says neither.
        try
        {
            return new FileStream(new SafeFileHandle(0, ownsHandle: false), FileAccess.Read, bufferSize: 0);
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return System.Console.OpenStandardInput();
        }
    }
}
