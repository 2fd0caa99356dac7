using System.Security;

namespace CcaSim.Cli.Console;

/// <summary>Files a script asks to write (<c>rdump ... FILE</c>): every failure is a one-line reason, never an exception.</summary>
internal static class OutputFiles
{
    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/>; null when done, else why not.</summary>
    public static string? TryWrite(string path, byte[] bytes)
    {
        if (path.Contains('\0', StringComparison.Ordinal))
        {
            return "file name contains a NUL character";
        }

        if (Directory.Exists(path))
        {
            return $"'{path}' is a directory";
        }

        try
        {
            File.WriteAllBytes(path, bytes);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException or SecurityException)
        {
            // The runtime appends " : 'PATH'" to some messages; the line names the path already.
            return $"cannot write '{path}': {OneLine(e.Message.Replace($" : '{path}'", "", StringComparison.Ordinal))}";
        }
    }

    /// <summary>An exception message as one line (some name the path and reason on separate lines).</summary>
    public static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}
