using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics;
using System.Globalization;
using CcaSim.Attestation;
using CcaSim.Cli.Console;
using CcaSim.Rmm;
using CcaSim.Vmm;

namespace CcaSim.Cli.Commands;

/// <summary>
/// <c>ccasim run -k IMAGE [--realm] ...</c>: boots a VM as <c>lkvm run</c> does (kvm-realm-abi.md §3.1), streaming its
/// UART to standard output and exiting with the guest's status. CcaSim's own status lines go to standard error so
/// that standard output is exactly what the guest printed.
/// </summary>
internal static class RunCommand
{
    public static Command Create() => Create(StandardStreams.OpenOutput);

    /// <summary>
    /// The command with the guest's standard output taken from <paramref name="openOutput"/>: in process, the payload
    /// boot tests run exactly what a user types and read the UART from a stream of their own (the command disposes it).
    /// </summary>
    internal static Command Create(Func<Stream> openOutput)
    {
        var vm = new VmCommandOptions();
        var platform = new PlatformCommandOptions();
        var tokenOut = new Option<string?>("--token-out") { Description = "Write the attestation token the guest printed (its \"TOKEN: hex\" lines) to FILE as binary CBOR, for `ccasim verify`." };
        tokenOut.HelpName = "FILE";
        var trace = new Option<string?>("--trace") { Description = "Write the run as Chrome trace-event JSON (opens in Perfetto): a track per vCPU with each KVM_RUN, REC run and exit (reason, ESR, IPA, instructions), RSI/PSCI calls, interrupts, timer events, MMIO; RMI calls on a host track; on virtual time.", HelpName = "FILE" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No status lines of CcaSim's own on standard error (the guest's output still goes to standard output; errors are still reported)." };
        var command = new Command("run", "Boot a VM (a realm with --realm) as `lkvm run` does; the UART streams to standard output and the exit code is the guest's.")
        {
            tokenOut, trace, quiet,
        };
        vm.AddTo(command);
        platform.AddTo(command);
        command.SetAction(parse =>
        {
            const string Who = "ccasim run";
            if (vm.Resolve(parse, out string? problem) is not VmOptions options)
            {
                return Usage(Who, problem!);
            }

            if (platform.Resolve(parse, options, out problem) is not { } resolved)
            {
                return Usage(Who, problem!);
            }

            (RmmConfig config, ulong? poolSize) = resolved;

            string? tokenPath = parse.GetValue(tokenOut);
            if (tokenPath is not null && (tokenPath.Length == 0 || Directory.Exists(tokenPath)))
            {
                return Usage(Who, tokenPath.Length == 0 ? "--token-out: the file name is empty" : $"--token-out '{tokenPath}' is a directory, not a file");
            }

            using TraceWriter? traceWriter = parse.GetValue(trace) is string tracePath ? TraceWriter.TryCreate(tracePath, out problem) : null;
            if (problem is not null)
            {
                return Usage(Who, problem);
            }

            bool isQuiet = parse.GetValue(quiet);
            BufferedStream output;
            try
            {
                output = new BufferedStream(openOutput(), 1 << 14);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Program.OutputFailed(Who, e);
            }

            try
            {
                var machineOptions = new MachineOptions { Vm = options, Rmm = config, PlatformMemorySize = poolSize, ConsoleOutput = output, Events = traceWriter is null ? null : traceWriter.Add, Trace = traceWriter };
                if (!isQuiet)
                {
                    Status(Who, Describe(options));
                }

                var wall = Stopwatch.StartNew();
                VmRunResult result;
                try
                {
                    long imageBytes = PopulateProgress.ImageBytes(options);
                    bool progress = PopulateProgress.ShouldShow(isQuiet, !System.Console.IsErrorRedirected, options, imageBytes);
                    result = Boot(machineOptions, out string? failure, progress ? imageBytes : null);
                    if (failure is not null)
                    {
                        Program.ReportError($"{Who}: {failure}");
                        return ExitCodes.VmNotBuilt;
                    }

                    output.Flush();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    return Program.OutputFailed(Who, e);
                }

                wall.Stop();
                if (!isQuiet)
                {
                    Status(Who, Summary(result, wall.Elapsed));
                }

                int code = ExitCodeOf(result);
                if (traceWriter is not null && !traceWriter.Complete())
                {
                    Program.ReportError($"{Who}: {traceWriter.Problem}");
                    code = code == 0 ? ExitCodes.Io : code;
                }

                if (code is ExitCodes.RunLimit or ExitCodes.VmFailed && result.Message is not null)
                {
                    Program.ReportError($"{Who}: {result.Message}");
                }

                if (tokenPath is not null)
                {
                    int? tokenFailure = WriteToken(Who, result.Transcript, tokenPath, isQuiet);
                    if (tokenFailure is int failed && code == 0)
                    {
                        return failed;
                    }
                }

                return code;
            }
            finally
            {
                // After a failed write the buffer still holds the bytes, and disposing would try them again; that
                // failure was reported once already (OutputFailed), so it must not surface a second time.
                try
                {
                    output.Dispose();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                }
            }
        });
        return command;
    }

