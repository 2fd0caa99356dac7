using System.CommandLine;
using CcaSim.Attestation;

namespace CcaSim.Cli.Commands;

/// <summary><c>ccasim platform-key</c>: the default platform's attestation public key, for verifiers.</summary>
internal static class PlatformKeyCommand
{
    public static Command Create()
    {
        var command = new Command("platform-key", "Print the simulated platform's attestation public key (PEM) that verifiers trust.");
        var attestation = new AttestationOptions();
        attestation.AddTo(command);
        command.SetAction(parse =>
        {
            PlatformDescription? platform = attestation.Resolve(parse, out string? problem);
            if (platform is null)
            {
                Program.ReportError($"ccasim platform-key: {problem}");
                return ExitCodes.Usage;
            }

            System.Console.Out.WriteLine(platform.ExportPlatformPublicKeyPem());
            return 0;
        });
        return command;
    }
}
