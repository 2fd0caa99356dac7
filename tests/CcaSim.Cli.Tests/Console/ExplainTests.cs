using CcaSim.Cli.Console;
using CcaSim.Rmm.Rmi;

namespace CcaSim.Cli.Tests.Console;

public sealed class ExplainTests
{
    private static readonly RmmConsoleOptions s_explain = new() { Explain = true };

    [Theory]
    [InlineData("worked-example.rmm")]
    [InlineData("realm-rsi.rmm")]
    public void Explain_OnlyAppendsNotes_ThePlainTranscriptIsEachLinesPrefix(string example)
    {
        string script = ConsoleHarness.Example(example).Replace("/tmp/realm-token.cbor", "/dev/null", StringComparison.Ordinal);
        (string[] plain, _) = ConsoleHarness.Run(script);
        (string[] explained, _) = ConsoleHarness.Run(script, s_explain);

        Assert.Equal(plain.Length, explained.Length);
        for (int i = 0; i < plain.Length; i++)
        {
            Assert.StartsWith(plain[i], explained[i], StringComparison.Ordinal);
            Assert.True(explained[i].Length == plain[i].Length || explained[i][plain[i].Length..].StartsWith("  ", StringComparison.Ordinal), explained[i]);
        }
    }

    [Fact]
    public void Explain_WorkedExample_NamesStatusesAndDecodesOutputsInTheNotesColumn()
    {
        (string[] lines, _) = ConsoleHarness.Run(ConsoleHarness.Example("worked-example.rmm"), s_explain);

        Assert.Equal("B 80000000", lines[0]);
        Assert.Equal("R 0 10000 10000 0 0         RMI_VERSION SUCCESS lower 1.0 higher 1.0", lines[1]);
        Assert.Equal("R 0 283fc104130 0 0 0       RMI_FEATURES SUCCESS S2SZ 48 LPA2 BPS 1 WPS 1 PMU 31 SHA256 SHA512 LRS 1 MAX_RECS_ORDER 10", lines[2]);
        Assert.Contains("R 1 0 0 0 0                 RMI_REALM_CREATE ERROR_INPUT", lines);
        Assert.Contains("R 0 10 0 0 0                RMI_REC_AUX_COUNT SUCCESS aux_count 16", lines);
        Assert.Contains("R 104 0 0 0 0               RMI_RTT_CREATE ERROR_RTT(1)", lines);
        Assert.Contains("R 0 3000 0 0 0              RMI_RTT_INIT_RIPAS SUCCESS top 0x3000", lines);
        Assert.Contains("R 0 3 0 0 1                 RMI_RTT_READ_ENTRY SUCCESS L3 UNASSIGNED RAM", lines);
        Assert.Contains("R 0 3 1 8001e000 1          RMI_RTT_READ_ENTRY SUCCESS L3 ASSIGNED RAM pa=0x8001e000", lines);
        Assert.Contains("R 304 0 0 0 0               RMI_DATA_CREATE ERROR_RTT(3)", lines);
    }

    [Fact]
    public void Explain_RealmRsi_NamesRealmStatusesExitReasonsAndRunFields()
    {
        string script = ConsoleHarness.Example("realm-rsi.rmm").Replace("/tmp/realm-token.cbor", "/dev/null", StringComparison.Ordinal);
        (string[] lines, _) = ConsoleHarness.Run(script, s_explain);

        Assert.Contains("RSI 0 10000 10000 0 0       RSI_VERSION RSI_SUCCESS lower 1.0 higher 1.0", lines);
        Assert.Contains("RSI 0 4000 1 0 0            RSI_IPA_STATE_GET RSI_SUCCESS top 0x4000 RAM", lines);
        Assert.Contains("RSI 10001 0 0 0 0           PSCI_VERSION 1.1", lines);
        Assert.Contains("R 0 0 0 0 0                 RMI_REC_ENTER SUCCESS exit HOST_CALL", lines);
        Assert.Contains("V 5                         exit HOST_CALL", lines);
        Assert.Contains("V 4000                      exit.ripas_base", lines);
        Assert.Contains("V 6000                      exit.ripas_top", lines);
        Assert.Contains("RSI 0 6000 0 0 0            RSI_IPA_STATE_SET RSI_SUCCESS next 0x6000 ACCEPT", lines);
        Assert.Contains("RSI 3 0 0 0 0               RSI_ATTESTATION_TOKEN_CONTINUE RSI_INCOMPLETE 0x0 bytes", lines);
        Assert.Contains("RSI 0 6f6 0 0 0             RSI_ATTESTATION_TOKEN_CONTINUE RSI_SUCCESS 0x6f6 bytes", lines);
        Assert.Contains("RSI 2 0 0 0 0               RSI_ATTESTATION_TOKEN_CONTINUE RSI_ERROR_STATE", lines);
        Assert.Contains("V 1                         exit IRQ", lines);
    }

