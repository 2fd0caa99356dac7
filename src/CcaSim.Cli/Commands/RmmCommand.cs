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
        var script = new Argument<FileInfo?>("script") { Description = "Command script; standard input when absent or '-'.", Arity = ArgumentArity.ZeroOrOne };
        var poolSize = new Option<string>("--pool-size") { Description = "Size of the physical memory pool (bytes, or with K/M/G/T).", DefaultValueFactory = _ => "1G" };
        var poolBase = new Option<string>("--pool-base") { Description = "Physical address of granule g0.", DefaultValueFactory = _ => $"0x{PlatformOptions.DefaultMemoryBase:x}" };
        var feat0 = new Option<string>("--feature-register0") { Description = "RMI feature register 0 as one value.", DefaultValueFactory = _ => $"0x{FeatureRegister0.ReferenceHostBuildValue:x}" };
        var s2sz = new Option<int?>("--s2sz") { Description = "Override S2SZ (maximum IPA width)." };
        var lpa2 = new Option<bool?>("--lpa2") { Description = "Override LPA2 support." };
        var sve = new Option<bool?>("--sve") { Description = "Override SVE support." };
        var sveVl = new Option<int?>("--sve-vl") { Description = "Override maximum SVE vector length (VQ-1)." };
        var bps = new Option<int?>("--num-bps") { Description = "Override number of breakpoints." };
        var wps = new Option<int?>("--num-wps") { Description = "Override number of watchpoints." };
        var pmu = new Option<bool?>("--pmu") { Description = "Override PMU support." };
        var pmuCtrs = new Option<int?>("--pmu-counters") { Description = "Override number of PMU event counters." };
        var sha256 = new Option<bool?>("--sha256") { Description = "Override SHA-256 support." };
        var sha512 = new Option<bool?>("--sha512") { Description = "Override SHA-512 support." };
        var lrs = new Option<int?>("--gic-lrs") { Description = "Override number of GICv3 list registers (1..16)." };
        var recsOrder = new Option<int?>("--max-recs-order") { Description = "Override MAX_RECS_ORDER (max RECs = 2^order - 1)." };
        var vmidBits = new Option<int>("--vmid-bits") { Description = "VMID width: 8 or 16.", DefaultValueFactory = _ => 16 };
        var explain = new Option<bool>("--explain") { Description = "Annotate each result line with spec names (status, exit reason, decoded outputs)." };
        var strict = new Option<bool>("--strict") { Description = "Exit 1 if any line printed E or an error status its line did not expect ('=> ...')." };

        var command = new Command("rmm", "Drive the RMM as a host would: one command a line (smc, w64, r64, zero, dump, base, rsi, irq, rdump).\n\n" + Expectation.HelpText)
        {
            script, poolSize, poolBase, feat0, s2sz, lpa2, sve, sveVl, bps, wps, pmu, pmuCtrs, sha256, sha512, lrs, recsOrder, vmidBits, explain, strict,
        };
        var attestation = new AttestationOptions();
        attestation.AddTo(command);

        command.SetAction(parse =>
        {
            TextWriter err = System.Console.Error;
            if (!ScriptValues.TryParseSize(parse.GetValue(poolSize)!, out ulong size))
            {
                err.WriteLine($"ccasim rmm: --pool-size '{parse.GetValue(poolSize)}' is not a size");
                return 2;
            }

            if (!ScriptValues.TryParseSize(parse.GetValue(poolBase)!, out ulong basePa))
            {
                err.WriteLine($"ccasim rmm: --pool-base '{parse.GetValue(poolBase)}' is not an address");
                return 2;
            }

            if (!ScriptValues.TryParseNumber(parse.GetValue(feat0), out ulong featValue))
            {
                err.WriteLine($"ccasim rmm: --feature-register0 '{parse.GetValue(feat0)}' is not a number");
                return 2;
            }

            if (featValue >> 42 != 0)
            {
                err.WriteLine("ccasim rmm: --feature-register0 has bits set in [63:42], which must be zero");
                return 2;
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
                err.WriteLine($"ccasim rmm: {keyProblem}");
                return 2;
            }

            var config = new RmmConfig { Features = f, VmidBits = parse.GetValue(vmidBits), Attestation = identity };
            string? problem = FieldRangeProblem(f) ?? config.Validate();
            if (problem is not null)
            {
                err.WriteLine($"ccasim rmm: {problem}");
                return 2;
            }

            string? poolProblem = Platform.Memory.PhysicalMemory.Validate(basePa, size);
            if (poolProblem is not null)
            {
                err.WriteLine($"ccasim rmm: {poolProblem}");
                return 2;
            }

            var platform = new CcaPlatform(new PlatformOptions { MemoryBase = basePa, MemorySize = size });
            RealmManagementMonitor rmm = RealmManagementMonitor.Boot(platform.Monitor, config, platform.Interrupts);
            FileInfo? file = parse.GetValue(script);
            TextReader input;
            if (file is null || file.Name == "-")
            {
                input = System.Console.In;
            }
            else if (!file.Exists)
            {
                err.WriteLine($"ccasim rmm: script '{file}' does not exist");
                return 2;
            }
            else
            {
                input = new StreamReader(file.FullName, System.Text.Encoding.UTF8, false, 1 << 16);
            }

            using var output = new StreamWriter(System.Console.OpenStandardOutput(), bufferSize: 1 << 16) { AutoFlush = false };
            var console = new RmmConsole(platform, rmm, output, new RmmConsoleOptions { Explain = parse.GetValue(explain), Strict = parse.GetValue(strict) });
            using (input)
            {
                console.Run(input);
            }

            return StrictExit(parse.GetValue(strict), console, err);
        });
        return command;
    }

    /// <summary>--strict: exit 1 naming the first offending script line (Expectation.HelpText).</summary>
    private static int StrictExit(bool strict, RmmConsole console, TextWriter err)
    {
        if (!strict || console.FirstOffence is not { } first)
        {
            return 0;
        }

        err.WriteLine($"ccasim rmm: --strict: {console.Offences} unexpected result(s); first at script line {first.Line}: {first.What}");
        return 1;
    }

    /// <summary>Field overrides must fit their bit fields (rmm-1.0.md §4.4) before packing.</summary>
    private static string? FieldRangeProblem(FeatureRegister0 f) =>
        f.S2sz is < 0 or > 255 ? "--s2sz must fit 8 bits"
        : f.SveVl is < 0 or > 15 ? "--sve-vl must be 0..15"
        : f.NumBps is < 0 or > 63 ? "--num-bps must be 0..63"
        : f.NumWps is < 0 or > 63 ? "--num-wps must be 0..63"
        : f.PmuNumCtrs is < 0 or > 31 ? "--pmu-counters must be 0..31"
        : f.Gicv3NumLrs is < 1 or > 16 ? "--gic-lrs must be 1..16"
        : f.MaxRecsOrder is < 0 or > 15 ? "--max-recs-order must be 0..15"
        : null;
}