    /// <summary>
    /// Creates the machine (under a progress display on standard error of <paramref name="progressTotal"/> bytes, if
    /// given) and runs it; a configuration or image the VMM refuses is <paramref name="failure"/>.
    /// </summary>
    internal static VmRunResult Boot(MachineOptions options, out string? failure, long? progressTotal = null)
    {
        failure = null;
        CcaSimMachine machine;
        try
        {
            machine = progressTotal is long total
                ? PopulateProgress.Show(PopulateProgress.StandardError(), total, step => CcaSimMachine.Create(options with { Events = options.Events + step }))
                : CcaSimMachine.Create(options);
        }
        catch (VmmException e)
        {
            failure = OutputFiles.OneLine(e.Message);
            return new VmRunResult(VmOutcome.Failed, 1, "", failure, 0);
        }

        using (machine)
        {
            try
            {
                return machine.Run();
            }
            catch (VmmException e)
            {
                // A refusal while running (e.g. an ioctl the VMM issues on a guest's request) ends the run, not the process.
                return new VmRunResult(VmOutcome.Failed, 1, machine.Vm.Uart.Transcript, OutputFiles.OneLine(e.Message), 0);
            }
        }
    }

    /// <summary>The process's exit code for a run: the guest's own on power-off or reset, else a documented CcaSim code.</summary>
    internal static int ExitCodeOf(VmRunResult result) => result.Outcome switch
    {
        VmOutcome.PoweredOff or VmOutcome.Reset => result.ExitCode,
        VmOutcome.InstructionLimit or VmOutcome.Timeout => ExitCodes.RunLimit,
        _ => ExitCodes.VmFailed,
    };

    /// <summary>Virtual time in milliseconds (the system counter runs at <see cref="Platform.Execution.VirtualClock.CounterFrequency"/> Hz).</summary>
    internal static double VirtualMilliseconds(ulong ticks) => ticks * 1000.0 / Platform.Execution.VirtualClock.CounterFrequency;

    private static string Describe(VmOptions o) =>
        string.Create(CultureInfo.InvariantCulture, $"booting {(o.Realm ? "a realm" : "a normal VM")}: {o.Kernel}, {o.Cpus} vCPU{(o.Cpus == 1 ? "" : "s")}, {o.MemoryMiB} MiB");

    private static string Summary(VmRunResult r, TimeSpan wall)
    {
        string how = r.Outcome switch
        {
            VmOutcome.PoweredOff => $"the guest powered off (exit status {r.ExitCode})",
            VmOutcome.Reset => $"the guest asked for a reset (exit status {r.ExitCode}); CcaSim does not reboot",
            VmOutcome.InstructionLimit => "stopped at the --max-instructions budget",
            VmOutcome.Timeout => "stopped at the --timeout",
            VmOutcome.Crashed => "the guest reported a crash",
            _ => "the VM failed",
        };
        return string.Create(CultureInfo.InvariantCulture, $"{how}; virtual time {VirtualMilliseconds(r.VirtualTime):0.###} ms, wall time {wall.TotalMilliseconds:0.#} ms");
    }

    /// <summary>--token-out: null when written; else the exit code of why not (one line already reported).</summary>
    private static int? WriteToken(string who, string transcript, string path, bool quiet)
    {
        if (GuestToken.Parse(transcript, out byte[]? token) is string problem)
        {
            Program.ReportError($"{who}: --token-out: {problem}; '{path}' not written");
            return ExitCodes.NoToken;
        }

        if (OutputFiles.TryWrite(path, token!) is string writeProblem)
        {
            Program.ReportError($"{who}: --token-out: {writeProblem}");
            return ExitCodes.Io;
        }

        if (!quiet)
        {
            Status(who, $"wrote the {token!.Length}-byte attestation token to {path}");
        }

        return null;
    }

    private static void Status(string who, string line) => Program.ReportError($"{who}: {line}");

    private static int Usage(string who, string problem)
    {
        Program.ReportError($"{who}: {problem} (see '{who} --help')");
        return ExitCodes.Usage;
    }
}

