using CcaSim.Attestation;
using CcaSim.Cli.Commands;
using Spectre.Console;

namespace CcaSim.Cli.Tests.Commands;

/// <summary>The terminal rendering of <c>ccasim verify</c> (a table), rendered into a string without colour.</summary>
public sealed class VerifyReportTests
{
    private static readonly byte[] s_rim = Enumerable.Repeat((byte)0x33, 32).ToArray();

    [Fact]
    public void Table_ListsRealmAndPlatformClaims_WithTheRimCheckFailedByName()
    {
        VerifyReport report = Report(new VerifyExpectations { InitialMeasurement = new byte[32] });

        string text = Render(report);

        Assert.Contains("Realm claims", text, StringComparison.Ordinal);
        Assert.Contains("Platform claims", text, StringComparison.Ordinal);
        string rimRow = Assert.Single(text.Split('\n'), l => l.Contains("│ RIM ", StringComparison.Ordinal));
        Assert.Contains("FAIL ExpectedInitialMeasurement", rimRow, StringComparison.Ordinal);
        foreach (string claim in new[] { "challenge", "personalization value", "REM1", "REM4", "hash algorithm", "public key hash algorithm", "profile", "implementation id", "instance id", "lifecycle", "config", "software component 0" })
        {
            Assert.Contains($"│ {claim} ", text, StringComparison.Ordinal);
        }

        Assert.Contains("FAIL ExpectedInitialMeasurement: RIM is 3333", text, StringComparison.Ordinal);
        Assert.EndsWith("FAILED: 1 check(s) failed\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Table_OfAMatchingExpectation_SaysMatch_AndEndsOk()
    {
        VerifyReport report = Report(new VerifyExpectations { InitialMeasurement = s_rim, HashAlgorithm = "sha-256" });

        string text = Render(report);

        string rimRow = Assert.Single(text.Split('\n'), l => l.Contains("│ RIM ", StringComparison.Ordinal));
        Assert.Contains("(same)", rimRow, StringComparison.Ordinal);
        Assert.Contains("match", rimRow, StringComparison.Ordinal);
        Assert.Contains("OK Rel0 token, ", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(64, false)]
    [InlineData(65, true)]
    public void Abbreviate_CutsOnlyValuesLongerThan64Characters(int length, bool cut)
    {
        string value = new('a', length);

        Assert.Equal(cut, VerifyReport.Abbreviate(value) != value);
    }

    private static VerifyReport Report(VerifyExpectations expected)
    {
        PlatformDescription platform = PlatformDescription.Default;
        byte[] token = platform.CreateToken(platform.CreateRealmClaims(new byte[64], new byte[64], RealmHashAlgorithm.Sha256, s_rim, [new byte[32], new byte[32], new byte[32], new byte[32]]));
        VerificationResult result = CcaTokenVerifier.VerifyWithPem(token, platform.ExportPlatformPublicKeyPem(), expected.ToOptions());
        return VerifyReport.Create(result, token.Length, expected);
    }

    private static string Render(VerifyReport report)
    {
        var writer = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(writer),
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 240;
        report.Table(console);
        return writer.ToString().Replace("\r\n", "\n", StringComparison.Ordinal);
    }
}
