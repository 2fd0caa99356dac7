using CcaSim.Cli.Console;

namespace CcaSim.Cli.Tests.Console;

public sealed class ExpectationTests
{
    [Theory]
    [InlineData("smc RMI_VERSION 0x10000 => R 0", "smc RMI_VERSION 0x10000", "R 0")]
    [InlineData("smc RMI_VERSION 0x10000=>SUCCESS", "smc RMI_VERSION 0x10000", "SUCCESS")]
    [InlineData("smc X => ERROR_RTT(1) # parent is a table", "smc X", "ERROR_RTT(1)")]
    [InlineData("smc X # a note => R 0", "smc X # a note => R 0", null)]
    [InlineData("smc X =>", "smc X", null)]
    [InlineData("smc X => # only a comment", "smc X", null)]
    [InlineData("base", "base", null)]
    public void Split_TakesTheExpectationAfterTheArrow_AndStopsAtAComment(string line, string command, string? expectation)
    {
        ReadOnlySpan<char> rest = Expectation.Split(line, out Expectation? e);

        Assert.Equal(command, rest.ToString());
        Assert.Equal(expectation, e?.Text);
    }

    [Theory]
    [InlineData("R 104", "R 104 0 0 0 0", null, true)]
    [InlineData("R 104 0 0 0 0", "R 104 0 0 0 0", null, true)]
    [InlineData("R 104 0 0 0 0 0", "R 104 0 0 0 0", null, false)]
    [InlineData("R 4", "R 104 0 0 0 0", null, false)]
    [InlineData("R 0 * 0x10000", "R 0 10000 10000 0 0", null, true)]
    [InlineData("R 0 3 1 g30", "R 0 3 1 8001e000 1", null, true)]
    [InlineData("V 5", "V 5", null, true)]
    [InlineData("E gpf", "E gpf 80000000", null, true)]
    [InlineData("E range", "E gpf 80000000", null, false)]
    [InlineData("ERROR_RTT", "R 104 0 0 0 0", "ERROR_RTT(1)", true)]
    [InlineData("ERROR_RTT(1)", "R 104 0 0 0 0", "ERROR_RTT(1)", true)]
    [InlineData("ERROR_RTT(2)", "R 104 0 0 0 0", "ERROR_RTT(1)", false)]
    [InlineData("RMI_ERROR_INPUT", "R 1 0 0 0 0", "ERROR_INPUT", true)]
    [InlineData("SUCCESS", "R 1 0 0 0 0", "ERROR_INPUT", false)]
    [InlineData("RSI_ERROR_STATE", "RSI 2 0 0 0 0", "RSI_ERROR_STATE", true)]
    [InlineData("ERROR_STATE", "RSI 2 0 0 0 0", "RSI_ERROR_STATE", true)]
    [InlineData("PSCI_DENIED", "RSI fffffffffffffffd 0 0 0 0", "DENIED", true)]
    [InlineData("ERROR_INPUT", "V 1", null, false)]
    public void Matches_PrefixOfPrintedWordsOrStatusName(string expected, string printed, string? status, bool matches)
    {
        Expectation.Split("base => " + expected, out Expectation? e);

        Assert.Equal(matches, e!.Matches(printed, status, 0x8000_0000));
    }

    [Fact]
    public void MetExpectations_PrintNothingExtra_AndAreNotOffences()
    {
        (string[] lines, RmmConsole console) = ConsoleHarness.Run(
            "smc RMI_GRANULE_DELEGATE g1 => SUCCESS\nsmc RMI_GRANULE_DELEGATE g1 => ERROR_INPUT\nr64 g1 => E gpf\nnonsense => E unknown\nw64 g2 7\nr64 g2 => V 7");

        Assert.Equal(["R 0 0 0 0 0", "R 1 0 0 0 0", "E gpf 80001000", "E unknown nonsense", "V 7"], lines);
        Assert.Equal(0, console.Offences);
        Assert.Null(console.FirstOffence);
    }

    [Fact]
    public void WithoutStrict_ErrorsBeforeTheFirstExpectation_AreNotCounted_ButLaterOnesAre()
    {
        (string[] lines, RmmConsole console) = ConsoleHarness.Run("frob\nbase => B g0\nfrob");

        Assert.Equal(["E unknown frob", "B 80000000", "E unknown frob"], lines);
        Assert.Equal(1, console.Offences);
        Assert.Equal((3, "E unknown frob"), console.FirstOffence);
    }

