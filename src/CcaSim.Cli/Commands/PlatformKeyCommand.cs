using System.CommandLine;
using CcaSim.Attestation;

namespace CcaSim.Cli.Commands;

/// <summary><c>ccasim platform-key</c>: the default platform's attestation public key, for verifiers.</summary>
internal static class PlatformKeyCommand
{
    public static Command Create()
    {
        var command = new Command("platform-key", "Print the simulated platform's attestation public key (PEM) that verifiers trust.");
        command.SetAction(_ =>
        {
            System.Console.Out.Write(PlatformDescription.Default.ExportPlatformPublicKeyPem());
            System.Console.Out.WriteLine();
            return 0;
        });
        return command;
    }
}
