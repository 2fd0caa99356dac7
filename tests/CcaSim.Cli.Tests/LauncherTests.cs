using System.Diagnostics;

namespace CcaSim.Cli.Tests;

/// <summary>
/// The README's main job exactly as a user types it: <c>./ccasim</c> builds the CLI when a source is newer than the
/// build (NativeAOT, or ReadyToRun where no C toolchain can be had) and runs it. Nothing else in the suite runs the
/// launcher, so without these a broken launcher or a NativeAOT-only failure would pass CI.
/// </summary>
public sealed class LauncherTests : IDisposable
{
    private static readonly string s_root = FindCheckout();
    private readonly string _dir = Directory.CreateTempSubdirectory("ccasim-launcher-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ReadmeMainJob_ThroughTheLauncher_BootsTheDemoRealmAndVerifiesIt()
    {
        (int exit, string output, string error) = Run(Path.Combine(s_root, "ccasim"), s_root, "demo");

        Assert.True(exit == 0, $"exit {exit}: {error}\n{output}");
        Assert.Contains("EXIT: STATUS=0\n", output, StringComparison.Ordinal);
        Assert.Contains(" (as predicted)\n", output, StringComparison.Ordinal);
        Assert.Contains("token:         OK: ", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
        Assert.Empty(ProcessesHolding(Path.Combine(s_root, ".build", "lock")));
    }

    [Fact]
    public void RmmExample_ThroughTheLauncher_PrintsTheRecordedRealmTranscript()
    {
        (int exit, string output, string error) = Run(Path.Combine(s_root, "ccasim"), s_root, "rmm", "examples/realm-rsi.rmm");

        Assert.True(exit == 0, $"exit {exit}: {error}");
        Assert.Equal(File.ReadAllText(Path.Combine(s_root, "examples", "realm-rsi.out")), output);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);

        // A build's reusable MSBuild nodes outlive it; holding the build lock they would block every later run.
        Assert.Empty(ProcessesHolding(Path.Combine(s_root, ".build", "lock")));
    }

    [Fact]
    public void Launcher_SymlinkedOntoThePath_FindsItsCheckout()
    {
        string bin = Directory.CreateDirectory(Path.Combine(_dir, "bin")).FullName;
        File.CreateSymbolicLink(Path.Combine(bin, "ccasim"), Path.Combine(s_root, "ccasim"));

        (int exit, string output, string error) = RunWithPath("ccasim", _dir, bin, "rmm");

        Assert.True(exit == 0, $"exit {exit}: {error}");
        Assert.Equal("", output);
    }

    private static (int Exit, string Out, string Err) Run(string program, string cwd, params string[] args) =>
        RunWithPath(program, cwd, null, args);

    private static (int Exit, string Out, string Err) RunWithPath(string program, string cwd, string? pathPrefix, params string[] args)
    {
        var start = new ProcessStartInfo("/bin/bash")
        {
            WorkingDirectory = cwd,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec \"$0\" \"$@\"");
        start.ArgumentList.Add(program);
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        // The test host's MSBuild variables would steer the launcher's own `dotnet publish` into this test build.
        foreach (string name in start.Environment.Keys.ToList())
        {
            if (name.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || name.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase))
            {
                start.Environment.Remove(name);
            }
        }

        if (pathPrefix is not null)
        {
            start.Environment["PATH"] = pathPrefix + ":" + start.Environment["PATH"];
        }

        using Process p = Process.Start(start)!;
        p.StandardInput.Close();
        Task<string> output = p.StandardOutput.ReadToEndAsync();
        Task<string> error = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, output.Result, error.Result);
    }

    private static List<string> ProcessesHolding(string file)
    {
        var holders = new List<string>();
        foreach (string proc in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                foreach (string fd in Directory.EnumerateFileSystemEntries(Path.Combine(proc, "fd")))
                {
                    if (File.ResolveLinkTarget(fd, returnFinalTarget: false)?.FullName == file)
                    {
                        holders.Add(File.ReadAllText(Path.Combine(proc, "cmdline")).Replace('\0', ' '));
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Not a process, or one that ended or is not ours to inspect.
            }
        }

        return holders;
    }

    private static string FindCheckout()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "CcaSim.sln")) && File.Exists(Path.Combine(d.FullName, "ccasim")))
            {
                return d.FullName;
            }
        }

        throw new InvalidOperationException("the tests run outside a CcaSim checkout");
    }
}