/// <summary>
/// The options of <c>lkvm run</c> that CcaSim models (kvm-realm-abi.md §3.1), bound to a <see cref="VmOptions"/>: the
/// same for <c>run</c> and <c>measure</c>, which measures (so implies --realm), reads no file itself and has no run limits.
/// </summary>
internal sealed class VmCommandOptions
{
    private readonly bool _forMeasure;

    private readonly Option<string> _kernel = new("--kernel", "-k") { Description = "Kernel image: an arm64 Image, an AArch64 ELF, or a flat binary loaded at RAM + 0x80000.", Required = true };
    private readonly Option<string?> _initrd = new("--initrd", "-i") { Description = "Initial RAM disk, placed below the device tree." };
    private readonly Option<string?> _params = new("--params", "-p") { Description = "Kernel command line (/chosen/bootargs)." };
    private readonly Option<int> _mem = CliOptions.Int("--mem", $"RAM in MiB.", VmOptions.DefaultMemoryMiB);
    private readonly Option<int> _cpus = CliOptions.Int("--cpus", "Number of vCPUs.", 1);
    private readonly Option<bool> _realm = new("--realm") { Description = "Run the VM as a realm: guest_memfd-backed RAM, populated and measured by the RMM." };
    private readonly Option<string> _algo = new("--measurement-algo") { Description = "Realm measurement algorithm: sha256 or sha512 (sha512 uses the pre-v12 CONFIG_REALM compatibility option of the KVM model; v12 itself creates SHA-256 realms only).", DefaultValueFactory = _ => "sha256" };
    private readonly Option<string?> _rpv = new("--realm-pv") { Description = "Realm personalisation value, as kvmtool takes it (the string's bytes, at most 64, zero padded); set through the pre-v12 CONFIG_REALM compatibility option, as v12 itself cannot." };
    private readonly Option<int?> _sveVl = CliOptions.Int("--sve-vl", "SVE vector length in bits (a multiple of 128); the host needs SVE (--host-sve true).");
    private readonly Option<bool> _pmu = new("--pmu") { Description = "Give every vCPU a PMUv3 (and describe it in the device tree)." };
    private readonly Option<int?> _pmuCounters = CliOptions.Int("--pmu-counters", "Number of PMU event counters of a realm (PMCR_EL0.N); implies --pmu.");
    private readonly Option<string> _console = new("--console") { Description = "Console device: serial (the 8250 UART, the only one modelled).", DefaultValueFactory = _ => "serial" };
    private readonly Option<string> _irqchip = new("--irqchip") { Description = "Interrupt controller: gicv3 (the only one modelled).", DefaultValueFactory = _ => "gicv3" };
    private readonly Option<ulong?> _maxInstructions = new("--max-instructions") { Description = "Stop a guest still running after N instructions of virtual time (deterministic).", CustomParser = ParseCount };
    private readonly Option<double?> _timeout = new("--timeout") { Description = "Stop a guest still running after SECONDS of wall time (not deterministic).", CustomParser = ParseSeconds };

    public VmCommandOptions(bool forMeasure = false)
    {
        _forMeasure = forMeasure;
        if (forMeasure)
        {
            _realm.Description = "Accepted for symmetry with `ccasim run`: only a realm has a measurement, so it is implied.";
            _sveVl.Description = "SVE vector length in bits (a multiple of 128); the RMM must offer SVE (--feature-register0).";
            _pmu.Description = "Give every vCPU a PMUv3 (the realm's PMU flag and counter count are measured).";
        }

        _mem.Aliases.Add("-m");
        _cpus.Aliases.Add("-c");
        _sveVl.Aliases.Add("--sve-max-vl");
        (_kernel.HelpName, _initrd.HelpName, _params.HelpName, _mem.HelpName, _cpus.HelpName) = ("IMAGE", "FILE", "CMDLINE", "MiB", "N");
        (_sveVl.HelpName, _pmuCounters.HelpName, _maxInstructions.HelpName, _timeout.HelpName, _rpv.HelpName) = ("BITS", "N", "N", "SECONDS", "STRING");
    }

    public void AddTo(Command command)
    {
        foreach (Option option in new Option[] { _kernel, _initrd, _params, _mem, _cpus, _realm, _algo, _rpv, _sveVl, _pmu, _pmuCounters, _console, _irqchip })
        {
            command.Options.Add(option);
        }

        if (!_forMeasure)
        {
            command.Options.Add(_maxInstructions);
            command.Options.Add(_timeout);
        }
    }

