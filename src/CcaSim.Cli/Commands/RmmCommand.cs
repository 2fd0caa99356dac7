using System.CommandLine;
using CcaSim.Attestation;
using CcaSim.Cli.Console;
using CcaSim.Platform;
using CcaSim.Rmm;

namespace CcaSim.Cli.Commands;

/// <summary><c>ccasim rmm [SCRIPT]</c>: the RMM console.</summary>
internal static class RmmCommand
{
    public static Command Create()
    {
        var script = new Argument<string?>("script") { Description = "Command script; standard input when absent or '-'.", Arity = ArgumentArity.ZeroOrOne };
        var poolSize = new Option<string>("--pool-size") { Description = "Size of the physical memory pool (bytes, or with K/M/G/T).", DefaultValueFactory = _ => "1G" };
        var poolBase = new Option<string>("--pool-base") { Description = "Physical address of granule g0.", DefaultValueFactory = _ => $"0x{PlatformOptions.DefaultMemoryBase:x}" };
        var feat0 = new Option<string>("--feature-register0") { Description = "RMI feature register 0 as one value.", DefaultValueFactory = _ => $"0x{FeatureRegister0.ReferenceHostBuildValue:x}" };
        var s2sz = CliOptions.Int("--s2sz", "Override S2SZ (maximum IPA width).");
        var lpa2 = CliOptions.Bool("--lpa2", "Override LPA2 support.");
        var sve = CliOptions.Bool("--sve", "Override SVE support.");
        var sveVl = CliOptions.Int("--sve-vl", "Override maximum SVE vector length (VQ-1).");
        var bps = CliOptions.Int("--num-bps", "Override number of breakpoints.");
        var wps = CliOptions.Int("--num-wps", "Override number of watchpoints.");
        var pmu = CliOptions.Bool("--pmu", "Override PMU support.");
        var pmuCtrs = CliOptions.Int("--pmu-counters", "Override number of PMU event counters.");
        var sha256 = CliOptions.Bool("--sha256", "Override SHA-256 support.");
        var sha512 = CliOptions.Bool("--sha512", "Override SHA-512 support.");
        var lrs = CliOptions.Int("--gic-lrs", "Override number of GICv3 list registers (1..16).");
        var recsOrder = CliOptions.Int("--max-recs-order", "Override MAX_RECS_ORDER (max RECs = 2^order - 1).");
        var vmidBits = CliOptions.Int("--vmid-bits", "VMID width: 8 or 16.", 16);
        var hostLimit = new Option<string?>("--host-memory-limit") { Description = "Host memory the simulated DRAM may take (bytes, or with K/M/G/T); host writes past it print E nomem. Default: 4G." };
        var explain = new Option<bool>("--explain") { Description = "Annotate each result line with spec names (status, exit reason, decoded outputs)." };
        var strict = new Option<bool>("--strict") { Description = "Exit 1 if any line printed E or an error status its line did not expect ('=> ...')." };

        var command = new Command("rmm", "Drive the RMM as a host would: one command a line (smc, w64, r64, zero, dump, base, rsi, irq, rdump).")
        {
            script, poolSize, poolBase, feat0, s2sz, lpa2, sve, sveVl, bps, wps, pmu, pmuCtrs, sha256, sha512, lrs, recsOrder, vmidBits, hostLimit, explain, strict,
        };
        var attestation = new AttestationOptions();
        attestation.AddTo(command);

        command.SetAction(parse =>
        {
            if (parse.GetValue(recsOrder) is < 1 or > 15)
            {
                // MAX_RECS_ORDER 0 would allow no REC at all (rmm-1.0.md §4.4); the field is 4 bits.
                Program.ReportError("ccasim rmm: --max-recs-order must be 1..15");
                return ExitCodes.Usage;
            }

            if (!ScriptValues.TryParseSize(parse.GetValue(poolSize)!, out ulong size))
            {
                Program.ReportError($"ccasim rmm: --pool-size '{parse.GetValue(poolSize)}' is not a size");
                return ExitCodes.Usage;
            }

            if (!ScriptValues.TryParseSize(parse.GetValue(poolBase)!, out ulong basePa))
            {
                Program.ReportError($"ccasim rmm: --pool-base '{parse.GetValue(poolBase)}' is not an address");
                return ExitCodes.Usage;
            }

            if (!ScriptValues.TryParseNumber(parse.GetValue(feat0), out ulong featValue))
            {
                Program.ReportError($"ccasim rmm: --feature-register0 '{parse.GetValue(feat0)}' is not a number");
                return ExitCodes.Usage;
            }

            if (featValue >> 42 != 0)
            {
                Program.ReportError("ccasim rmm: --feature-register0 has bits set in [63:42], which must be zero");
                return ExitCodes.Usage;
            }

            FeatureRegister0 f = FeatureRegister0.Unpack(featValue);
            f = f with
            {
                S2sz = parse.GetValue(s2sz) ?? f.S2sz,
                Lpa2 = parse.GetValue(lpa2) ?? f.Lpa2,
                SveEnabled = parse.GetValue(sve) ?? f.SveEnabled,
                SveVl = parse.GetValue(sveVl) ?? f.SveVl,
                NumBps = parse.GetValue(bps) ?? f.NumBps,
                NumWps = parse.GetValue(wps) ?? f.NumWps,
                PmuEnabled = parse.GetValue(pmu) ?? f.PmuEnabled,
                PmuNumCtrs = parse.GetValue(pmuCtrs) ?? f.PmuNumCtrs,
                HashSha256 = parse.GetValue(sha256) ?? f.HashSha256,
                HashSha512 = parse.GetValue(sha512) ?? f.HashSha512,
                Gicv3NumLrs = parse.GetValue(lrs) ?? f.Gicv3NumLrs,
                MaxRecsOrder = parse.GetValue(recsOrder) ?? f.MaxRecsOrder,
            };

            PlatformDescription? identity = attestation.Resolve(parse, out string? keyProblem);
            if (identity is null)
            {
                Program.ReportError($"ccasim rmm: {keyProblem}");
                return ExitCodes.Usage;
            }

            var config = new RmmConfig { Features = f, VmidBits = parse.GetValue(vmidBits), Attestation = identity };
            string? problem = FieldRangeProblem(f) ?? config.Validate();
            if (problem is not null)
            {
                Program.ReportError($"ccasim rmm: {problem}");
                return ExitCodes.Usage;
            }

            string? poolProblem = Platform.Memory.PhysicalMemory.Validate(basePa, size);
            if (poolProblem is not null)
            {
                Program.ReportError($"ccasim rmm: {poolProblem}");
                return ExitCodes.Usage;
            }

            string? limitText = parse.GetValue(hostLimit);
            ulong limit = HostMemory.DefaultLimit;
            if (limitText is not null && !ScriptValues.TryParseSize(limitText, out limit))
            {
                Program.ReportError($"ccasim rmm: --host-memory-limit '{limitText}' is not a size");
                return ExitCodes.Usage;
            }

            string? path = parse.GetValue(script);
            // After '--' the word is a file name even when it starts with '-'.
            bool literal = parse.Tokens.Any(t => t.Type == System.CommandLine.Parsing.TokenType.DoubleDash);
            string? inputProblem = ScriptInput.TryOpen(path, literal, out Stream? inputStream, out bool seekable);
            if (inputProblem is not null)
            {
                Program.ReportError($"ccasim rmm: {inputProblem}");
                return ExitCodes.Usage;
            }

            var platform = new CcaPlatform(new PlatformOptions { MemoryBase = basePa, MemorySize = size, MaxCommittedBytes = limit });
            RealmManagementMonitor rmm = RealmManagementMonitor.Boot(platform.Monitor, config, platform.Interrupts);
            using var input = new StreamReader(inputStream!, new System.Text.UTF8Encoding(false), false, 1 << 16);
            RmmConsole console;
            using var interrupt = new Interruption(seekable);
            try
            {
                using var output = new StreamWriter(StandardStreams.OpenOutput(), bufferSize: 1 << 16) { AutoFlush = false };
                console = new RmmConsole(platform, rmm, output, new RmmConsoleOptions { Explain = parse.GetValue(explain), Strict = parse.GetValue(strict) }) { FlushEachLine = !seekable, Stop = interrupt.Token };
                console.Run(input);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Program.OutputFailed("ccasim rmm", e);
            }

            if (console.InputError is not null)
            {
                Program.ReportError($"ccasim rmm: cannot read {(path is null or "-" ? "standard input" : $"script '{path}'")}: {console.InputError}");
                return ExitCodes.Io;
            }

            if (interrupt.Signal is { } signal)
            {
                Program.ReportError($"ccasim rmm: interrupted by {signal} after line {console.LinesRun}; results up to it are written");
                return ExitCodes.Interrupted(signal);
            }

            return StrictExit(parse.GetValue(strict), console);
        });
        return command;
    }

