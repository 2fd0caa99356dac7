using CcaSim.Attestation;

namespace CcaSim.Guests.Tests.Boot;

/// <summary>
/// Issue 12, end to end: every payload of guests/ booted by <c>ccasim run</c> (in process, the arguments a user
/// types), as a realm and (where it applies) as a normal VM, twice on fresh machines. The exit code, the payload's
/// own success lines and the absence of any FAIL line are asserted, and the two transcripts must be byte-identical
/// (virtual time, one host thread, round-robin vCPUs, deterministic ECDSA).
/// </summary>
public sealed class PayloadBootTests
{
    /// <summary>Payload, realm, vCPUs (-c), and lines the payload prints only when it got where it should.</summary>
    public static TheoryData<string, bool, int, string[]> Payloads => new()
    {
        { "hello", true, 2, ["running in a realm", "challenge: default pattern 00..3f"] },
        { "hello", false, 1, ["running in a normal VM"] },
        { "rsi-selftest", true, 1, ["PASS: RSI_VERSION 1.0", "PASS: RSI_FEATURES 0 reports no features"] },
        { "ripas", true, 1, ["PASS: a load from an EMPTY page aborts", "PASS: the pages read as zero after EMPTY and back"] },

        // Realm-only payloads in a normal VM: they find no RMM, say so and exit 0.
        { "rsi-selftest", false, 1, ["PASS: no RSI in a normal VM (SMC answered NOT_SUPPORTED)"] },
        { "ripas", false, 1, ["SKIP: ripas needs a realm"] },
        { "exceptions", true, 1, ["MMU is on", "PASS: SCTLR_EL1.M is clear again"] },
        { "exceptions", false, 1, ["MMU is on", "PASS: SCTLR_EL1.M is clear again"] },
        { "smp", true, 4, ["smp: 4 vCPUs", "PASS: AFFINITY_INFO vCPU 3 is OFF after CPU_OFF"] },
        { "smp", false, 4, ["smp: 4 vCPUs", "PASS: AFFINITY_INFO vCPU 3 is OFF after CPU_OFF"] },
        { "irq-timer", true, 2, ["PASS: CNTFRQ_EL0 is set", "PASS: vCPU 1 turned itself off"] },
        { "irq-timer", false, 2, ["PASS: CNTFRQ_EL0 is set", "PASS: vCPU 1 turned itself off"] },
        { "bench", true, 1, ["BENCH done"] },
        { "bench", false, 1, ["BENCH done"] },
    };

    [Theory]
    [MemberData(nameof(Payloads))]
    public void CcasimRun_OfEachPayload_ExitsZeroWithItsSuccessLinesTwiceIdentically(string payload, bool realm, int vcpus, string[] expected)
    {
        CcasimRunResult first = CcasimRun.Boot(payload, realm, vcpus);
        CcasimRunResult second = CcasimRun.Boot(payload, realm, vcpus);

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal("EXIT: STATUS=0", first.Lines[^1]);
        Assert.DoesNotContain("FAIL", first.Transcript, StringComparison.Ordinal);
        Assert.All(expected, line => Assert.Contains(line, first.Lines));
        Assert.Equal(first.Transcript, second.Transcript);
        Assert.Equal(first.ExitCode, second.ExitCode);
    }

    /// <summary>A challenge unlike hello's default (bytes 0x00..0x3f), passed in /chosen/bootargs.</summary>
    private static readonly byte[] Challenge = [.. Enumerable.Range(0, 64).Select(i => (byte)(0xA5 ^ i))];

    [Fact]
    public void CcasimRun_HelloAsARealmWithAChallengeInItsBootargs_PrintsATokenThatVerifiesAgainstTheRimTheRmmComputed()
    {
        // hello takes its challenge from the DTB's /chosen/bootargs "challenge=<128 hex>" (guests/hello/main.c), and
        // `ccasim run -p` is what puts the bootargs into the DTB the VMM generates.
        CcasimRunResult run = CcasimRun.Boot("hello", realm: true, vcpus: 2, "-p", "console=ttyS0 challenge=" + Convert.ToHexStringLower(Challenge));

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("challenge: from /chosen/bootargs", run.Lines);
        byte[]? token = run.Token;
        byte[]? rim = run.HexLine("RIM");
        Assert.True(token is not null && rim is not null, "no TOKEN or RIM lines:\n" + run);
        VerificationResult result = CcaTokenVerifier.VerifyWithPem(
            token,
            PlatformDescription.Default.ExportPlatformPublicKeyPem(),
            new VerificationOptions { InitialMeasurement = rim, Challenge = Challenge, RequireRel0 = true });
        Assert.True(result.IsValid, string.Join("; ", result.Failures.Select(f => $"{f.Check}: {f.Message}")));
    }

    [Fact]
    public void CcasimRun_HelloAsANormalVm_SaysSoAndPrintsNoToken()
    {
        CcasimRunResult run = CcasimRun.Boot("hello", realm: false, vcpus: 1);

        Assert.Equal(0, run.ExitCode);
        Assert.Null(run.Token);
        Assert.Equal("Hello from a CcaSim guest\nrunning in a normal VM\nEXIT: STATUS=0\n", run.Transcript);
    }
}
