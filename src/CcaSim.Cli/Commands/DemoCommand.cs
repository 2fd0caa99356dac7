using System.CommandLine;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using CcaSim.Attestation;
using CcaSim.Vmm;
using Spectre.Console;

namespace CcaSim.Cli.Commands;

/// <summary>
/// <c>ccasim demo</c>: builds the <c>hello</c> payload when it is missing or older than its sources, boots it as a
/// 2-vCPU realm, and shows its UART output, the RIM it booted with, its attestation token verified against the
/// default platform's key (expected RIM = the booted one, challenge = hello's default 0x00..0x3f), and the timing.
/// </summary>
internal static class DemoCommand
{
    private const string Who = "ccasim demo";
    private const string Payload = "hello";
    private const int Cpus = 2;

    /// <summary>The cross toolchain prefix guests/Makefile uses by default.</summary>
    private const string CrossGcc = "aarch64-linux-gnu-gcc";

    public static Command Create()
    {
        var command = new Command("demo", $"Build (if needed) and boot the {Payload} payload as a {Cpus}-vCPU realm: its UART output, the RIM it booted with, its attestation token verified, and the timing.");
        command.SetAction(_ => Run());
        return command;
    }

    private static int Run()
    {
        string? payload = FindPayload(out string? problem);
        if (payload is null)
        {
            Program.ReportError($"{Who}: {problem}");
            return ExitCodes.Usage;
        }

        var options = new MachineOptions { Vm = new VmOptions { Kernel = payload, Realm = true, Cpus = Cpus }, ConsoleOutput = null };

        // What `ccasim measure` predicts for this realm, before anything is booted.
        string predicted;
        try
        {
            predicted = Convert.ToHexStringLower(CcaSim.Vmm.Measurement.RimCalculator.Compute(options.Vm).Rim);
        }
        catch (VmmException e)
        {
            predicted = "(cannot predict: " + e.Message + ")";
        }

        var wall = Stopwatch.StartNew();
        VmRunResult result = RunCommand.Boot(options, out string? failure);
        wall.Stop();
        if (failure is not null)
        {
            Program.ReportError($"{Who}: {failure}");
            return ExitCodes.VmNotBuilt;
        }

        int code = RunCommand.ExitCodeOf(result);
        string? rim = result.Transcript.Split('\n').Select(l => l.TrimEnd('\r')).FirstOrDefault(l => l.StartsWith("RIM: ", StringComparison.Ordinal))?[5..].Trim();
        string verification = Verify(result.Transcript, rim, out bool verified);
        try
        {
            using var output = new StreamWriter(StandardStreams.OpenOutput(), new System.Text.UTF8Encoding(false), 1 << 14);
            WriteTranscript(output, result.Transcript);
            output.Flush();
            var rows = new List<(string, string)>
            {
                ("Realm", $"{Payload}.bin, {Cpus} vCPUs, {VmOptions.DefaultMemoryMiB} MiB, SHA-256"),
                ("Predicted RIM", predicted),
                ("Booted RIM", rim is null ? "(the guest printed no RIM line)" : rim == predicted ? rim + " (as predicted)" : rim + " (DIFFERS from the prediction)"),
                ("Token", verification),
                ("Exit", result.Outcome == VmOutcome.PoweredOff ? $"{result.ExitCode} (the guest powered off)" : $"{result.Outcome}: {result.Message}"),
                ("Time", string.Create(CultureInfo.InvariantCulture, $"boot {wall.Elapsed.TotalMilliseconds:0.#} ms wall, {RunCommand.VirtualMilliseconds(result.VirtualTime):0.###} ms virtual")),
            };
            if (System.Console.IsOutputRedirected || StandardStreams.OutputClosed)
            {
                foreach ((string name, string value) in rows)
                {
                    output.WriteLine($"{(name.ToLowerInvariant() + ":").PadRight(15)}{value}");
                }

                output.Flush();
            }
            else
            {
                var table = new Table().Border(TableBorder.Rounded).AddColumn("").AddColumn($"{Payload} in a realm");
                foreach ((string name, string value) in rows)
                {
                    table.AddRow(new Markup($"[bold]{Markup.Escape(name)}[/]"), new Text(value));
                }

                AnsiConsole.Write(table);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Program.OutputFailed(Who, e);
        }

        return code != 0 ? code : verified && rim == predicted ? ExitCodes.Ok : ExitCodes.Failed;
    }

    /// <summary>The token check as one line ("OK: …" or "FAIL: …"), against the platform the demo booted on.</summary>
    private static string Verify(string transcript, string? rim, out bool verified)
    {
        verified = false;
        if (GuestToken.Parse(transcript, out byte[]? token) is string problem)
        {
            return "FAIL: " + problem;
        }

        byte[]? expectedRim = null;
        if (rim is not null)
        {
            try
            {
                expectedRim = Convert.FromHexString(rim);
            }
            catch (FormatException)
            {
                return $"FAIL: the guest's RIM line '{rim}' is not hex";
            }
        }

        // hello's challenge when the bootargs carry none is the bytes 0x00..0x3f (guests/hello/main.c).
        byte[] challenge = [.. Enumerable.Range(0, 64).Select(i => (byte)i)];
        VerificationResult result = CcaTokenVerifier.Verify(token, PlatformDescription.Default.PlatformKey, new VerificationOptions
        {
            Challenge = challenge,
            InitialMeasurement = expectedRim,
            RequireRel0 = true,
        });
        verified = result.IsValid && expectedRim is not null;
        return verified
            ? $"OK: {token!.Length} bytes; signatures, binding, the booted RIM and the challenge 00..3f verified against the default platform key"
            : "FAIL: " + (expectedRim is null ? "no RIM to expect" : result.ToString());
    }

    /// <summary>The UART output, with the token's hex lines folded into one line (the token is verified below).</summary>
    private static void WriteTranscript(StreamWriter output, string transcript)
    {
        int tokenLines = transcript.Split('\n').Count(l => l.StartsWith("TOKEN: ", StringComparison.Ordinal));
        bool folded = false;
        foreach (string line in transcript.TrimEnd('\n').Split('\n'))
        {
            if (!line.StartsWith("TOKEN: ", StringComparison.Ordinal))
            {
                output.WriteLine(line.TrimEnd('\r'));
            }
            else if (!folded)
            {
                folded = true;
                output.WriteLine($"TOKEN: ... ({tokenLines} lines of hex; `ccasim run --token-out FILE` writes the token)");
            }
        }
    }

    /// <summary>The hello payload, built first when it is missing or older than its sources; or null and why not.</summary>
    private static string? FindPayload(out string? problem)
    {
        problem = null;
        if (Environment.GetEnvironmentVariable("CCASIM_GUESTS") is { Length: > 0 } prebuilt)
        {
            string path = Path.Combine(prebuilt, Payload + ".bin");
            problem = File.Exists(path) ? null : $"{path} is missing (CCASIM_GUESTS names the directory of prebuilt payloads)";
            return problem is null ? path : null;
        }

        string? root = FindRoot();
        if (root is null)
        {
            problem = $"cannot find the CcaSim checkout (guests/Makefile) above {AppContext.BaseDirectory}; run the demo through the checkout's ./ccasim";
            return null;
        }

        string output = Path.Combine(root, ".build", "guests");
        string bin = Path.Combine(output, Payload + ".bin");
        if (File.Exists(bin) && !OlderThanSources(bin, Path.Combine(root, "guests")))
        {
            return bin;
        }

        foreach (string tool in new[] { "make", CrossGcc })
        {
            if (!OnPath(tool))
            {
                problem = $"building the {Payload} payload needs make and {CrossGcc}, and {tool} is not on PATH; run scripts/setup.sh";
                return null;
            }
        }

        Program.ReportError($"{Who}: building the {Payload} payload (make -C guests O=.build/guests {Payload})");
        var start = new ProcessStartInfo("make") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { "-C", Path.Combine(root, "guests"), "O=" + output, Payload })
        {
            start.ArgumentList.Add(a);
        }

        try
        {
            using Process make = Process.Start(start)!;
            Task<string> stdout = make.StandardOutput.ReadToEndAsync();
            Task<string> stderr = make.StandardError.ReadToEndAsync();
            make.WaitForExit();
            if (make.ExitCode != 0)
            {
                string last = stderr.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
                problem = $"building the {Payload} payload failed (make exited {make.ExitCode}: {Console.OutputFiles.OneLine(last)}); run scripts/setup.sh for the toolchain";
                return null;
            }
        }
        catch (Win32Exception e)
        {
            problem = $"cannot run make ({e.Message}); run scripts/setup.sh";
            return null;
        }

        if (!File.Exists(bin))
        {
            problem = $"make ran but {bin} is still missing";
            return null;
        }

        return bin;
    }

    private static string? FindRoot()
    {
        foreach (string? start in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(Environment.ProcessPath) })
        {
            for (DirectoryInfo? dir = start is null ? null : new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "guests", "Makefile")))
                {
                    return dir.FullName;
                }
            }
        }

        return null;
    }

    /// <summary>Whether any file of the payload kit (its own directory, lib/, the Makefile) is newer than <paramref name="bin"/>.</summary>
    private static bool OlderThanSources(string bin, string guests)
    {
        DateTime built = File.GetLastWriteTimeUtc(bin);
        IEnumerable<string> sources = new[] { Path.Combine(guests, Payload), Path.Combine(guests, "lib") }
            .Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d, "*", SearchOption.AllDirectories))
            .Append(Path.Combine(guests, "Makefile"));
        return sources.Any(f => File.Exists(f) && File.GetLastWriteTimeUtc(f) > built);
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, tool)));
}
