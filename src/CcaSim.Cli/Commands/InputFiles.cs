using System.Security;

namespace CcaSim.Cli.Commands;

/// <summary>
/// Files named on the command line (tokens, keys, scripts): opened with each failure a one-line reason, and read
/// with a bound so that <c>/dev/zero</c>, a FIFO or a file of several GiB costs at most the bound.
/// </summary>
internal static class InputFiles
{
    /// <summary>Why <paramref name="path"/> cannot be opened as an input file of kind <paramref name="what"/>, or null with the stream.</summary>
    public static string? TryOpen(string path, string what, out FileStream? stream)
    {
        stream = null;
        if (path.Length == 0)
        {
            return $"{what} file name is empty";
        }

        if (path.Contains('\0', StringComparison.Ordinal))
        {
            return $"{what} file name contains a NUL character";
        }

        if (Directory.Exists(path))
        {
            return $"{what} '{path}' is a directory, not a file";
        }

        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
            return null;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return $"{what} '{path}' does not exist";
        }
        catch (Exception e) when (e is UnauthorizedAccessException or SecurityException)
        {
            return $"{what} '{path}' cannot be read: permission denied";
        }
        catch (Exception e) when (e is IOException or ArgumentException or NotSupportedException)
        {
            return $"{what} '{path}' cannot be opened: {Console.OutputFiles.OneLine(e.Message)}";
        }
    }

    /// <summary>
    /// Reads at most <paramref name="cap"/> + 1 bytes. <see cref="BoundedRead.TooLarge"/> when there were more than
    /// <paramref name="cap"/>; an I/O error is returned, not thrown.
    /// </summary>
    public static BoundedRead ReadBounded(Stream stream, int cap, out byte[] data, out string? ioError)
    {
        ioError = null;
        byte[] buffer = new byte[cap + 1];
        int total = 0;
        try
        {
            int n;
            while (total < buffer.Length && (n = stream.Read(buffer, total, buffer.Length - total)) > 0)
            {
                total += n;
            }
        }
        catch (IOException e)
        {
            data = [];

            // The runtime appends " : 'PATH'"; the caller's line names the path already.
            string message = stream is FileStream file ? e.Message.Replace($" : '{file.Name}'", "", StringComparison.Ordinal) : e.Message;
            ioError = Console.OutputFiles.OneLine(message);
            return BoundedRead.IoError;
        }
        catch (UnauthorizedAccessException e)
        {
            data = [];
            ioError = Console.OutputFiles.OneLine(e.Message);
            return BoundedRead.IoError;
        }

        data = buffer.AsSpan(0, Math.Min(total, cap)).ToArray();
        return total > cap ? BoundedRead.TooLarge : BoundedRead.Ok;
    }
}

internal enum BoundedRead
{
    Ok,
    TooLarge,
    IoError,
}
