using System.CommandLine;
using CcaSim.Attestation;

namespace CcaSim.Cli.Commands;

/// <summary><c>ccasim verify TOKEN</c>: checks a CCA attestation token and, optionally, the values it must carry.</summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var token = new Argument<FileInfo>("token") { Description = "CCA token (CBOR, tag 399)." };
        var key = new Option<FileInfo?>("--platform-key") { Description = "Platform attestation public key (PEM). Default: the simulator's default platform." };
        var challenge = new Option<string?>("--challenge") { Description = "Expected realm challenge (hex, 64 bytes)." };
        var rim = new Option<string?>("--rim") { Description = "Expected RIM (hex)." };
        var rpv = new Option<string?>("--rpv") { Description = "Expected personalization value (hex, 64 bytes)." };
        var rems = new Option<string[]>("--rem") { Description = "Expected REMs in order, REM1..REM4 (hex; '-' skips one).", AllowMultipleArgumentsPerToken = true };
        var command = new Command("verify", "Verify a CCA attestation token: structure, claims, both signatures, binding, expected values.")
        {
            token, key, challenge, rim, rpv, rems,
        };
        command.SetAction(parse =>
        {
            TextWriter err = System.Console.Error;
            FileInfo file = parse.GetValue(token)!;
            if (!file.Exists)
            {
                err.WriteLine($"ccasim verify: token file '{file}' does not exist");
                return 2;
            }

            FileInfo? keyFile = parse.GetValue(key);
            if (keyFile is { Exists: false })
            {
                err.WriteLine($"ccasim verify: platform key '{keyFile}' does not exist");
                return 2;
            }

            string pem = keyFile is null ? PlatformDescription.Default.ExportPlatformPublicKeyPem() : File.ReadAllText(keyFile.FullName);
            VerificationOptions options;
            try
            {
                string[] remValues = parse.GetValue(rems) ?? [];
                options = new VerificationOptions
                {
                    Challenge = Hex(parse.GetValue(challenge), "--challenge"),
                    InitialMeasurement = Hex(parse.GetValue(rim), "--rim"),
                    PersonalizationValue = Hex(parse.GetValue(rpv), "--rpv"),
                    ExtensibleMeasurements = remValues.Length == 0 ? null : [.. remValues.Select(r => r == "-" ? null : Hex(r, "--rem"))],
                };
            }
            catch (FormatException e)
            {
                err.WriteLine($"ccasim verify: {e.Message}");
                return 2;
            }

            VerificationResult result = CcaTokenVerifier.VerifyWithPem(File.ReadAllBytes(file.FullName), pem, options);
            TextWriter o = System.Console.Out;
            foreach (string warning in result.Warnings)
            {
                o.WriteLine($"warning: {warning}");
            }

            foreach (TokenFailure failure in result.Failures)
            {
                o.WriteLine($"FAIL {failure.Check}: {failure.Message}");
            }

            if (!result.IsValid)
            {
                return 1;
            }

            o.WriteLine($"OK {result.Form} token, {new FileInfo(file.FullName).Length} bytes");
            o.WriteLine($"  realm challenge {Convert.ToHexStringLower(result.Realm!.Challenge)}");
            o.WriteLine($"  RIM ({result.Realm.HashAlgorithm}) {Convert.ToHexStringLower(result.Realm.InitialMeasurement)}");
            for (int i = 0; i < result.Realm.ExtensibleMeasurements.Count; i++)
            {
                o.WriteLine($"  REM{i + 1} {Convert.ToHexStringLower(result.Realm.ExtensibleMeasurements[i])}");
            }

            o.WriteLine($"  platform {result.Platform!.Profile}, instance {Convert.ToHexStringLower(result.Platform.InstanceId)}");
            return 0;
        });
        return command;
    }

    private static byte[]? Hex(string? value, string option)
    {
        if (value is null)
        {
            return null;
        }

        try
        {
            return Convert.FromHexString(value.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? value[2..] : value);
        }
        catch (FormatException)
        {
            throw new FormatException($"{option} '{value}' is not hex");
        }
    }
}
