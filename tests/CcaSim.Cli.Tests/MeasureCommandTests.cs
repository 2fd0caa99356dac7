using CcaSim.Cli.Tests.Commands;
using CcaSim.Vmm;

namespace CcaSim.Cli.Tests;

/// <summary>`ccasim measure` as a process: the predicted RIM equals the booted one, and verify accepts its reference values.</summary>
public class MeasureCommandTests
{
    private static string Hello => Path.Combine(FindRoot(), ".build", "guests", "hello.bin");

    [Theory]
    [InlineData(1, 16, null, "sha256", null)]
    [InlineData(2, 64, "console=ttyS0", "sha512", null)]
    [InlineData(1, 32, null, "sha512", "tenant-1")]
    [InlineData(2, 16, null, "sha256", "tenant-2")]
    public void Measure_PrintsTheRimTheRmmMeasuresWhenTheRealmBoots(int cpus, int memoryMiB, string? bootargs, string algorithm, string? rpv)
    {
        string[] args = ["measure", "-k", Hello, "-c", $"{cpus}", "-m", $"{memoryMiB}", "--measurement-algo", algorithm, .. bootargs is null ? Array.Empty<string>() : ["-p", bootargs], .. rpv is null ? Array.Empty<string>() : ["--realm-pv", rpv]];

        (int exit, string output, string error) = CcasimProcess.Run("", args);
        VmRunResult run = Boot(new VmOptions
        {
            Kernel = Hello,
            Realm = true,
            Cpus = cpus,
            MemoryMiB = memoryMiB,
            Params = bootargs,
            MeasurementAlgorithm = algorithm == "sha512" ? MeasurementAlgorithm.Sha512 : MeasurementAlgorithm.Sha256,
            RealmPersonalisationValue = rpv,
            MaxInstructions = 500_000_000,
        });
        byte[] expectedRpv = new byte[64];
        System.Text.Encoding.UTF8.GetBytes(rpv ?? "").CopyTo(expectedRpv, 0);
        string claim = algorithm == "sha512" ? "sha-512" : "sha-256";

        Assert.Equal(0, exit);
        Assert.Equal("", error);
        Assert.StartsWith(Line(run.Transcript, "RIM: ") + "\n", output, StringComparison.Ordinal);
        Assert.Equal(algorithm == "sha512" ? 128 : 64, Line(run.Transcript, "RIM: ").Length - "RIM: ".Length);
        Assert.Contains($"  hash algorithm (44236):            {claim}\n", output, StringComparison.Ordinal);
        Assert.Contains($"  personalization value (44235):     {Convert.ToHexStringLower(expectedRpv)}\n", output, StringComparison.Ordinal);
    }

    [Fact]
    public void MeasureJson_WithSha512AndAnRpv_IsAcceptedByVerifyForTheTokenCcasimRunWrites()
    {
        string dir = Directory.CreateTempSubdirectory("ccasim-measure-").FullName;
        string references = Path.Combine(dir, "hello.rv.json");
        string token = Path.Combine(dir, "hello.cbor");
        string[] realm = ["-k", Hello, "-c", "2", "-m", "32", "--measurement-algo", "sha512", "--realm-pv", "tenant-9"];
        (int exit, string json, string error) = CcasimProcess.Run("", ["measure", .. realm, "--json"]);
        File.WriteAllText(references, json);
        (int ran, _, string runError) = CcasimProcess.Run("", ["run", "--realm", .. realm, "--token-out", token, "--max-instructions", "500000000", "--quiet"]);

        (int verified, string report, string verifyError) = CcasimProcess.Run("", "verify", token, "--rim", references);

        Assert.Equal(0, exit);
        Assert.Equal("", error);
        Assert.True(ran == 0, runError);
        Assert.Contains("\"hash_algorithm\": \"sha-512\"", json, StringComparison.Ordinal);
        Assert.Contains($"\"personalization_value\": \"{Convert.ToHexStringLower("tenant-9"u8)}{new string('0', 112)}\"", json, StringComparison.Ordinal);
        Assert.True(verified == 0, report + verifyError);
        Assert.StartsWith("OK ", report, StringComparison.Ordinal);
    }

    [Fact]
    public void MeasureJson_WithAnotherRpv_IsRejectedByVerifyNamingThePersonalizationValue()
    {
        string dir = Directory.CreateTempSubdirectory("ccasim-measure-").FullName;
        string references = Path.Combine(dir, "other.rv.json");
        string token = Path.Combine(dir, "hello.cbor");
        File.WriteAllText(references, CcasimProcess.Run("", "measure", "-k", Hello, "-m", "16", "--realm-pv", "expected", "--json").Out);
        File.WriteAllBytes(token, Token(Boot(new VmOptions { Kernel = Hello, Realm = true, MemoryMiB = 16, RealmPersonalisationValue = "actual", MaxInstructions = 500_000_000 }).Transcript));

        (int verified, string report, _) = CcasimProcess.Run("", "verify", token, "--rim", references);

        Assert.Equal(1, verified);
        Assert.Contains("FAIL ExpectedPersonalizationValue", report, StringComparison.Ordinal);
        Assert.DoesNotContain("FAIL ExpectedInitialMeasurement", report, StringComparison.Ordinal);
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
    [InlineData("--measurement-algo sha512 --feature-register0 0x281fc104130", "ccasim measure: --measurement-algo sha512: the RMM does not offer it (RMI_FEATURES HASH_SHA_512 is 0)")]
    [InlineData("--realm-pv 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdefX", "ccasim measure: --realm-pv: the personalisation value is at most 64 bytes (this one is 65)")]
    [InlineData("--measurement-algo md5", "ccasim measure: --measurement-algo 'md5' is not sha256 or sha512")]
    [InlineData("-m 0", "ccasim measure: --mem 0: RAM must be between 1 MiB and 1 TiB")]
    [InlineData("--sve-vl 256", "ccasim measure: --sve-vl 256: the RMM offers realms no SVE")]
    [InlineData("--feature-register0 zz", "ccasim measure: --feature-register0 'zz': it is not a number")]
    public void Measure_WithOptionsTheRealmCannotHave_PrintsOneLineAndExits2(string options, string expected)
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
