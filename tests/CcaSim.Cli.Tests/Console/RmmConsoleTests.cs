using System.Buffers.Binary;
using CcaSim.Attestation;
using CcaSim.Cli.Console;
using CcaSim.Platform;
using CcaSim.Platform.Memory;
using CcaSim.Rmm;

namespace CcaSim.Cli.Tests.Console;

public sealed class RmmConsoleTests
{
    /// <summary>The worked example of issue 2: the reference RMM's output, addresses written as granules.</summary>
    private static readonly string[] s_workedExampleExpected =
    [
        "B g0",
        "R 0 10000 10000 0 0",
        "R 0 283fc104130 0 0 0",
        "R 0 0 0 0 0", "R 0 0 0 0 0", "R 0 0 0 0 0", "R 0 0 0 0 0", "R 0 0 0 0 0", "R 0 0 0 0 0", "R 0 0 0 0 0",
        "R 0 0 0 0 0",
        "R 0 0 0 0 0",
        "R 0 0 0 0 0",
        "R 1 0 0 0 0",
        "R 0 10 0 0 0",
        "R 0 0 0 0 0",
        "R 0 0 0 0 0",
        "R 104 0 0 0 0",
        "R 0 0 0 0 0",
        "R 0 3 0 0 0",
        "R 0 3000 0 0 0",
        "R 0 3 0 0 1",
        "R 0 0 0 0 0",
        "R 0 3 1 g30 1",
        "R 0 0 0 0 0",
        "R 304 0 0 0 0",
        "R 0 0 0 0 0",
    ];

