using System.CommandLine;
using CcaSim.Cli.Commands;

namespace CcaSim.Cli;

internal static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("CcaSim: Arm CCA (RMM 1.0, Linux KVM v12 realms) as runnable software.")
        {
            RmmCommand.Create(),
            VerifyCommand.Create(),
            PlatformKeyCommand.Create(),
        };
        return root.Parse(args).Invoke();
    }
}
