using System.Buffers.Binary;
using System.Security.Cryptography;
using CcaSim.Kvm.Vcpu;
using CcaSim.Rmm;

namespace CcaSim.Vmm.Measurement;

/// <summary>
/// The realm parameters v12 KVM passes to RMI_REALM_CREATE for a VM (kvm-realm-abi.md §2.5, §2.9) and that the initial
/// RIM measures (rmm-1.0.md §8.1).
/// </summary>
public sealed record MeasuredRealmParams(ulong Flags, int S2sz, int SveVl, int NumBps, int NumWps, int PmuNumCtrs, MeasurementAlgorithm HashAlgorithm);

/// <summary>
/// What a verifier should find in the realm token of a realm booted with the same options (attestation.md §2): the
/// challenge is the guest's choice, so it is not predicted; the REMs start at zero but the guest may extend them.
/// </summary>
public sealed record ExpectedRealmClaims(string Profile, string HashAlgorithm, byte[] InitialMeasurement, byte[] PersonalizationValue, string PublicKeyHashAlgorithm);

/// <summary>The RIM of a realm computed offline, with the counts of what went into it.</summary>
public sealed record RealmMeasurement(
    MeasuredRealmParams Params,
    byte[] Rim,
    int DataGranules,
    int RecDescriptors,
    int RipasDescriptors,
    ExpectedRealmClaims Claims)
{
    /// <summary>The claim-44236 name of the algorithm (<c>sha-256</c> / <c>sha-512</c>).</summary>
    public string HashAlgorithmName => Claims.HashAlgorithm;
}

/// <summary>
/// <c>ccasim measure</c>: the RIM of a realm computed from its options alone, without a platform, an RMM or KVM. It
/// replays what the boot does — the <see cref="BootPlan"/> the VMM populates (same bytes, same GPA order), the realm
/// parameters KVM derives from the RMM's RMI_FEATURES(0) (kvm-realm-abi.md §2.5), vCPU 0's REC (the only runnable one,
/// §2.8), and v12's INIT_RIPAS walk over RAM at activation (§2.7) against a model of the realm's RTTs — through the
/// arithmetic of rmm-1.0.md §8.
/// </summary>
public static class RimCalculator
{
    private const int GranuleSize = 4096;
    private const int DescriptorSize = 0x100;
    private const int SlotSize = 64;
    private const ulong RealmFlagSve = 1UL << 1;
    private const ulong RealmFlagPmu = 1UL << 2;
    private const ulong RecFlagRunnable = 1;

    /// <summary>
    /// Measures the realm <paramref name="options"/> describe on an RMM offering <paramref name="features"/> (null: the
    /// reference host build, as <see cref="CcaSimMachine"/> boots by default). Bad options or images, or a realm the
    /// RMM cannot offer, end in a <see cref="VmmException"/> with one line to show.
    /// </summary>
    public static RealmMeasurement Compute(VmOptions options, FeatureRegister0? features = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Realm)
        {
            throw new VmmException("--realm: only a realm has a measurement");
        }