    [Fact]
    public void UnmetExpectation_PrintsEExpectAfterTheResult_NamingTheScriptLine()
    {
        (string[] lines, RmmConsole console) = ConsoleHarness.Run("base\n\n# a comment\nsmc RMI_GRANULE_DELEGATE g1 => ERROR_INPUT\nbase");

        Assert.Equal(["B 80000000", "R 0 0 0 0 0", "E expect 4 ERROR_INPUT", "B 80000000"], lines);
        Assert.Equal(1, console.Offences);
        Assert.Equal((4, "E expect 4 ERROR_INPUT"), console.FirstOffence);
    }

    [Fact]
    public void ExpectationOnALineThatPrintsNothing_IsUnmet()
    {
        (string[] lines, RmmConsole console) = ConsoleHarness.Run("w64 g2 7 => V 7");

        Assert.Equal(["E expect 1 V 7"], lines);
        Assert.Equal(1, console.Offences);
    }

    [Fact]
    public void Strict_UnexpectedErrorStatusesAndELines_AreOffences_ButPrintAsBefore()
    {
        (string[] lines, RmmConsole console) = ConsoleHarness.Run("smc RMI_GRANULE_DELEGATE g1\nsmc RMI_GRANULE_DELEGATE g1\nsmc 0xC4000156\nfrob", new RmmConsoleOptions { Strict = true });

        Assert.Equal(["R 0 0 0 0 0", "R 1 0 0 0 0", "R ffffffffffffffff 0 0 0 0", "E unknown frob"], lines);
        Assert.Equal(3, console.Offences);
        Assert.Equal((2, "R 1 0 0 0 0"), console.FirstOffence);
    }

    [Fact]
    public void RsiExpectation_AppliesToTheCallsResultLine_WhenItCompletes()
    {
        string script = ConsoleHarness.ActiveRealm() + "rsi RSI_MEASUREMENT_EXTEND 0 8 => RSI_ERROR_INPUT\nrsi RSI_VERSION 0x20000\nrsi RSI_VERSION 0x10000 => RSI_ERROR_INPUT\nsmc RMI_REC_ENTER g6 g102 => SUCCESS\n";
        int rsiLine = script.TrimEnd('\n').Split('\n').Length - 1;
        (string[] lines, RmmConsole console) = ConsoleHarness.Run(script);

        Assert.Equal(
            ["RSI 1 0 0 0 0", "RSI 1 10000 10000 0 0", "RSI 0 10000 10000 0 0", $"E expect {rsiLine} RSI_ERROR_INPUT", "R 0 0 0 0 0"],
            lines[^5..]);
        Assert.Equal(2, console.Offences);
        Assert.Equal((rsiLine - 1, "RSI 1 10000 10000 0 0"), console.FirstOffence);
    }

    [Fact]
    public void ExamplesWithTheirDeliberateFailuresExpected_HaveNoOffences_AndPrintTheSameTranscript()
    {
        string example = ConsoleHarness.Example("worked-example.rmm");
        string expected = example
            .Replace("smc 0xC4000158 g50 g11", "smc 0xC4000158 g50 g11 => ERROR_INPUT", StringComparison.Ordinal)
            .Replace("smc 0xC400015D g0 g4 0 2", "smc 0xC400015D g0 g4 0 2 => ERROR_RTT(1)", StringComparison.Ordinal)
            .Replace("smc 0xC4000153 g0 g32 0x3000 g31 1", "smc 0xC4000153 g0 g32 0x3000 g31 1 => R 304", StringComparison.Ordinal);

        (string[] plain, RmmConsole plainConsole) = ConsoleHarness.Run(example, new RmmConsoleOptions { Strict = true });
        (string[] lines, RmmConsole console) = ConsoleHarness.Run(expected, new RmmConsoleOptions { Strict = true });

        Assert.Equal(plain, lines);
        Assert.Equal(3, plainConsole.Offences);
        Assert.Equal(0, console.Offences);
    }

    [Fact]
    public void Expectations_OfCallsThatNeverRan_AreEachUnmet_AndEUnrunIsNotHeldAgainstTheLastLine()
    {
        (string[] lines, RmmConsole console) = ConsoleHarness.Run(
            "rsi RSI_VERSION 0x10000 => RSI 0\nrsi PSCI_VERSION => RSI 10001\n", new RmmConsoleOptions { Strict = true });

        Assert.Equal(["E unrun 2", "E expect 1 RSI 0", "E expect 2 RSI 10001"], lines);
        Assert.Equal(3, console.Offences);
        Assert.Equal((2, "E unrun 2"), console.FirstOffence);
    }
}
