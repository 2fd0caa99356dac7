using CcaSim.Cli.Tests.Commands;
using CcaSim.Vmm;

namespace CcaSim.Cli.Tests;

/// <summary>`ccasim measure` as a process: the predicted RIM equals the booted one, and verify accepts its reference values.</summary>
public class MeasureCommandTests
{
    private static string Hello => Path.Combine(FindRoot(), ".build", "guests", "hello.bin");

    [Theory]
    [InlineData(1, 16, null)]
    [InlineData(2, 64, "console=ttyS0")]
    public void Measure_PrintsTheRimTheRmmMeasuresWhenTheRealmBoots(int cpus, int memoryMiB, string? bootargs)
    {
        string[] args = ["measure", "-k", Hello, "-c", $"{cpus}", "-m", $"{memoryMiB}", .. bootargs is null ? Array.Empty<string>() : ["-p", bootargs]];

        (int exit, string output, string error) = CcasimProcess.Run("", args);
        VmRunResult run = Boot(new VmOptions { Kernel = Hello, Realm = true, Cpus = cpus, MemoryMiB = memoryMiB, Params = bootargs, MaxInstructions = 500_000_000 });

        Assert.Equal(0, exit);
        Assert.Equal("", error);
        Assert.StartsWith(Line(run.Transcript, "RIM: ") + "\n", output, StringComparison.Ordinal);
        Assert.Contains("  hash algorithm (44236):            sha-256\n", output, StringComparison.Ordinal);
    }

    [Fact]
    public void MeasureJson_IsAcceptedByVerifyRimForTheTokenOfTheSameBoot()
    {
        string dir = Directory.CreateTempSubdirectory("ccasim-measure-").FullName;
        string references = Path.Combine(dir, "hello.rv.json");
        string token = Path.Combine(dir, "hello.cbor");
        (int exit, string json, string error) = CcasimProcess.Run("", "measure", "-k", Hello, "-c", "2", "-m", "32", "--json");
        File.WriteAllText(references, json);
        File.WriteAllBytes(token, Token(Boot(new VmOptions { Kernel = Hello, Realm = true, Cpus = 2, MemoryMiB = 32, MaxInstructions = 500_000_000 }).Transcript));

        (int verified, string report, string verifyError) = CcasimProcess.Run("", "verify", token, "--rim", references);

        Assert.Equal(0, exit);
        Assert.Equal("", error);
        Assert.Contains("\"format\": \"ccasim-reference-values/1\"", json, StringComparison.Ordinal);
        Assert.True(verified == 0, report + verifyError);
        Assert.StartsWith("OK ", report, StringComparison.Ordinal);
    }

    [Fact]
    public void MeasureJson_OfAnotherRealm_IsRejectedByVerifyNamingTheRim()
    {
        string dir = Directory.CreateTempSubdirectory("ccasim-measure-").FullName;
        string references = Path.Combine(dir, "other.rv.json");
        string token = Path.Combine(dir, "hello.cbor");
        File.WriteAllText(references, CcasimProcess.Run("", "measure", "-k", Hello, "-c", "1", "-m", "32", "--json").Out);
        File.WriteAllBytes(token, Token(Boot(new VmOptions { Kernel = Hello, Realm = true, Cpus = 2, MemoryMiB = 32, MaxInstructions = 500_000_000 }).Transcript));

        (int verified, string report, _) = CcasimProcess.Run("", "verify", token, "--rim", references);

        Assert.Equal(1, verified);
        Assert.Contains("FAIL ExpectedInitialMeasurement", report, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--measurement-algo sha512", "ccasim measure: --measurement-algo sha512: the v12 KVM ABI creates every realm with SHA-256")]
    [InlineData("--realm-pv abc", "ccasim measure: --realm-pv: the v12 KVM ABI creates every realm with an all-zero personalisation value")]
    [InlineData("--measurement-algo md5", "ccasim measure: --measurement-algo 'md5' is not sha256 or sha512")]
    [InlineData("-m 0", "ccasim measure: --mem 0: RAM must be between 1 MiB and 1 TiB")]
    [InlineData("--sve-vl 256", "ccasim measure: --sve-vl 256: the RMM offers realms no SVE")]
    [InlineData("--feature-register0 zz", "ccasim measure: --feature-register0 'zz': it is not a number")]
    public void Measure_WithOptionsNoV12RealmHas_PrintsOneLineAndExits2(string options, string expected)
    {
        (int exit, string output, string error) = CcasimProcess.Run("", ["measure", "-k", Hello, .. options.Split(' ')]);

        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.StartsWith(expected, error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void Measure_OfAMissingOrTruncatedKernel_PrintsOneLineNamingTheFileAndExits2()
    {
        string truncated = Path.Combine(Directory.CreateTempSubdirectory("ccasim-measure-").FullName, "truncated.elf");
        File.WriteAllBytes(truncated, File.ReadAllBytes(Path.ChangeExtension(Hello, ".elf"))[..100]);

        foreach (string kernel in new[] { "/nonexistent/kernel.bin", truncated })
        {
            (int exit, string output, string error) = CcasimProcess.Run("", "measure", "-k", kernel);

            Assert.Equal(2, exit);
            Assert.Equal("", output);
            Assert.StartsWith($"ccasim measure: {kernel}", error, StringComparison.Ordinal);
            Assert.Single(error.TrimEnd('\n').Split('\n'));
        }
    }

    private static VmRunResult Boot(VmOptions options)
    {
        VmRunResult run = CcaSimMachine.Run(new MachineOptions { Vm = options, ConsoleOutput = null });
        Assert.True(run.Outcome == VmOutcome.PoweredOff && run.ExitCode == 0, $"{run.Outcome} {run.Message}\n{run.Transcript}");
        return run;
    }

    private static string Line(string transcript, string prefix) => Assert.Single(transcript.Split('\n'), l => l.StartsWith(prefix, StringComparison.Ordinal));

    /// <summary>The hello payload's token: its "TOKEN: hex" lines, 64 bytes each, in order.</summary>
    private static byte[] Token(string transcript) =>
        Convert.FromHexString(string.Concat(transcript.Split('\n').Where(l => l.StartsWith("TOKEN: ", StringComparison.Ordinal)).Select(l => l["TOKEN: ".Length..])));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CcaSim.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("the tests run outside a CcaSim checkout (no CcaSim.sln above " + AppContext.BaseDirectory + ")");
    }
}
