using System.CommandLine;
using CcaSim.Attestation;

namespace CcaSim.Cli.Commands;

/// <summary><c>ccasim verify TOKEN</c>: checks a CCA attestation token and, optionally, the values it must carry.</summary>
internal static class VerifyCommand
{
    /// <summary>The largest token read: a CCA token is a few KiB; anything past this is not one.</summary>
    public const int MaxTokenBytes = 64 * 1024;

    /// <summary>The largest PEM key file read.</summary>
    public const int MaxKeyBytes = 64 * 1024;

    /// <summary>What error lines call a reference-values file.</summary>
    private const string ReferenceValuesFile = "reference values file";

    private static readonly System.Buffers.SearchValues<char> s_hexDigits = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF");

    public static Command Create()
    {
        var token = new Argument<string>("token") { Description = $"CCA token (CBOR, tag 399), at most {MaxTokenBytes} bytes; a file, FIFO, or - (or /dev/stdin) for standard input." };
        var key = new Option<string?>("--platform-key") { Description = "Platform attestation public key (PEM). Default: the simulator's default platform." };
        var challenge = new Option<string?>("--challenge") { Description = "Expected realm challenge (hex, 64 bytes)." };
        var rim = new Option<string?>("--rim")
        {
            Description = "Expected RIM (hex, 32, 48 or 64 bytes), or a reference-values JSON file (as `ccasim measure --json` writes): its RIM, hash algorithm, RPV, REMs and platform values are expected; --rpv and --rem override it.",
        };
        var rpv = new Option<string?>("--rpv") { Description = "Expected personalization value (hex, 64 bytes)." };
        var rems = new Option<string[]>("--rem")
        {
            Description = "Expected REMs in order, REM1..REM4 (hex, 32, 48 or 64 bytes; '-' skips one): repeat the option or separate with commas.",
            AllowMultipleArgumentsPerToken = false,
        };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON: valid, form, failures [{check, message}], warnings, realm and platform claims, checks." };
        var command = new Command("verify", "Verify a CCA attestation token: structure, claims, both signatures, binding, expected values. On a terminal the claims are a table; otherwise one line per finding.")
        {
            token, key, challenge, rim, rpv, rems, json,
        };
        command.SetAction(parse =>
        {
            string[] remValues = [.. (parse.GetValue(rems) ?? []).SelectMany(r => r.Split(','))];
            if (remValues.Length > 4)
            {
                return Usage($"--rem names {remValues.Length} REMs; a realm has 4 (REM1..REM4)");
            }

            // --rim takes hex as before; anything that is not hex is the path of a reference-values file.
            string? rimValue = parse.GetValue(rim);
            ReferenceValues? reference = null;
            if (rimValue?.Length == 0)
            {
                return Usage("--rim is empty; it takes hex or a reference-values file");
            }

            if (rimValue is not null && !IsHex(rimValue, out _))
            {
                int? failed = ReadReferenceValues(rimValue, out reference);
                if (failed is not null)
                {
                    return failed.Value;
                }

                rimValue = null;
            }

            var expectedRems = new byte[]?[remValues.Length];
            byte[]? expectedRim = reference?.InitialMeasurement;
            byte[]? expectedRpv = null;
            string? problem = Hex(parse.GetValue(challenge), "--challenge", [64], out byte[]? expectedChallenge)
                ?? (rimValue is null ? null : Hex(rimValue, "--rim", [32, 48, 64], out expectedRim))
                ?? Hex(parse.GetValue(rpv), "--rpv", [64], out expectedRpv);
            for (int i = 0; problem is null && i < remValues.Length; i++)
            {
                problem = remValues[i] == "-" ? null : Hex(remValues[i], $"--rem (REM{i + 1})", [32, 48, 64], out expectedRems[i]);
            }

            if (problem is not null)
            {
                return Usage(problem);
            }

            // An option given on the command line overrides what the reference-values file says.
            var expected = new VerifyExpectations
            {
                Challenge = expectedChallenge,
                InitialMeasurement = expectedRim,
                PersonalizationValue = expectedRpv ?? reference?.PersonalizationValue,
                ExtensibleMeasurements = remValues.Length > 0 ? expectedRems : reference?.ExtensibleMeasurements,
                HashAlgorithm = reference?.HashAlgorithm,
                Platform = reference?.Platform,
            };

            string pem = PlatformDescription.Default.ExportPlatformPublicKeyPem();
            if (parse.GetValue(key) is { } keyPath)
            {
                int? failed = ReadInput(keyPath, "platform key", MaxKeyBytes, out byte[] keyBytes);
                if (failed is not null)
                {
                    return failed.Value;
                }

                pem = System.Text.Encoding.UTF8.GetString(keyBytes);

                // A key that cannot be read is a bad option value (exit 2), not a token that failed a check.
                if (PemKeys.EcKeyProblem(pem) is { } keyProblem)
                {
                    return Usage($"platform key '{keyPath}' is not an EC key in PEM: {keyProblem}");
                }
            }

            int? tokenFailed = ReadInput(parse.GetValue(token)!, "token", MaxTokenBytes, out byte[] bytes);
            if (tokenFailed is not null)
            {
                return tokenFailed.Value;
            }

            VerificationResult result = CcaTokenVerifier.VerifyWithPem(bytes, pem, expected.ToOptions());
            var report = VerifyReport.Create(result, bytes.Length, expected);
            if (parse.GetValue(json))
            {
                System.Console.Out.Write(System.Text.Encoding.UTF8.GetString(report.Json()));
                System.Console.Out.Flush();
            }
            else if (System.Console.IsOutputRedirected || StandardStreams.OutputClosed)
            {
                // Pipes, files and scripts get the line format, unchanged (README; quiet when not a terminal).
                System.Console.Out.Write(report.Plain());
                System.Console.Out.Flush();
            }
            else
            {
                report.Table(Spectre.Console.AnsiConsole.Console);
            }

            return report.IsValid ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return command;
    }

    /// <summary>Reads and parses a reference-values file; null when done, else the exit code after its one line.</summary>
    private static int? ReadReferenceValues(string path, out ReferenceValues? values)
    {
        values = null;
        int? failed = ReadInput(path, ReferenceValuesFile, ReferenceValues.MaxBytes, out byte[] bytes);
        if (failed is not null)
        {
            return failed;
        }

        // A file that is not reference values is a bad option value: exit 2, like an unreadable platform key.
        if (ReferenceValues.TryParse(bytes, out values) is { } problem)
        {
            return Usage($"{ReferenceValuesFile} '{path}': {problem}");
        }

        return null;
    }

    /// <summary>True when <paramref name="value"/> is hex digits in pairs, optionally after <c>0x</c>.</summary>
    internal static bool IsHex(string value, out ReadOnlySpan<char> digits)
    {
        digits = value.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? value.AsSpan(2) : value;
        return digits.Length > 0 && !digits.ContainsAnyExcept(s_hexDigits);
    }

    /// <summary>Reads a file named on the command line; null when read, else the exit code after its one-line report.</summary>
    private static int? ReadInput(string path, string what, int cap, out byte[] bytes)
    {
        bytes = [];
        if (path == "-")
        {
            // As for `ccasim rmm -`: standard input.
            path = "/dev/stdin";
        }

        if (StandardStreams.InputClosed && StandardStreams.IsStandardInputPath(path))
        {
            Program.ReportError($"ccasim verify: cannot read {what} '{path}': standard input is closed");
            return ExitCodes.Io;
        }

        string? problem = InputFiles.TryOpen(path, what, out FileStream? stream);
        if (problem is not null)
        {
            return Usage(problem);
        }

        using (stream)
        {
            switch (InputFiles.ReadBounded(stream!, cap, out bytes, out string? ioError))
            {
                case BoundedRead.TooLarge:
                    // A token that large is not a token (a failed check); a key file that large is a bad option value.
                    Program.ReportError($"ccasim verify: {what} '{path}' is larger than {cap} bytes; not a {what}");
                    return what == "token" ? ExitCodes.Failed : ExitCodes.Usage;
                case BoundedRead.IoError:
                    Program.ReportError($"ccasim verify: cannot read {what} '{path}': {ioError}");
                    return ExitCodes.Io;
                default:
                    return null;
            }
        }
    }

    private static int Usage(string problem)
    {
        Program.ReportError($"ccasim verify: {problem}");
        return ExitCodes.Usage;
    }

    /// <summary>Parses an expected value; null when it is hex of one of <paramref name="lengths"/>, else why not.</summary>
    private static string? Hex(string? value, string option, int[] lengths, out byte[]? bytes)
    {
        bytes = null;
        if (value is null)
        {
            return null;
        }

        if (!IsHex(value, out ReadOnlySpan<char> digits) || digits.Length % 2 != 0)
        {
            return $"{option} '{value}' is not hex";
        }

        // A value of the wrong length can never match: a usage error, not a verification failure.
        if (!lengths.Contains(digits.Length / 2))
        {
            return $"{option} is {digits.Length / 2} bytes; it must be {string.Join(" or ", lengths)} bytes";
        }

        bytes = Convert.FromHexString(digits);
        return null;
    }
}
