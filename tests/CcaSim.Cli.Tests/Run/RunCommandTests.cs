using System.CommandLine;
using CcaSim.Cli.Commands;
using CcaSim.Vmm;

namespace CcaSim.Cli.Tests.Run;

/// <summary>Issue 12 item 2, in process: <c>ccasim run</c>'s options, boots, exit codes and token extraction.</summary>
public sealed class RunCommandTests
{
    /// <summary>A budget far above any payload's needs, so a broken boot ends instead of spinning.</summary>
    private const ulong Budget = 200_000_000;

    public static TheoryData<string[], string> BadOptions => new()
    {
        { [], "--kernel" },
        { ["-k", "{hello}", "-c", "0"], "--cpus 0" },
        { ["-k", "{hello}", "-m", "0"], "--mem 0" },
        { ["-k", "{hello}", "-m", "lots"], "--mem 'lots' is not a number" },
        { ["-k", "{hello}", "--irqchip", "gicv2"], "--irqchip gicv2" },
        { ["-k", "{hello}", "--console", "virtio"], "--console virtio" },
        { ["-k", "{hello}", "--realm", "--measurement-algo", "md5"], "--measurement-algo 'md5' is not sha256 or sha512" },
        { ["-k", "{hello}", "--realm", "--realm-pv", new string('p', 65)], "--realm-pv: the personalisation value is at most 64 bytes (this one is 65)" },
        { ["-k", "{hello}", "--realm-pv", "abc"], "only a realm (--realm) has a measurement" },
        { ["-k", "{hello}", "--measurement-algo", "sha512"], "only a realm (--realm) has a measurement" },
        { ["-k", "{hello}", "--sve-vl", "100"], "--sve-vl 100" },
        { ["-k", "{hello}", "--pmu-counters", "3"], "--pmu-counters: only supported for realms" },
        { ["-k", "{hello}", "--max-instructions", "0"], "--max-instructions '0' is not a positive number" },
        { ["-k", "{hello}", "--timeout", "soon"], "--timeout 'soon' is not a positive number of seconds" },
        { ["-k", "/nonexistent/kernel.bin"], "--kernel image '/nonexistent/kernel.bin' does not exist" },
        { ["-k", "{hello}", "-i", "/nonexistent/initrd"], "--initrd image '/nonexistent/initrd' does not exist" },
        { ["-k", "/tmp"], "--kernel image '/tmp' is a directory" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void VmOptions_WhenAnOptionIsBad_NameTheOptionInOneLine(string[] args, string expected)
    {
        string? problem = ResolveProblem(args);

        Assert.NotNull(problem);
        Assert.Contains(expected, problem, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', problem);
    }

    [Fact]
    public void VmOptions_MeasurementAlgoAndRealmPv_MapOntoTheVm()
    {
        var command = new Command("run");
        var vm = new VmCommandOptions();
        vm.AddTo(command);
        ParseResult parse = command.Parse(["-k", GuestFiles.Bin("hello"), "--realm", "--measurement-algo", "sha512", "--realm-pv", "tenant-7"]);

        VmOptions? options = vm.Resolve(parse, out string? problem);

        Assert.Null(problem);
        Assert.NotNull(options);
        Assert.Equal((MeasurementAlgorithm.Sha512, "tenant-7"), (options.MeasurementAlgorithm, options.RealmPersonalisationValue));
        Assert.True(options.UsesPreV12RealmConfig);
    }

    [Fact]
    public void VmOptions_LkvmSpellings_MapOntoTheVm()
    {
        var command = new Command("run");
        var vm = new VmCommandOptions();
        vm.AddTo(command);
        ParseResult parse = command.Parse(["-k", GuestFiles.Bin("hello"), "-m", "128", "-c", "4", "--realm", "-p", "console=ttyS0", "--pmu-counters", "5", "--sve-max-vl", "256", "--max-instructions", "0x1000"]);

        VmOptions? options = vm.Resolve(parse, out string? problem);

        Assert.Null(problem);
        Assert.NotNull(options);
        Assert.Equal((128, 4, true, "console=ttyS0"), (options.MemoryMiB, options.Cpus, options.Realm, options.Params));
        Assert.Equal((true, 5, 256), (options.Pmu, options.PmuCounters, options.SveVectorLength));
        Assert.Equal(0x1000UL, options.MaxInstructions);
    }

    [Fact]
    public void Boot_HelloAsRealm_PowersOffWithStatusZeroAndPrintsItsRimAndToken()
    {
        VmRunResult result = Boot(new VmOptions { Kernel = GuestFiles.Bin("hello"), Realm = true, Cpus = 2, MaxInstructions = Budget });

        Assert.Equal(VmOutcome.PoweredOff, result.Outcome);
        Assert.Equal(0, RunCommand.ExitCodeOf(result));
        string[] lines = result.Transcript.Split('\n');
        Assert.Equal("Hello from a CcaSim guest", lines[0]);
        Assert.Equal("running in a realm", lines[1]);
        Assert.Contains(lines, l => l.StartsWith("RIM: ", StringComparison.Ordinal) && l.Length == 5 + 64);
        Assert.Null(GuestToken.Parse(result.Transcript, out byte[]? token));
        Assert.NotEmpty(token!);
    }

    [Fact]
    public void Boot_HelloAsNormalVm_SaysSoAndPrintsNoToken()
    {
        VmRunResult result = Boot(new VmOptions { Kernel = GuestFiles.Bin("hello"), MaxInstructions = Budget });

        Assert.Equal(0, RunCommand.ExitCodeOf(result));
        Assert.Equal("Hello from a CcaSim guest\nrunning in a normal VM\nEXIT: STATUS=0\n", result.Transcript);
        Assert.Contains("no attestation token", GuestToken.Parse(result.Transcript, out _), StringComparison.Ordinal);
    }

    [Fact]
    public void Boot_ExceptionsAsRealm_ExitsZero()
    {
        VmRunResult result = Boot(new VmOptions { Kernel = GuestFiles.Bin("exceptions"), Realm = true, MaxInstructions = Budget });

        Assert.Equal(VmOutcome.PoweredOff, result.Outcome);
        Assert.Equal(0, RunCommand.ExitCodeOf(result));
        Assert.EndsWith("EXIT: STATUS=0\n", result.Transcript, StringComparison.Ordinal);
        Assert.DoesNotContain("FAIL", result.Transcript, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Boot_RunawayGuest_StopsAtTheInstructionBudgetWithTheLimitExitCode(bool realm)
    {
        string spin = GuestFiles.Write("spin.bin", GuestFiles.Spin);

        VmRunResult result = Boot(new VmOptions { Kernel = spin, Realm = realm, MaxInstructions = 100_000 });

        Assert.Equal(VmOutcome.InstructionLimit, result.Outcome);
        Assert.Equal(ExitCodes.RunLimit, RunCommand.ExitCodeOf(result));
        Assert.Contains("--max-instructions", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Boot_TruncatedElf_FailsWithOneLineNamingTheFile()
    {
        byte[] elf = File.ReadAllBytes(GuestFiles.Elf("hello"));
        string truncated = GuestFiles.Write("truncated.elf", elf[..100]);

        RunCommand.Boot(new MachineOptions { Vm = new VmOptions { Kernel = truncated }, ConsoleOutput = null }, out string? failure);

        Assert.NotNull(failure);
        Assert.StartsWith(truncated + ": ", failure, StringComparison.Ordinal);
        Assert.Contains("ELF", failure, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', failure);
    }

    [Fact]
    public void Boot_ImageThatDoesNotFitOneMiB_FailsNamingMem()
    {
        RunCommand.Boot(new MachineOptions { Vm = new VmOptions { Kernel = GuestFiles.Bin("hello"), MemoryMiB = 1 }, ConsoleOutput = null }, out string? failure);

        Assert.NotNull(failure);
        Assert.Contains("--mem", failure, StringComparison.Ordinal);
    }

    public static TheoryData<VmOutcome, int, int> Outcomes => new()
    {
        { VmOutcome.PoweredOff, 0, 0 },
        { VmOutcome.PoweredOff, 7, 7 },
        { VmOutcome.Reset, 3, 3 },
        { VmOutcome.InstructionLimit, 1, ExitCodes.RunLimit },
        { VmOutcome.Timeout, 1, ExitCodes.RunLimit },
        { VmOutcome.Crashed, 1, ExitCodes.VmFailed },
        { VmOutcome.Failed, 1, ExitCodes.VmFailed },
    };

    [Theory]
    [MemberData(nameof(Outcomes))]
    public void ExitCodeOf_IsTheGuestsStatusOnPowerOffElseADocumentedCode(VmOutcome outcome, int guest, int expected) =>
        Assert.Equal(expected, RunCommand.ExitCodeOf(new VmRunResult(outcome, guest, "", null, 0)));

    [Theory]
    [InlineData("TOKEN: d901\nTOKEN: 8f\nTOKEN-END 3\n", "d9018f")]
    [InlineData("noise\nTOKEN: 00ff\n", "00ff")]
    public void GuestToken_JoinsTheHexLines(string transcript, string hex)
    {
        Assert.Null(GuestToken.Parse(transcript, out byte[]? token));
        Assert.Equal(hex, Convert.ToHexStringLower(token!));
    }

    [Theory]
    [InlineData("EXIT: STATUS=0\n", "no attestation token")]
    [InlineData("TOKEN: zz\n", "not hex")]
    [InlineData("TOKEN: 0011\nTOKEN-END 3\n", "TOKEN-END line says 3")]
    public void GuestToken_WithoutAWellFormedToken_SaysWhy(string transcript, string expected)
    {
        Assert.Contains(expected, GuestToken.Parse(transcript, out byte[]? token), StringComparison.Ordinal);
        Assert.Null(token);
    }

    [Theory]
    [InlineData(ExitCodes.VmNotBuilt)]
    [InlineData(ExitCodes.NoToken)]
    [InlineData(ExitCodes.RunLimit)]
    [InlineData(ExitCodes.VmFailed)]
    public void Readme_ExitCodeTable_DocumentsEveryRunCode(int code)
    {
        string readme = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "README.md"));

        Assert.Contains($"\n| {code} | `run", readme, StringComparison.Ordinal);
        Assert.Contains($" {code} run", ExitCodes.HelpText, StringComparison.Ordinal);
    }

    [Fact]
    public void Readme_RunExample_ShowsTheRimHelloBootsWithAsATwoVcpuRealm()
    {
        string readme = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "README.md"));
        int section = readme.IndexOf("$ ./ccasim run -k .build/guests/hello.bin --realm -c 2", StringComparison.Ordinal);
        VmRunResult result = Boot(new VmOptions { Kernel = GuestFiles.Bin("hello"), Realm = true, Cpus = 2, MaxInstructions = Budget });
        string rim = result.Transcript.Split('\n').Single(l => l.StartsWith("RIM: ", StringComparison.Ordinal));

        Assert.True(section >= 0);
        Assert.True(readme.IndexOf(rim + "\n", section, StringComparison.Ordinal) > section);
        Assert.Contains("--rim " + rim[5..] + " hello.cbor", readme, StringComparison.Ordinal);
    }

    private static VmRunResult Boot(VmOptions vm)
    {
        VmRunResult result = RunCommand.Boot(new MachineOptions { Vm = vm, ConsoleOutput = null }, out string? failure);
        Assert.Null(failure);
        return result;
    }

    private static string? ResolveProblem(string[] args)
    {
        string[] resolved = [.. args.Select(a => a == "{hello}" ? GuestFiles.Bin("hello") : a)];
        var command = new Command("run");
        var vm = new VmCommandOptions();
        vm.AddTo(command);
        ParseResult parse = command.Parse(resolved);
        if (parse.Errors.Count > 0)
        {
            return string.Join("; ", parse.Errors.Select(e => e.Message));
        }

        return vm.Resolve(parse, out string? problem) is null ? problem : null;
    }
}