    [Fact]
    public void Explain_PsciCalls_NamePsciStatuses()
    {
        string script = ConsoleHarness.ActiveRealm() + """
            rsi PSCI_FEATURES 0x84000005
            rsi PSCI_FEATURES 0x84000002
            rsi PSCI_CPU_ON_64 0 0xffffffffffff0000 0
            rsi PSCI_CPU_ON_64 7 realm_pc 0
            rsi PSCI_CPU_ON_64 0 realm_pc 0
            rsi PSCI_AFFINITY_INFO_64 0 0
            rsi SMCCC_VERSION
            rsi 0xC4000100
            smc RMI_REC_ENTER g6 g102
            """;
        (string[] lines, _) = ConsoleHarness.Run(script, s_explain);

        Assert.Equal(
            [
                "RSI ffffffffffffffff 0 0 0 0  PSCI_FEATURES NOT_SUPPORTED",
                "RSI 0 0 0 0 0               PSCI_FEATURES SUCCESS",
                "RSI fffffffffffffff7 0 0 0 0  PSCI_CPU_ON_64 INVALID_ADDRESS",
                "RSI fffffffffffffffe 0 0 0 0  PSCI_CPU_ON_64 INVALID_PARAMETERS",
                "RSI fffffffffffffffc 0 0 0 0  PSCI_CPU_ON_64 ALREADY_ON",
                "RSI 0 0 0 0 0               PSCI_AFFINITY_INFO_64 ON",
                "RSI 10002 0 0 0 0           SMCCC_VERSION 1.2",
                "RSI ffffffffffffffff 0 0 0 0  0xc4000100 SMC_UNKNOWN",
                "R 0 0 0 0 0                 RMI_REC_ENTER SUCCESS exit FIQ",
            ],
            lines[^9..]);
    }

    [Fact]
    public void Explain_SyncExit_DecodesTheEsrClass()
    {
        // A host call whose structure page is UNASSIGNED RAM (0x4000, once RIPAS is RAM up to 0x5000) is reported as a stage-2 data abort (rmm-1.0.md §5.6).
        string script = ConsoleHarness.ActiveRealm() + "rsi RSI_HOST_CALL 0x4f00\nsmc RMI_REC_ENTER g6 g102\nr64 g102+0x800\nr64 g102+0x900\nr64 g102+0x910\nr64 g102+0x200\n";
        (string[] lines, _) = ConsoleHarness.Run(script.Replace("0x1000 0x4000", "0x1000 0x5000", StringComparison.Ordinal), s_explain);

        Assert.StartsWith("R 0 0 0 0 0                 RMI_REC_ENTER SUCCESS exit SYNC (EC 0x24 DABT_LOW", lines[^5], StringComparison.Ordinal);
        Assert.Equal("V 0                         exit SYNC", lines[^4]);
        Assert.StartsWith("exit.esr EC 0x24 DABT_LOW", lines[^3][28..], StringComparison.Ordinal);
        Assert.Equal("exit.hpfar (IPA 0x4000)", lines[^2][28..]);
        Assert.Equal("enter.gprs[0]", lines[^1][28..]);
    }

