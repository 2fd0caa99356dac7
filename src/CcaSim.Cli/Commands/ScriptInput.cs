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
            stream = StandardInput(out seekable);
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

    private static Stream StandardInput(out bool seekable)
    {
        seekable = false;
        if (StandardStreams.ClosedInput() is { } closed)
        {
            return closed;
        }

        // A FileStream over descriptor 0 tells a pipe, FIFO or terminal (read line by line) from a regular file. A
        // regular file is read through the console stream, which moves the descriptor's shared offset: a FileStream
        // reads at its own position, so `{ ccasim rmm; cat; } < f` would let cat read the script again.
        return (Stream?)StandardStreams.OverDescriptor(0, FileAccess.Read, out seekable) ?? System.Console.OpenStandardInput();
    }
}
