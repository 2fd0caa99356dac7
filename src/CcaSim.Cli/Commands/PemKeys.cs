using System.Security.Cryptography;

namespace CcaSim.Cli.Commands;

/// <summary>Why a PEM key file was refused, in the user's words rather than the runtime's.</summary>
internal static class PemKeys
{
    /// <summary>
    /// The reason for <paramref name="e"/> as one line: the runtime's "no supported key formats" message tells the
    /// user not to pass a path (which is exactly what they did), and argument messages end in "(Parameter 'x')".
    /// </summary>
    public static string Reason(Exception e)
    {
        if (e is ArgumentException && e.Message.StartsWith("No supported key formats", StringComparison.Ordinal))
        {
            return "no PEM-encoded key found in it";
        }

        string message = e is ArgumentException a && a.ParamName is { } name
            ? e.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal)
            : e.Message;
        return Console.OutputFiles.OneLine(message);
    }

    /// <summary>Null when <paramref name="pem"/> holds an EC key (public or private), else why not.</summary>
    public static string? EcKeyProblem(string pem)
    {
        try
        {
            using var key = ECDsa.Create();
            key.ImportFromPem(pem);
            return null;
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            return Reason(e);
        }
    }
}