    [Fact]
    public void Explain_HostReadOutsideAnyRunStructure_HasNoNote()
    {
        (string[] lines, _) = ConsoleHarness.Run("w64 g3 5\nr64 g3\n", s_explain);

        Assert.Equal(["V 5"], lines);
    }

    [Theory]
    [InlineData(RmiFunctionId.RmiGranuleDelegate, 0x0UL, "SUCCESS")]
    [InlineData(RmiFunctionId.RmiGranuleDelegate, 0x1UL, "ERROR_INPUT")]
    [InlineData(RmiFunctionId.RmiRttCreate, 0x104UL, "ERROR_RTT(1)")]
    [InlineData(RmiFunctionId.RmiRttDestroy, 0x4UL, "ERROR_RTT(0)")]
    [InlineData(RmiFunctionId.RmiRecEnter, 0x2UL, "ERROR_REALM(0)")]
    [InlineData(RmiFunctionId.RmiRecEnter, 0x102UL, "ERROR_REALM(1)")]
    [InlineData(RmiFunctionId.RmiRecEnter, 0x3UL, "ERROR_REC")]
    [InlineData(RmiFunctionId.RmiRealmActivate, 0x2UL, "ERROR_REALM")]
    [InlineData(RmiFunctionId.RmiVersion, ulong.MaxValue, "SMC_UNKNOWN")]
    public void RmiStatusName_NamesStatusWithItsIndexWhereItHasOne(RmiFunctionId fid, ulong x0, string expected)
    {
        Assert.Equal(expected, ResultNames.RmiStatusName((ulong)fid, x0));
    }

    [Theory]
    [InlineData(0UL, "SUCCESS")]
    [InlineData(0xFFFF_FFFF_FFFF_FFFFUL, "NOT_SUPPORTED")]
    [InlineData(0xFFFF_FFFF_FFFF_FFFEUL, "INVALID_PARAMETERS")]
    [InlineData(0xFFFF_FFFF_FFFF_FFFDUL, "DENIED")]
    [InlineData(0xFFFF_FFFF_FFFF_FFFCUL, "ALREADY_ON")]
    [InlineData(0xFFFF_FFFF_FFFF_FFF7UL, "INVALID_ADDRESS")]
    public void PsciStatusName_UsesPsciReturnCodeNames(ulong x0, string expected)
    {
        Assert.Equal(expected, ResultNames.PsciStatusName(x0));
    }

    [Theory]
    [InlineData(0xC400_0198UL, 0UL, false)]
    [InlineData(0xC400_0195UL, 3UL, false)]
    [InlineData(0xC400_0195UL, 2UL, true)]
    [InlineData(0xC400_0193UL, 1UL, true)]
    [InlineData(0x8400_0000UL, 0x10001UL, false)]
    [InlineData(0xC400_0003UL, 0xFFFF_FFFF_FFFF_FFFCUL, true)]
    [InlineData(0x8400_0004UL, 1UL, false)]
    [InlineData(0xC400_0100UL, 0xFFFF_FFFF_FFFF_FFFFUL, true)]
    [InlineData(0xC401_0003UL, 0xFFFF_FFFF_FFFF_FFFCUL, true)] // CPU_ON with the SVE hint: decoded as the RMM does
    [InlineData(0xFFFF_FFFF_C400_0003UL, 0xFFFF_FFFF_FFFF_FFFCUL, true)] // and with junk above W0
    [InlineData(0xC401_0195UL, 3UL, false)]
    public void IsRealmError_RsiIncompleteAndVersionsAreNotErrors(ulong fid, ulong x0, bool expected)
    {
        Assert.Equal(expected, ResultNames.IsRealmError(fid, x0));
    }

    [Theory]
    [InlineData(0xC401_0003UL, "PSCI_CPU_ON_64")]
    [InlineData(0x1_8400_0000UL, "PSCI_VERSION")]
    [InlineData(0xC401_0190UL, "RSI_VERSION")]
    public void RealmCallName_DecodesW0WithoutTheSveHint_AsTheRmmDoes(ulong fid, string expected)
    {
        Assert.Equal(expected, ResultNames.RealmCallName(fid));
    }
}
