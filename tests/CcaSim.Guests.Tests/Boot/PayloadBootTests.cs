using CcaSim.Attestation;

namespace CcaSim.Guests.Tests.Boot;

/// <summary>
/// Every payload of guests/ booted through KVM on the Unicorn engine, as a realm and (where it applies) as a normal
/// VM, twice on fresh machines: the transcript and the exit status are asserted, and the two runs must be
/// byte-identical (virtual time, one host thread, round-robin vCPUs).
/// </summary>
public sealed class PayloadBootTests
{
    public static TheoryData<string, bool, int> Payloads => new()
    {
        { "hello", true, 2 },
        { "hello", false, 1 },
        { "rsi-selftest", true, 1 },
        { "ripas", true, 1 },

        // Realm-only payloads in a normal VM: they find no RMM, say so and exit 0.
        { "rsi-selftest", false, 1 },
        { "ripas", false, 1 },
        { "exceptions", true, 1 },
        { "exceptions", false, 1 },
        { "smp", true, 4 },
        { "smp", false, 4 },
        { "irq-timer", true, 2 },
        { "irq-timer", false, 2 },
        { "bench", true, 1 },
        { "bench", false, 1 },
    };

    [Theory]
    [MemberData(nameof(Payloads))]
    public void Payload_BootsToAPassingExit_TwiceWithIdenticalTranscripts(string payload, bool realm, int vcpus)
    {
        GuestRun first = GuestMachine.Boot(payload, realm, vcpus);
        GuestRun second = GuestMachine.Boot(payload, realm, vcpus);

        Assert.True(first.Outcome == GuestOutcome.PoweredOff, Describe(first));
        Assert.Equal(0, first.ExitStatus);
        Assert.DoesNotContain("FAIL", first.Transcript, StringComparison.Ordinal);
        Assert.Equal(first.Transcript, second.Transcript);
        Assert.Equal(first.Outcome, second.Outcome);
    }

    /// <summary>The challenge hello uses when no DTB gives one: bytes 0x00..0x3f.</summary>
    private static readonly byte[] DefaultChallenge = [.. Enumerable.Range(0, 64).Select(i => (byte)i)];

    [Fact]
    public void Hello_AsARealm_PrintsATokenThatVerifiesAgainstTheRimTheRmmComputed()
    {
        GuestRun run = GuestMachine.Boot("hello", realm: true, vcpus: 2);

        Assert.True(run.Outcome == GuestOutcome.PoweredOff && run.ExitStatus == 0, Describe(run));
        byte[]? token = run.Token;
        byte[]? rim = run.HexLine("RIM");
        Assert.True(token is not null && rim is not null, "no TOKEN or RIM lines:\n" + Describe(run));
        VerificationResult result = CcaTokenVerifier.VerifyWithPem(
            token,
            PlatformDescription.Default.ExportPlatformPublicKeyPem(),
            new VerificationOptions { InitialMeasurement = rim, Challenge = DefaultChallenge, RequireRel0 = true });
        Assert.True(result.IsValid, string.Join("; ", result.Failures.Select(f => $"{f.Check}: {f.Message}")));
    }

    [Fact]
    public void Hello_AsANormalVm_SaysSoAndPrintsNoToken()
    {
        GuestRun run = GuestMachine.Boot("hello", realm: false, vcpus: 1);

        Assert.True(run.Outcome == GuestOutcome.PoweredOff && run.ExitStatus == 0, Describe(run));
        Assert.Null(run.Token);
        Assert.Contains("normal VM", run.Transcript, StringComparison.Ordinal);
    }

    private static string Describe(GuestRun run) => $"{run.Outcome} (status {run.ExitStatus?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}) {run.Failure}\n--- transcript ---\n{run.Transcript}";
}