    /// <summary>The VM the options describe, or null with one line naming the bad option or file.</summary>
    public VmOptions? Resolve(ParseResult parse, out string? problem)
    {
        string algo = parse.GetValue(_algo)!;
        MeasurementAlgorithm? algorithm = algo switch
        {
            "sha256" => MeasurementAlgorithm.Sha256,
            "sha512" => MeasurementAlgorithm.Sha512,
            _ => null,
        };
        if (algorithm is null)
        {
            problem = $"--measurement-algo '{algo}' is not sha256 or sha512";
            return null;
        }

        var options = new VmOptions
        {
            Kernel = parse.GetValue(_kernel),
            Initrd = parse.GetValue(_initrd),
            Params = parse.GetValue(_params),
            MemoryMiB = parse.GetValue(_mem),
            Cpus = parse.GetValue(_cpus),
            Realm = _forMeasure || parse.GetValue(_realm),
            MeasurementAlgorithm = algorithm.Value,
            RealmPersonalisationValue = parse.GetValue(_rpv),
            SveVectorLength = parse.GetValue(_sveVl),
            Pmu = parse.GetValue(_pmu) || parse.GetValue(_pmuCounters) is not null,
            PmuCounters = parse.GetValue(_pmuCounters),
            Console = parse.GetValue(_console)!,
            Irqchip = parse.GetValue(_irqchip)!,
            MaxInstructions = _forMeasure ? null : parse.GetValue(_maxInstructions),
            Timeout = !_forMeasure && parse.GetValue(_timeout) is double seconds ? TimeSpan.FromSeconds(seconds) : null,
        };
        problem = options.Validate();
        if (problem is not null || _forMeasure)
        {
            // measure leaves the images to RimCalculator, which names the file in its one line.
            return problem is null ? options : null;
        }

        // Files are checked here, so that a missing one is a usage error naming the option; what is inside them is
        // the VMM's to judge (a VmmException while building the VM).
        problem = Readable(options.Kernel!, "--kernel") ?? (options.Initrd is string initrd ? Readable(initrd, "--initrd") : null);
        return problem is null ? options : null;
    }

    private static string? Readable(string path, string option)
    {
        string? problem = InputFiles.TryOpen(path, $"{option} image", out FileStream? stream);
        stream?.Dispose();
        return problem;
    }

    private static ulong? ParseCount(ArgumentResult r)
    {
        string value = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
        if (ScriptValues.TryParseNumber(value, out ulong n) && n > 0 && !value.StartsWith('-'))
        {
            return n;
        }

        r.AddError($"--max-instructions '{value}' is not a positive number");
        return null;
    }

    private static double? ParseSeconds(ArgumentResult r)
    {
        string value = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
        if (double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double s) && s > 0 && s <= TimeSpan.MaxValue.TotalSeconds / 2)
        {
            return s;
        }

        r.AddError($"--timeout '{value}' is not a positive number of seconds");
        return null;
    }
}

/// <summary>
/// The platform options of <c>ccasim rmm</c> that apply to a booted VM: the simulated memory, the RMM's feature
/// register 0 (host SVE and PMU renamed --host-*, since --sve-vl and --pmu name the VM's), the VMID width and the
/// attestation identity.
/// </summary>
internal sealed class PlatformCommandOptions
{
    private readonly Option<string?> _poolSize = new("--pool-size") { Description = "Physical memory of the simulated host (bytes, or with K/M/G/T). Default: twice the VM's RAM plus 256M, at least 512M." };
    private readonly Option<string> _feat0 = new("--feature-register0") { Description = "RMI feature register 0 as one value.", DefaultValueFactory = _ => $"0x{FeatureRegister0.ReferenceHostBuildValue:x}" };
    private readonly Option<int?> _s2sz = CliOptions.Int("--s2sz", "Override S2SZ (maximum IPA width).");
    private readonly Option<Toggle?> _lpa2 = CliOptions.Bool("--lpa2", "Override LPA2 support.");
    private readonly Option<Toggle?> _sve = CliOptions.Bool("--host-sve", "Override the host's SVE support (feature register 0 SVE_EN).");
    private readonly Option<int?> _sveVl = CliOptions.Int("--host-sve-vl", "Override the host's maximum SVE vector length (VQ-1).");
    private readonly Option<Toggle?> _pmu = CliOptions.Bool("--host-pmu", "Override the host's PMU support.");
    private readonly Option<int?> _pmuCtrs = CliOptions.Int("--host-pmu-counters", "Override the host's number of PMU event counters.");
    private readonly Option<int?> _lrs = CliOptions.Int("--gic-lrs", "Override number of GICv3 list registers (1..16).");
    private readonly Option<int?> _recsOrder = CliOptions.Int("--max-recs-order", "Override MAX_RECS_ORDER (max RECs = 2^order - 1).");
    private readonly Option<int> _vmidBits = CliOptions.Int("--vmid-bits", "VMID width: 8 or 16.", 16);
    private readonly AttestationOptions _attestation = new();

