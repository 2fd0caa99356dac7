using System.Security.Cryptography;
using CcaSim.Attestation;
using CcaSim.Rmm;
using CcaSim.Vmm.Measurement;

namespace CcaSim.Vmm.Tests.Measurement;

/// <summary>
/// The offline RIM against the RIM the RMM computes when the same realm boots through <see cref="CcaSimMachine"/>
/// (the hello payload prints RSI_MEASUREMENT_READ(0) as "RIM: &lt;hex&gt;").
/// </summary>
public class RimCalculatorTests
{
    private const string LongRpv = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    /// <summary>
    /// vCPUs, RAM (MiB), initrd bytes (0: none), bootargs, --pmu-counters, --measurement-algo, --realm-pv. The first
    /// eight rows are a two-level orthogonal array over algorithm × vCPUs (1/4) × initrd × RAM (small 16–32 / large
    /// 64–256 MiB) × RPV, so every pair of those choices boots at least once without booting all 32 combinations.
    /// </summary>
    public static TheoryData<int, int, int, string?, int?, MeasurementAlgorithm, string?> Configurations => new()
    {
        { 1, 16, 0, null, null, MeasurementAlgorithm.Sha256, null },
        { 1, 32, 100_000, null, null, MeasurementAlgorithm.Sha256, "tenant-a" },
        { 4, 64, 0, null, null, MeasurementAlgorithm.Sha256, null },
        { 4, 64, 300_000, null, null, MeasurementAlgorithm.Sha256, LongRpv },
        { 1, 64, 0, null, null, MeasurementAlgorithm.Sha512, "tenant-b" },
        { 1, 256, 200_000, null, null, MeasurementAlgorithm.Sha512, null },
        { 4, 16, 0, null, null, MeasurementAlgorithm.Sha512, LongRpv },
        { 4, 32, 5_000, "console=ttyS0 earlycon", null, MeasurementAlgorithm.Sha512, null },
        { 4, 256, 1_000_000, "root=/dev/ram0", null, MeasurementAlgorithm.Sha256, null },
        { 2, 32, 0, null, 3, MeasurementAlgorithm.Sha512, null },
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Compute_EqualsTheRimAndClaimsOfTheSameRealmBooted(int cpus, int memoryMiB, int initrdBytes, string? bootargs, int? pmuCounters, MeasurementAlgorithm algorithm, string? rpv)
    {
        VmOptions options = Options(cpus, memoryMiB, initrdBytes, bootargs, pmuCounters) with { MeasurementAlgorithm = algorithm, RealmPersonalisationValue = rpv };

        RealmMeasurement predicted = RimCalculator.Compute(options);
        VmRunResult run = CcaSimMachine.Run(new MachineOptions { Vm = options, ConsoleOutput = null });

        Assert.True(run.Outcome == VmOutcome.PoweredOff && run.ExitCode == 0, $"{run.Outcome} {run.Message}\n{run.Transcript}");
        string[] lines = run.Transcript.Split('\n');
        string rimLine = Assert.Single(lines, l => l.StartsWith("RIM: ", StringComparison.Ordinal));
        Assert.Equal(rimLine["RIM: ".Length..], Convert.ToHexStringLower(predicted.Rim));
        Assert.Equal(algorithm == MeasurementAlgorithm.Sha512 ? 64 : 32, predicted.Rim.Length);
        Assert.Contains($"hash algo: {predicted.Claims.HashAlgorithm}", lines);

        // The token the realm got: its RIM, RPV and hash-algorithm claims are the predicted ones (only the platform
        // signature is left unchecked, for want of a trust anchor here).
        byte[] token = Convert.FromHexString(string.Concat(lines.Where(l => l.StartsWith("TOKEN: ", StringComparison.Ordinal)).Select(l => l[7..].Trim())));
        VerificationResult verified = CcaTokenVerifier.Verify(token, (ECParameters?)null, new VerificationOptions
        {
            InitialMeasurement = predicted.Claims.InitialMeasurement,
            PersonalizationValue = predicted.Claims.PersonalizationValue,
        });
        Assert.All(verified.Failures, f => Assert.Equal(TokenCheck.PlatformKey, f.Check));
        Assert.Equal(predicted.Claims.HashAlgorithm, verified.Realm!.HashAlgorithm);
    }

    [Fact]
    public void Compute_OfA16MiBRealm_MeasuresEveryPopulatedPageOneRecAndTheRipasEntriesOfTheWalk()
    {
        BootPlan plan = BootPlan.Create(Options(1, 16, 0, null, null));
        int pages = plan.PopulatedRegions.Sum(r => r.Bytes.Length / 4096);

        RealmMeasurement m = RimCalculator.Compute(plan.Options);

        Assert.Equal(pages, m.DataGranules);
        Assert.Equal(1, m.RecDescriptors);

        // Kernel and DTB sit in two different 2 MiB blocks of the 8 in 16 MiB: 2 × 512 level-3 entries less the
        // populated pages, plus the other 6 blocks as level-2 entries.
        Assert.Equal((2 * 512) - pages + 6, m.RipasDescriptors);
        Assert.Equal(32, m.Rim.Length);
        Assert.Equal(33, m.Params.S2sz);
    }

    [Fact]
    public void Compute_IsDeterministicAndChangesWithTheBootargs()
    {
        byte[] first = RimCalculator.Compute(Options(1, 32, 0, "x=1", null)).Rim;

        Assert.Equal(first, RimCalculator.Compute(Options(1, 32, 0, "x=1", null)).Rim);
        Assert.NotEqual(first, RimCalculator.Compute(Options(1, 32, 0, "x=2", null)).Rim);
    }

    [Fact]
    public void Compute_ExpectsTheV12RealmClaims()
    {
        RealmMeasurement m = RimCalculator.Compute(Options(1, 16, 0, null, null));

        Assert.Equal("sha-256", m.Claims.HashAlgorithm);
        Assert.Equal("sha-256", m.Claims.PublicKeyHashAlgorithm);
        Assert.Equal("tag:arm.com,2023:realm#1.0.0", m.Claims.Profile);
        Assert.Equal(new byte[64], m.Claims.PersonalizationValue);
        Assert.Equal(m.Rim, m.Claims.InitialMeasurement);
    }

    [Fact]
    public void Compute_WithSha512AndAnRpv_ExpectsTheirClaimsAndA64ByteRim()
    {
        RealmMeasurement m = RimCalculator.Compute(Options(1, 16, 0, null, null) with { MeasurementAlgorithm = MeasurementAlgorithm.Sha512, RealmPersonalisationValue = "pv" });
        byte[] rpv = new byte[64];
        rpv[0] = (byte)'p';
        rpv[1] = (byte)'v';

        Assert.Equal("sha-512", m.Claims.HashAlgorithm);
        Assert.Equal(MeasurementAlgorithm.Sha512, m.Params.HashAlgorithm);
        Assert.Equal(64, m.Rim.Length);
        Assert.Equal(rpv, m.Claims.PersonalizationValue);
        Assert.Equal("sha-256", m.Claims.PublicKeyHashAlgorithm);
    }

    [Fact]
    public void Compute_TheRpvIsNotMeasured_OnlyClaimed()
    {
        RealmMeasurement without = RimCalculator.Compute(Options(1, 16, 0, null, null));
        RealmMeasurement with = RimCalculator.Compute(Options(1, 16, 0, null, null) with { RealmPersonalisationValue = "x" });

        Assert.Equal(without.Rim, with.Rim);
        Assert.NotEqual(without.Claims.PersonalizationValue, with.Claims.PersonalizationValue);
    }

    [Theory]
    [InlineData(true, null, "--realm")]
    [InlineData(false, "rpv65", "--realm-pv: the personalisation value is at most 64 bytes")]
    [InlineData(false, "sha512-not-offered", "--measurement-algo sha512: the RMM does not offer it (RMI_FEATURES HASH_SHA_512 is 0)")]
    [InlineData(false, "sve", "--sve-vl 256")]
    [InlineData(false, "mem", "--mem 0")]
    public void Compute_OfOptionsTheRealmCannotHave_ThrowsAVmmExceptionNamingTheOption(bool normalVm, string? change, string named)
    {
        VmOptions options = Options(1, 16, 0, null, null) with { Realm = !normalVm };
        FeatureRegister0 features = FeatureRegister0.ReferenceHostBuild;
        options = change switch
        {
            "rpv65" => options with { RealmPersonalisationValue = new string('r', 65) },
            "sha512-not-offered" => options with { MeasurementAlgorithm = MeasurementAlgorithm.Sha512 },
            "sve" => options with { SveVectorLength = 256 },
            "mem" => options with { MemoryMiB = 0 },
            _ => options,
        };
        if (change == "sha512-not-offered")
        {
            features = features with { HashSha512 = false };
        }

        var e = Assert.Throws<VmmException>(() => RimCalculator.Compute(options, features));

        Assert.StartsWith(named, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Boot_WithSha512OnAnRmmWithoutIt_FailsWithOneLineNamingTheOption()
    {
        VmOptions options = Options(1, 16, 0, null, null) with { MeasurementAlgorithm = MeasurementAlgorithm.Sha512 };
        var rmm = new RmmConfig { Features = FeatureRegister0.ReferenceHostBuild with { HashSha512 = false } };

        var e = Assert.Throws<VmmException>(() => CcaSimMachine.Create(new MachineOptions { Vm = options, Rmm = rmm, ConsoleOutput = null }).Dispose());

        Assert.StartsWith("--measurement-algo sha512: KVM_ENABLE_CAP(KVM_CAP_ARM_RMI, CONFIG_REALM) failed: -EINVAL", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Machine_TurnsOnThePreV12CompatibilityOptionOnlyForSha512OrAnRpv()
    {
        using CcaSimMachine plain = CcaSimMachine.Create(new MachineOptions { Vm = Options(1, 16, 0, null, null), ConsoleOutput = null });
        using CcaSimMachine rpv = CcaSimMachine.Create(new MachineOptions { Vm = Options(1, 16, 0, null, null) with { RealmPersonalisationValue = "x" }, ConsoleOutput = null });

        Assert.False(plain.Kvm.Options.PreV12RealmConfig);
        Assert.True(rpv.Kvm.Options.PreV12RealmConfig);
    }

    [Fact]
    public void Compute_OfAMissingKernel_ThrowsAVmmExceptionNamingTheFile()
    {
        var e = Assert.Throws<VmmException>(() => RimCalculator.Compute(new VmOptions { Kernel = "/nonexistent/kernel.bin", Realm = true }));

        Assert.Contains("/nonexistent/kernel.bin", e.Message, StringComparison.Ordinal);
    }

    private static VmOptions Options(int cpus, int memoryMiB, int initrdBytes, string? bootargs, int? pmuCounters) => new()
    {
        Kernel = TestFiles.Bin("hello"),
        Realm = true,
        Cpus = cpus,
        MemoryMiB = memoryMiB,
        InitrdBytes = initrdBytes == 0 ? null : Pattern(initrdBytes),
        Params = bootargs,
        PmuCounters = pmuCounters,
        MaxInstructions = 500_000_000,
    };

    private static byte[] Pattern(int length)
    {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++)
        {
            b[i] = (byte)((i * 131) ^ (i >> 8));
        }

        return b;
    }
}
