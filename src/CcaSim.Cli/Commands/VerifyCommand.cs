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

    private static readonly System.Buffers.SearchValues<char> s_hexDigits = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF");

    public static Command Create()
    {
        var token = new Argument<string>("token") { Description = $"CCA token (CBOR, tag 399), at most {MaxTokenBytes} bytes; a file, FIFO, or - (or /dev/stdin) for standard input." };
        var key = new Option<string?>("--platform-key") { Description = "Platform attestation public key (PEM). Default: the simulator's default platform." };
        var challenge = new Option<string?>("--challenge") { Description = "Expected realm challenge (hex, 64 bytes)." };
        var rim = new Option<string?>("--rim") { Description = "Expected RIM (hex, 32, 48 or 64 bytes)." };
        var rpv = new Option<string?>("--rpv") { Description = "Expected personalization value (hex, 64 bytes)." };
        var rems = new Option<string[]>("--rem")
        {
            Description = "Expected REMs in order, REM1..REM4 (hex, 32, 48 or 64 bytes; '-' skips one): repeat the option or separate with commas.",
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command("verify", "Verify a CCA attestation token: structure, claims, both signatures, binding, expected values.")
        {
            token, key, challenge, rim, rpv, rems,
        };
        command.SetAction(parse =>
        {
            string[] remValues = [.. (parse.GetValue(rems) ?? []).SelectMany(r => r.Split(','))];
            if (remValues.Length > 4)
            {
                return Usage($"--rem names {remValues.Length} REMs; a realm has 4 (REM1..REM4)");
            }

            var expectedRems = new byte[]?[remValues.Length];
            byte[]? expectedRim = null;
            byte[]? expectedRpv = null;
            string? problem = Hex(parse.GetValue(challenge), "--challenge", [64], out byte[]? expectedChallenge)
                ?? Hex(parse.GetValue(rim), "--rim", [32, 48, 64], out expectedRim)
                ?? Hex(parse.GetValue(rpv), "--rpv", [64], out expectedRpv);
            for (int i = 0; problem is null && i < remValues.Length; i++)
            {
                problem = remValues[i] == "-" ? null : Hex(remValues[i], $"--rem (REM{i + 1})", [32, 48, 64], out expectedRems[i]);
            }

            if (problem is not null)
            {
                return Usage(problem);
            }

            var options = new VerificationOptions
            {
                Challenge = expectedChallenge,
                InitialMeasurement = expectedRim,
                PersonalizationValue = expectedRpv,
                ExtensibleMeasurements = remValues.Length == 0 ? null : expectedRems,
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

            VerificationResult result = CcaTokenVerifier.VerifyWithPem(bytes, pem, options);
            var o = new StringWriter();
            foreach (string warning in result.Warnings)
            {
                o.WriteLine($"warning: {warning}");
            }

            foreach (TokenFailure failure in result.Failures)
            {
                o.WriteLine($"FAIL {failure.Check}: {failure.Message}");
            }

            if (result.IsValid)
            {
                // The bytes read, not the path's size: a symlink, /dev/stdin or a FIFO has no useful length.
                o.WriteLine($"OK {result.Form} token, {bytes.Length} bytes");
                o.WriteLine($"  realm challenge {Convert.ToHexStringLower(result.Realm!.Challenge)}");
                o.WriteLine($"  RIM ({result.Realm.HashAlgorithm}) {Convert.ToHexStringLower(result.Realm.InitialMeasurement)}");
                for (int i = 0; i < result.Realm.ExtensibleMeasurements.Count; i++)
                {
                    o.WriteLine($"  REM{i + 1} {Convert.ToHexStringLower(result.Realm.ExtensibleMeasurements[i])}");
                }

                o.WriteLine($"  platform {result.Platform!.Profile}, instance {Convert.ToHexStringLower(result.Platform.InstanceId)}");
            }

            System.Console.Out.Write(o.ToString());
            System.Console.Out.Flush();
            return result.IsValid ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return command;
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

        ReadOnlySpan<char> digits = value.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? value.AsSpan(2) : value;
        if (digits.Length % 2 != 0 || digits.ContainsAnyExcept(s_hexDigits))
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