    public void AddTo(Command command)
    {
        foreach (Option option in new Option[] { _poolSize, _feat0, _s2sz, _lpa2, _sve, _sveVl, _pmu, _pmuCtrs, _lrs, _recsOrder, _vmidBits })
        {
            command.Options.Add(option);
        }

        _attestation.AddTo(command);
    }

    /// <summary>The RMM configuration and platform memory size, or null with one line naming the bad option.</summary>
    public (RmmConfig Config, ulong? PoolSize)? Resolve(ParseResult parse, VmOptions vm, out string? problem)
    {
        problem = null;
        ulong? pool = null;
        if (parse.GetValue(_poolSize) is string sizeText)
        {
            if (!ScriptValues.TryParseSize(sizeText, out ulong size))
            {
                problem = $"--pool-size '{sizeText}' is not a size";
                return null;
            }

            if (size < vm.RamSize)
            {
                problem = $"--pool-size {sizeText} is smaller than the VM's RAM ({vm.MemoryMiB} MiB)";
                return null;
            }

            pool = size;
        }

        if (!ScriptValues.TryParseNumber(parse.GetValue(_feat0), out ulong value) || value >> 42 != 0)
        {
            problem = $"--feature-register0 '{parse.GetValue(_feat0)}' is not a number with bits [63:42] zero";
            return null;
        }

        FeatureRegister0 f = FeatureRegister0.Unpack(value);
        f = f with
        {
            S2sz = parse.GetValue(_s2sz) ?? f.S2sz,
            Lpa2 = parse.GetValue(_lpa2) ?? f.Lpa2,
            SveEnabled = parse.GetValue(_sve) ?? f.SveEnabled,
            SveVl = parse.GetValue(_sveVl) ?? f.SveVl,
            PmuEnabled = parse.GetValue(_pmu) ?? f.PmuEnabled,
            PmuNumCtrs = parse.GetValue(_pmuCtrs) ?? f.PmuNumCtrs,
            Gicv3NumLrs = parse.GetValue(_lrs) ?? f.Gicv3NumLrs,
            MaxRecsOrder = parse.GetValue(_recsOrder) ?? f.MaxRecsOrder,
        };

        // Field overrides must fit their bit fields (rmm-1.0.md §4.4) before packing.
        problem = f.S2sz is < 0 or > 255 ? "--s2sz must fit 8 bits"
            : f.SveVl is < 0 or > 15 ? "--host-sve-vl must be 0..15"
            : f.PmuNumCtrs is < 0 or > 31 ? "--host-pmu-counters must be 0..31"
            : f.Gicv3NumLrs is < 1 or > 16 ? "--gic-lrs must be 1..16"
            : f.MaxRecsOrder is < 1 or > 15 ? "--max-recs-order must be 1..15"
            : null;
        if (problem is not null)
        {
            return null;
        }

        PlatformDescription? identity = _attestation.Resolve(parse, out problem);
        if (identity is null)
        {
            return null;
        }

        var config = new RmmConfig { Features = f, VmidBits = parse.GetValue(_vmidBits), Attestation = identity };
        problem = config.Validate();
        return problem is null ? (config, pool) : null;
    }
}

/// <summary>The attestation token a payload prints: "TOKEN: &lt;hex&gt;" lines and a closing "TOKEN-END &lt;length&gt;".</summary>
internal static class GuestToken
{
    /// <summary>Joins the token lines of <paramref name="transcript"/>; null, or one line saying why there is no token.</summary>
    public static string? Parse(string transcript, out byte[]? token)
    {
        token = null;
        var hex = new System.Text.StringBuilder();
        int? declared = null;
        foreach (string raw in transcript.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            if (line.StartsWith("TOKEN: ", StringComparison.Ordinal))
            {
                hex.Append(line.AsSpan(7).Trim());
            }
            else if (line.StartsWith("TOKEN-END ", StringComparison.Ordinal)
                && int.TryParse(line.AsSpan(10).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int length))
            {
                declared = length;
            }
        }

        if (hex.Length == 0)
        {
            return "the guest printed no attestation token (no \"TOKEN:\" lines)";
        }

        try
        {
            token = Convert.FromHexString(hex.ToString());
        }
        catch (FormatException)
        {
            return "the guest's \"TOKEN:\" lines are not hex";
        }

        if (declared is int n && n != token.Length)
        {
            token = null;
            return $"the guest's token lines hold {hex.Length / 2} bytes but its TOKEN-END line says {n}";
        }

        return null;
    }
}
