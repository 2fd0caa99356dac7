using CcaSim.Cli.Console;
using CcaSim.Platform;
using CcaSim.Rmm;

namespace CcaSim.Cli.Tests.Console;

/// <summary>Runs <c>ccasim rmm</c> scripts in-process on a 64 MiB pool at the default base.</summary>
internal static class ConsoleHarness
{
    public static (string[] Lines, RmmConsole Console) Run(string script, RmmConsoleOptions? options = null)
    {
        var platform = new CcaPlatform(new PlatformOptions { MemorySize = 64UL << 20 });
        RealmManagementMonitor rmm = RealmManagementMonitor.Boot(platform.Monitor, null, platform.Interrupts);
        var output = new StringWriter();
        var console = new RmmConsole(platform, rmm, output, options);
        console.Run(new StringReader(script));
        return (output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries), console);
    }

    public static string Example(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "examples", name));

    /// <summary>realm-rsi.rmm up to and including RMI_REALM_ACTIVATE: an active realm with one REC at g6, run at g102.</summary>
    public static string ActiveRealm()
    {
        string[] lines = Example("realm-rsi.rmm").Split('\n');
        int activate = Array.FindIndex(lines, l => l.StartsWith("smc RMI_REALM_ACTIVATE", StringComparison.Ordinal));
        return string.Join('\n', lines[..(activate + 1)]) + "\n";
    }
}
