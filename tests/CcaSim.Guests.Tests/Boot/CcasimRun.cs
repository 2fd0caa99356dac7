using System.CommandLine;
using System.Globalization;
using System.Text;
using CcaSim.Cli.Commands;

namespace CcaSim.Guests.Tests.Boot;

/// <summary>What <c>ccasim run</c> left behind: its exit code and the guest's standard output (the UART, byte for byte).</summary>
internal sealed record CcasimRunResult(int ExitCode, string Transcript)
{
    /// <summary>The lines of the transcript, without the empty one after the last newline.</summary>
    public string[] Lines => Transcript.TrimEnd('\n').Split('\n');

    /// <summary>The token the payload printed, read as `ccasim run --token-out` reads it; null when it printed none (or a malformed one).</summary>
    public byte[]? Token => GuestToken.Parse(Transcript, out byte[]? token) is null ? token : null;

    /// <summary>The value of a "NAME: hex" line (e.g. RIM), or null.</summary>
    public byte[]? HexLine(string name) =>
        Lines.FirstOrDefault(l => l.StartsWith(name + ": ", StringComparison.Ordinal)) is string line ? Convert.FromHexString(line.AsSpan(name.Length + 2).Trim()) : null;

    public override string ToString() => $"exit code {ExitCode.ToString(CultureInfo.InvariantCulture)}\n--- transcript ---\n{Transcript}";
}

/// <summary>
/// <c>ccasim run</c> in process: the arguments a user types are parsed by the CLI's own command and run by its own
/// action (options, VMM, exit code); only standard output is a stream of the test's, so the UART can be read back.
/// </summary>
internal static class CcasimRun
{
    /// <summary>
    /// The instruction budget every boot gets (--max-instructions): well above what the slowest payload needs (smp
    /// with 4 vCPUs, ~1.56 G: its spinning vCPUs burn whole time slices), so that only a guest that never powers off
    /// meets it, and then fails instead of spinning forever.
    /// </summary>
    public const string Budget = "4000000000";

    /// <summary>Runs <c>ccasim <paramref name="args"/></c>, where args[0] is "run".</summary>
    public static CcasimRunResult Invoke(params string[] args)
    {
        var output = new MemoryStream();
        var root = new RootCommand { RunCommand.Create(() => output) };
        ParseResult parse = root.Parse(args);
        Assert.True(parse.Errors.Count == 0, string.Join("; ", parse.Errors.Select(e => e.Message)));
        int code = parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });

        // The command disposes the stream it was given; a MemoryStream still hands out its bytes.
        return new CcasimRunResult(code, Encoding.UTF8.GetString(output.ToArray()));
    }

    /// <summary><c>ccasim run -k PAYLOAD.bin [--realm] -c N --quiet --max-instructions BUDGET [extra...]</c>.</summary>
    public static CcasimRunResult Boot(string payload, bool realm, int vcpus, params string[] extra) =>
        Invoke(["run", "-k", GuestImages.BinPath(payload), .. realm ? new[] { "--realm" } : [], "-c", vcpus.ToString(CultureInfo.InvariantCulture), "--quiet", "--max-instructions", Budget, .. extra]);
}