        BootPlan plan = BootPlan.Create(options);
        return Compute(plan, features ?? FeatureRegister0.ReferenceHostBuild);
    }

    /// <summary>Measures a realm's boot plan (see <see cref="Compute(VmOptions, FeatureRegister0?)"/>).</summary>
    public static RealmMeasurement Compute(BootPlan plan, FeatureRegister0 features)
    {
        ArgumentNullException.ThrowIfNull(plan);
        MeasuredRealmParams realmParams = RealmParams(plan, features);
        MeasurementAlgorithm algorithm = realmParams.HashAlgorithm;
        byte[] rim = InitialRim(realmParams);

        // §8.2: KVM_ARM_RMI_POPULATE with the MEASURE flag, one RMI_DATA_CREATE per 4 KiB page, regions in GPA order.
        int data = 0;
        foreach (LoadedRegion region in plan.PopulatedRegions)
        {
            for (int offset = 0; offset < region.Bytes.Length; offset += GranuleSize)
            {
                rim = ExtendData(algorithm, rim, region.Address + (ulong)offset, region.Bytes.Span.Slice(offset, GranuleSize));
                data++;
            }
        }

        // §8.3: only vCPU 0's REC is runnable (the others wait for PSCI CPU_ON); x0 = DTB, x1..x3 = 0 (booting.rst).
        ulong[] gprs = new ulong[8];
        gprs[0] = plan.DtbAddress;
        rim = ExtendRec(algorithm, rim, RecFlagRunnable, plan.Entry, gprs);

        // §8.4: the activation walk over the one guest_memfd slot (all RAM).
        var rtts = new RttModel(plan.Layout.IpaBits);
        foreach (LoadedRegion region in plan.PopulatedRegions)
        {
            for (ulong page = region.Address; page < region.Address + (ulong)region.Bytes.Length; page += GranuleSize)
            {
                rtts.Populate(page);
            }
        }

        int ripas = 0;
        foreach ((ulong baseIpa, ulong top) in rtts.InitRipas(VmmLayout.RamBase, plan.Layout.RamEnd))
        {
            rim = ExtendRipas(algorithm, rim, baseIpa, top);
            ripas++;
        }

        byte[] digest = rim[..HashSize(algorithm)];
        string name = algorithm == MeasurementAlgorithm.Sha256 ? Attestation.ClaimValues.Sha256 : Attestation.ClaimValues.Sha512;

        // The RPV is not measured (§8.1) but the token carries it (44235): all-zero unless --realm-pv set it through
        // the pre-v12 CONFIG_REALM (kvm-realm-abi.md §2.20). TF-RMM hard-codes the RAK hash (44240).
        var claims = new ExpectedRealmClaims(Attestation.ClaimValues.RealmProfile, name, digest, plan.Options.PersonalisationValueBytes, Attestation.ClaimValues.Sha256);
        return new RealmMeasurement(realmParams, digest, data, 1, ripas, claims);
    }

    /// <summary>
    /// The measured RmiRealmParams fields KVM writes (§2.5): num_bps / num_wps from the RMM's limits (KVM leaves
    /// ID_AA64DFR0_EL1 at its reset value), pmu_num_ctrs from PMCR_EL0.N (--pmu-counters, else the RMM's maximum),
    /// sve_vl = VQ − 1, s2sz = the VM's IPA width, hash_algo SHA-256 — or SHA-512 when --measurement-algo chose it
    /// through the pre-v12 CONFIG_REALM (§2.20), which KVM refuses (-EINVAL) unless RMI_FEATURES(0) offers it.
    /// </summary>
    public static MeasuredRealmParams RealmParams(BootPlan plan, FeatureRegister0 features)
    {
        ArgumentNullException.ThrowIfNull(plan);
        VmOptions options = plan.Options;
        RealmRegisterLimits limits = RealmRegisterLimits.FromRmiFeatureRegister0(features.Pack());
        bool pmu = options.Pmu || options.PmuCounters is not null;
        if (pmu && !limits.PmuSupported)
        {
            throw new VmmException("--pmu: the RMM offers realms no PMU (RMI_FEATURES PMU_EN is 0)");
        }

        if (options.PmuCounters is int counters && counters > limits.PmuNumCtrs)
        {
            throw new VmmException($"--pmu-counters {counters}: the RMM offers realms at most {limits.PmuNumCtrs} PMU counters");
        }

        int sveVl = 0;
        if (options.SveVectorLength is int vl)
        {
            int vq = vl / 128;
            if (!limits.SveSupported || vq > limits.SveMaxVq)
            {
                throw new VmmException(limits.SveSupported
                    ? $"--sve-vl {vl}: the RMM offers realms vectors of at most {limits.SveMaxVq * 128} bits"
                    : $"--sve-vl {vl}: the RMM offers realms no SVE (RMI_FEATURES SVE_EN is 0)");
            }

            sveVl = vq - 1;
        }

        bool offered = options.MeasurementAlgorithm == MeasurementAlgorithm.Sha256 ? features.HashSha256 : features.HashSha512;
        if (!offered)
        {
            string algorithm = options.MeasurementAlgorithm == MeasurementAlgorithm.Sha256 ? "sha256" : "sha512";
            throw new VmmException($"--measurement-algo {algorithm}: the RMM does not offer it (RMI_FEATURES HASH_{algorithm.ToUpperInvariant()[..3]}_{algorithm[3..]} is 0)");
        }

        if (plan.Layout.IpaBits > features.S2sz)
        {
            throw new VmmException($"--mem {options.MemoryMiB}: the realm needs {plan.Layout.IpaBits} IPA bits; the RMM offers at most {features.S2sz}");
        }

        ulong flags = (options.SveVectorLength is null ? 0 : RealmFlagSve) | (pmu ? RealmFlagPmu : 0);
        return new MeasuredRealmParams(
            flags,
            plan.Layout.IpaBits,
            sveVl,
            limits.NumBps,
            limits.NumWps,
            pmu ? options.PmuCounters ?? limits.PmuNumCtrs : 0,
            options.MeasurementAlgorithm);
    }

    /// <summary>
    /// §8.1: H(a 4096-byte RmiRealmParams image holding only flags @0, s2sz @8, sve_vl @0x10, num_bps @0x18, num_wps
    /// @0x20, pmu_num_ctrs @0x28 and hash_algo @0x30; everything else, RPV included, zero).
    /// </summary>
    internal static byte[] InitialRim(MeasuredRealmParams p)
    {
        byte[] image = new byte[GranuleSize];
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(0x00), p.Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(0x08), (uint)p.S2sz);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(0x10), (uint)p.SveVl);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(0x18), (uint)p.NumBps);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(0x20), (uint)p.NumWps);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(0x28), (uint)p.PmuNumCtrs);
        image[0x30] = p.HashAlgorithm == MeasurementAlgorithm.Sha256 ? (byte)0 : (byte)1;
        return Slot(p.HashAlgorithm, image);
    }

    /// <summary>§8.2, measured content: type 0, ipa @0x50, flags 1 @0x58, H(page) @0x60.</summary>
    internal static byte[] ExtendData(MeasurementAlgorithm algorithm, byte[] rim, ulong ipa, ReadOnlySpan<byte> page)
    {
        byte[] d = Descriptor(0, rim, algorithm);
        BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(0x50), ipa);
        BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(0x58), 1);
        Slot(algorithm, page).CopyTo(d, 0x60);
        return Slot(algorithm, d);
    }

    /// <summary>§8.3: type 1, H(RmiRecParams image with flags @0, pc @0x200, gprs[0..7] @0x300) @0x50.</summary>
    internal static byte[] ExtendRec(MeasurementAlgorithm algorithm, byte[] rim, ulong flags, ulong pc, ReadOnlySpan<ulong> gprs)
    {
        byte[] image = new byte[GranuleSize];
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(0x000), flags);
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(0x200), pc);
        for (int i = 0; i < 8; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(0x300 + (8 * i)), gprs[i]);
        }

        byte[] d = Descriptor(1, rim, algorithm);
        Slot(algorithm, image).CopyTo(d, 0x50);
        return Slot(algorithm, d);
    }

    /// <summary>§8.4: type 2, base @0x50, top @0x58 — one per RTT entry INIT_RIPAS processes.</summary>
    internal static byte[] ExtendRipas(MeasurementAlgorithm algorithm, byte[] rim, ulong baseIpa, ulong top)
    {
        byte[] d = Descriptor(2, rim, algorithm);
        BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(0x50), baseIpa);
        BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(0x58), top);
        return Slot(algorithm, d);
    }

    private static int HashSize(MeasurementAlgorithm algorithm) => algorithm == MeasurementAlgorithm.Sha256 ? 32 : 64;

    /// <summary>A descriptor's common head: type @0, length 0x100 @8, the current RIM (hash-length bytes) @0x10.</summary>
    private static byte[] Descriptor(byte type, byte[] rim, MeasurementAlgorithm algorithm)
    {
        byte[] d = new byte[DescriptorSize];
        d[0] = type;
        BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(0x08), DescriptorSize);
        rim.AsSpan(0, HashSize(algorithm)).CopyTo(d.AsSpan(0x10));
        return d;
    }

    /// <summary>A digest in a 64-byte slot with a zero tail (§8).</summary>
    private static byte[] Slot(MeasurementAlgorithm algorithm, ReadOnlySpan<byte> data)
    {
        byte[] slot = new byte[SlotSize];
        if (algorithm == MeasurementAlgorithm.Sha256)
        {
            SHA256.HashData(data, slot);
        }
        else
        {
            SHA512.HashData(data, slot);
        }

        return slot;
    }
}
