using CcaSim.Vmm.Measurement;

namespace CcaSim.Vmm.Tests.Measurement;

/// <summary>
/// The offline RIM against the RIM the RMM computes when the same realm boots through <see cref="CcaSimMachine"/>
/// (the hello payload prints RSI_MEASUREMENT_READ(0) as "RIM: &lt;hex&gt;").
/// </summary>
public class RimCalculatorTests
{
    /// <summary>vCPUs, RAM (MiB), initrd bytes (0: none), bootargs, --pmu-counters.</summary>
    public static TheoryData<int, int, int, string?, int?> Configurations => new()
    {
        { 1, 16, 0, null, null },
        { 4, 16, 0, null, null },
        { 1, 32, 100_000, null, null },
        { 4, 32, 5_000, "console=ttyS0 earlycon", null },
        { 1, 64, 0, "a=b", null },
        { 4, 64, 300_000, null, null },
        { 1, 256, 0, null, null },
        { 4, 256, 1_000_000, "root=/dev/ram0", null },
        { 2, 32, 0, null, 3 },
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Compute_EqualsTheRimTheRmmMeasuresWhenTheSameRealmBoots(int cpus, int memoryMiB, int initrdBytes, string? bootargs, int? pmuCounters)
    {
        VmOptions options = Options(cpus, memoryMiB, initrdBytes, bootargs, pmuCounters);

        RealmMeasurement predicted = RimCalculator.Compute(options);
        VmRunResult run = CcaSimMachine.Run(new MachineOptions { Vm = options, ConsoleOutput = null });

        Assert.True(run.Outcome == VmOutcome.PoweredOff && run.ExitCode == 0, $"{run.Outcome} {run.Message}\n{run.Transcript}");
        string rimLine = Assert.Single(run.Transcript.Split('\n'), l => l.StartsWith("RIM: ", StringComparison.Ordinal));
        Assert.Equal(rimLine["RIM: ".Length..], Convert.ToHexStringLower(predicted.Rim));
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

    /// <summary>The v12 ABI chooses neither the hash algorithm nor the RPV (kvm-realm-abi.md §2.9): VmOptions refuses both, so measure does too.</summary>
    [Theory]
    [InlineData(true, null, "--realm")]
    [InlineData(false, "sha512", "--measurement-algo sha512")]
    [InlineData(false, "rpv", "--realm-pv")]
    [InlineData(false, "sve", "--sve-vl 256")]
    [InlineData(false, "mem", "--mem 0")]
    public void Compute_OfOptionsNoV12RealmHas_ThrowsAVmmExceptionNamingTheOption(bool normalVm, string? change, string named)
    {
        VmOptions options = Options(1, 16, 0, null, null) with { Realm = !normalVm };
        options = change switch
        {
            "sha512" => options with { MeasurementAlgorithm = MeasurementAlgorithm.Sha512 },
            "rpv" => options with { RealmPersonalisationValue = "abc" },
            "sve" => options with { SveVectorLength = 256 },
            "mem" => options with { MemoryMiB = 0 },
            _ => options,
        };

        var e = Assert.Throws<VmmException>(() => RimCalculator.Compute(options));

        Assert.StartsWith(named, e.Message, StringComparison.Ordinal);
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
