using System.Diagnostics;

namespace CcaSim.Cli.Tests.Commands;

/// <summary>Runs the built <c>ccasim</c> as a process, for what only a real process shows: exit codes, stderr, devices.</summary>
internal static class CcasimProcess
{
    private static readonly string s_dll = Path.Combine(AppContext.BaseDirectory, "ccasim.dll");

    public static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    /// <summary>Runs ccasim with <paramref name="args"/> and <paramref name="stdin"/>; returns exit code, stdout and stderr.</summary>
    public static (int Exit, string Out, string Err) Run(string stdin, params string[] args)
    {
        var start = new ProcessStartInfo(Dotnet) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(s_dll);
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        return Finish(start, stdin);
    }

    /// <summary>Runs <c>sh -c</c> with <c>CCASIM</c> standing for the ccasim command, for redirections to devices.</summary>
    public static (int Exit, string Out, string Err) Shell(string command)
    {
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command.Replace("CCASIM", $"'{Dotnet}' '{s_dll}'", StringComparison.Ordinal));
        return Finish(start, "");
    }

    public static Process Start(params string[] args)
    {
        var start = new ProcessStartInfo(Dotnet) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(s_dll);
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        return Process.Start(start)!;
    }

    private static (int Exit, string Out, string Err) Finish(ProcessStartInfo start, string stdin)
    {
        using Process p = Process.Start(start)!;
        Task<string> output = p.StandardOutput.ReadToEndAsync();
        Task<string> error = p.StandardError.ReadToEndAsync();
        p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        p.WaitForExit();
        return (p.ExitCode, output.Result, error.Result);
    }
}