    /// <summary>The script syntax and the E codes, for <c>ccasim rmm --help</c>.</summary>
    public static string ScriptSyntax()
    {
        var b = new System.Text.StringBuilder();
        b.AppendLine("Script: one command a line; '#' starts a comment; lines longer than " + ScriptReader.MaxLineLength + " characters are skipped (E toolong).");
        b.AppendLine("  smc FID [a0..a5]        RMI call; FID a number or spec name (RMI_GRANULE_DELEGATE)  -> R x0 x1 x2 x3 x4");
        b.AppendLine("  w64 ADDR VALUE          host 64-bit write                                             -> nothing");
        b.AppendLine("  zero ADDR               host zeroes ADDR to the end of its granule                    -> nothing");
        b.AppendLine("  r64 ADDR                host 64-bit read                                              -> V value");
        b.AppendLine("  dump ADDR LEN           host read of LEN bytes (at most 1 MiB)                        -> D hexbytes");
        b.AppendLine("  base                    address of granule g0                                         -> B pa");
        b.AppendLine("  rsi FID [a1..a10]       queue a realm call (RSI_*, PSCI_*, SMCCC_VERSION); it runs on the next RMI_REC_ENTER -> RSI x0..x4");
        b.AppendLine("  irq 1|0                 raise or clear the pending physical IRQ                      -> nothing");
        b.AppendLine("  rdump RD IPA LEN [FILE] realm memory as the realm sees it                             -> D hexbytes, or FILE");
        b.AppendLine("Values: hex with 0x, decimal (or -N), gN or gN+OFF (granule N of the pool plus OFF), realm_pc. Results are lower-case hex.");
        b.AppendLine();
        b.AppendLine("Errors (one line 'E CODE DETAIL'; the run goes on):");
        foreach ((string code, string meaning) in ErrorCodes.All)
        {
            b.Append("  E ").Append(code.PadRight(9)).AppendLine(meaning);
        }

        b.AppendLine();
        b.AppendLine(Expectation.HelpText);
        return b.ToString().TrimEnd();
    }

    /// <summary>--strict: exit 1 naming the first offending script line (Expectation.HelpText).</summary>
    private static int StrictExit(bool strict, RmmConsole console)
    {
        if (!strict || console.FirstOffence is not { } first)
        {
            return 0;
        }

        Program.ReportError($"ccasim rmm: --strict: {console.Offences} unexpected result(s); first at script line {first.Line}: {first.What}");
        return ExitCodes.Failed;
    }

    /// <summary>Field overrides must fit their bit fields (rmm-1.0.md §4.4) before packing.</summary>
    private static string? FieldRangeProblem(FeatureRegister0 f) =>
        f.S2sz is < 0 or > 255 ? "--s2sz must fit 8 bits"
        : f.SveVl is < 0 or > 15 ? "--sve-vl must be 0..15"
        : f.NumBps is < 0 or > 63 ? "--num-bps must be 0..63"
        : f.NumWps is < 0 or > 63 ? "--num-wps must be 0..63"
        : f.PmuNumCtrs is < 0 or > 31 ? "--pmu-counters must be 0..31"
        : f.Gicv3NumLrs is < 1 or > 16 ? "--gic-lrs must be 1..16"
        : null;
}