    [Fact]
    public void WorkedExample_ReproducesReferenceOutputLineForLine()
    {
        (string output, RmmConsole console) = Run(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "examples", "worked-example.rmm")));
        ulong g0 = console.Platform.Memory.Base;
        string[] expected = s_workedExampleExpected
            .Select(l => l.Replace("g30", $"{g0 + (30 * 0x1000):x}", StringComparison.Ordinal).Replace("g0", $"{g0:x}", StringComparison.Ordinal))
            .ToArray();

        Assert.Equal(expected, Lines(output));
        Assert.Equal(0, console.Errors);
    }

    /// <summary>
    /// The realm-side tour of the README: RSI and PSCI calls, a host call, a RIPAS change, and a token whose signing
    /// an IRQ interrupts. The transcript is deterministic (token bytes go to a file), and the token verifies.
    /// </summary>
    [Fact]
    public void RealmRsiExample_ReproducesItsTranscript_AndItsTokenVerifies()
    {
        string tokenFile = Path.Combine(Path.GetTempPath(), $"ccasim-token-{Guid.NewGuid():n}.cbor");
        string script = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "examples", "realm-rsi.rmm"))
            .Replace("/tmp/realm-token.cbor", tokenFile, StringComparison.Ordinal);
        try
        {
            (string output, RmmConsole console) = Run(script);
            string[] lines = Lines(output);

            Assert.Equal(File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "examples", "realm-rsi.out")), lines);
            Assert.Equal(0, console.Errors);
            byte[] rem1 = RegistersAsBytes(lines.First(l => l.StartsWith("RSI 0 cf14e5f7", StringComparison.Ordinal)));
            byte[] rim = RegistersAsBytes(lines[Array.FindIndex(lines, l => l.StartsWith("RSI 0 cf14e5f7", StringComparison.Ordinal)) + 1]);
            byte[] challenge = new byte[64];
            for (int i = 0; i < 8; i++)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(challenge.AsSpan(8 * i), 0x1111UL * (ulong)(i + 1));
            }

            VerificationResult result = CcaTokenVerifier.VerifyWithPem(
                File.ReadAllBytes(tokenFile),
                PlatformDescription.Default.ExportPlatformPublicKeyPem(),
                new VerificationOptions { Challenge = challenge, InitialMeasurement = rim, ExtensibleMeasurements = [rem1, new byte[32], new byte[32], new byte[32]], RequireRel0 = true });
            Assert.True(result.IsValid, result.ToString());
        }
        finally
        {
            File.Delete(tokenFile);
        }
    }

    [Fact]
    public void Run_IgnoresBlankAndCommentLines()
    {
        (string output, _) = Run("\n   \n# smc RMI_VERSION 0x10000\n\t# indented comment\nbase\n");

        Assert.Equal(["B 80000000"], Lines(output));
    }

    [Theory]
    [InlineData("frobnicate 1 2", "E unknown frobnicate")]
    [InlineData("SMC 0xC4000150", "E unknown SMC")]
    [InlineData("smc", "E arity smc")]
    [InlineData("smc RMI_NOT_A_COMMAND", "E badarg RMI_NOT_A_COMMAND")]
    [InlineData("smc 0xC4000151 g", "E badarg g")]
    [InlineData("smc 0xC4000151 0xzz", "E badarg 0xzz")]
    [InlineData("w64 g1", "E arity w64")]
    [InlineData("r64 g1 g2", "E arity r64")]
    [InlineData("rsi RSI_NOT_A_CALL", "E badarg RSI_NOT_A_CALL")]
    [InlineData("rsi RSI_VERSION 1 2 3 4 5 6 7 8 9 10 11", "E arity rsi")]
    [InlineData("irq 2", "E badarg 2")]
    [InlineData("rdump g0 0 8", "E notrd g0")]
    public void Run_ReportsBadLinesAndGoesOn(string line, string expected)
    {
        (string output, RmmConsole console) = Run(line + "\nbase\n");

        Assert.Equal([expected, "B 80000000"], Lines(output));
        Assert.Equal(1, console.Errors);
    }

    [Theory]
    [InlineData("smc RMI_VERSION 0x10000")]
    [InlineData("smc 0xC4000150 65536")]
    [InlineData("smc 3288334672 0x10000")]
    [InlineData("smc 0xC4010150 0x10000")]
    public void Smc_AcceptsSpecNamesHexDecimalAndSveHint(string line)
    {
        (string output, _) = Run(line);

        Assert.Equal(["R 0 10000 10000 0 0"], Lines(output));
    }

    [Fact]
    public void Smc_WithUnknownFunctionId_PrintsSmcUnknown()
    {
        (string output, _) = Run("smc 0xC4000156\nsmc 0x84000000");

        Assert.Equal(["R ffffffffffffffff 0 0 0 0", "R ffffffffffffffff 0 0 0 0"], Lines(output));
    }

    [Fact]
    public void HostAccess_ToDelegatedGranule_PrintsGpfAndChangesNothing()
    {
        (string output, RmmConsole console) = Run("w64 g5+0x10 0x1234\nsmc RMI_GRANULE_DELEGATE g5\nw64 g5+0x10 7\nr64 g5+0x10\nzero g5\ndump g5 8\nsmc RMI_GRANULE_UNDELEGATE g5\nr64 g5+0x10");
        ulong g5 = console.Platform.Memory.Base + (5 * 0x1000);

        // The delegate zeroed the granule; the host's writes while it was delegated never landed.
        Assert.Equal(["R 0 0 0 0 0", $"E gpf {g5 + 0x10:x}", $"E gpf {g5 + 0x10:x}", $"E gpf {g5:x}", $"E gpf {g5:x}", "R 0 0 0 0 0", "V 0"], Lines(output));
        Assert.Equal(Pas.NonSecure, console.Platform.Gpt[g5]);
        Assert.Equal(4, console.Errors);
    }

    [Fact]
    public void HostAccess_OutsideThePool_PrintsRange()
    {
        (string output, _) = Run("r64 0x1000\nw64 0x1000 1");

        Assert.Equal(["E range 1000", "E range 1000"], Lines(output));
    }

    [Fact]
    public void MemoryCommands_WriteReadDumpAndZero()
    {
        (string output, _) = Run("w64 g3+0x8 0x1122334455667788\nr64 g3+8\ndump g3+0x6 4\nzero g3\nr64 g3+0x8");

        Assert.Equal(["V 1122334455667788", "D 00008877", "V 0"], Lines(output));
    }

    [Fact]
    public void Values_RealmPcAndGranuleOffsets_AreAcceptedWhereverANumberIs()
    {
        (string output, _) = Run("w64 g2 realm_pc\nr64 g2\nw64 g2+16 g7+0x20\nr64 g2+0x10");

        Assert.Equal([$"V {ScriptValues.RealmPc:x}", "V 80007020"], Lines(output));
        Assert.True(ScriptValues.RealmPc < 1UL << 47);
    }

    [Fact]
    public void Run_UsesTheConfiguredFeatureRegister()
    {
        var f = FeatureRegister0.ReferenceHostBuild with { S2sz = 40, Lpa2 = false, HashSha512 = false };
        (string output, _) = Run("smc RMI_FEATURES 0\nsmc RMI_FEATURES 1", new RmmConfig { Features = f });

        Assert.Equal([$"R 0 {f.Pack():x} 0 0 0", "R 0 0 0 0 0"], Lines(output));
    }

    private static (string Output, RmmConsole Console) Run(string script, RmmConfig? config = null)
    {
        var platform = new CcaPlatform(new PlatformOptions { MemorySize = 64UL << 20 });
        RealmManagementMonitor rmm = RealmManagementMonitor.Boot(platform.Monitor, config, platform.Interrupts);
        var output = new StringWriter();
        var console = new RmmConsole(platform, rmm, output);
        console.Run(new StringReader(script));
        return (output.ToString(), console);
    }

    /// <summary>x1..x4 of an "RSI x0 x1 x2 x3 x4" line as the 32 little-endian bytes they carry.</summary>
    private static byte[] RegistersAsBytes(string line)
    {
        byte[] bytes = new byte[32];
        string[] words = line.Split(' ');
        for (int i = 0; i < 4; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8 * i), Convert.ToUInt64(words[2 + i], 16));
        }

        return bytes;
    }

    private static string[] Lines(string output) => output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}
