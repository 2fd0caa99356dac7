namespace CcaSim.Rmm;

/// <summary>
/// RmiFeatureRegister0 (rmm-1.0.md §4.4): what the RMM offers realms. Packs to and from the 64-bit value
/// RMI_FEATURES(0) returns.
/// </summary>
public readonly record struct FeatureRegister0
{
    /// <summary>The value of the reference RMM's host build: S2SZ 48, LPA2, 1 BP, 1 WP, PMU with 31 counters,
    /// SHA-256 and SHA-512, 1 list register, MAX_RECS_ORDER 10, no SVE.</summary>
    public const ulong ReferenceHostBuildValue = 0x283_FC10_4130;

    public static FeatureRegister0 ReferenceHostBuild => Unpack(ReferenceHostBuildValue);

    /// <summary>Maximum IPA width, bits [7:0].</summary>
    public int S2sz { get; init; }

    public bool Lpa2 { get; init; }

    public bool SveEnabled { get; init; }

    /// <summary>Maximum SVE vector length encoded as VQ−1, bits [13:10].</summary>
    public int SveVl { get; init; }

    public int NumBps { get; init; }

    public int NumWps { get; init; }

    public bool PmuEnabled { get; init; }

    public int PmuNumCtrs { get; init; }

    public bool HashSha256 { get; init; }

    public bool HashSha512 { get; init; }

    /// <summary>Number of GICv3 list registers (the register holds count−1).</summary>
    public int Gicv3NumLrs { get; init; }

    /// <summary>Maximum RECs per realm = 2^order − 1.</summary>
    public int MaxRecsOrder { get; init; }

    public ulong MaxRecs => (1UL << MaxRecsOrder) - 1;

    public ulong Pack() =>
        (ulong)(uint)(S2sz & 0xFF)
        | (Lpa2 ? 1UL << 8 : 0)
        | (SveEnabled ? 1UL << 9 : 0)
        | ((ulong)(uint)(SveVl & 0xF) << 10)
        | ((ulong)(uint)(NumBps & 0x3F) << 14)
        | ((ulong)(uint)(NumWps & 0x3F) << 20)
        | (PmuEnabled ? 1UL << 26 : 0)
        | ((ulong)(uint)(PmuNumCtrs & 0x1F) << 27)
        | (HashSha256 ? 1UL << 32 : 0)
        | (HashSha512 ? 1UL << 33 : 0)
        | ((ulong)(uint)((Gicv3NumLrs - 1) & 0xF) << 34)
        | ((ulong)(uint)(MaxRecsOrder & 0xF) << 38);

    public static FeatureRegister0 Unpack(ulong value) => new()
    {
        S2sz = (int)(value & 0xFF),
        Lpa2 = (value & (1UL << 8)) != 0,
        SveEnabled = (value & (1UL << 9)) != 0,
        SveVl = (int)((value >> 10) & 0xF),
        NumBps = (int)((value >> 14) & 0x3F),
        NumWps = (int)((value >> 20) & 0x3F),
        PmuEnabled = (value & (1UL << 26)) != 0,
        PmuNumCtrs = (int)((value >> 27) & 0x1F),
        HashSha256 = (value & (1UL << 32)) != 0,
        HashSha512 = (value & (1UL << 33)) != 0,
        Gicv3NumLrs = (int)((value >> 34) & 0xF) + 1,
        MaxRecsOrder = (int)((value >> 38) & 0xF),
    };

    /// <summary>Why this register cannot describe an RMM, or null when it can.</summary>
    public string? Validate(ulong packedValue)
    {
        if (packedValue >> 42 != 0)
        {
            return "bits [63:42] of feature register 0 must be zero";
        }

        int maxS2sz = Lpa2 ? 52 : 48;
        if (S2sz < 32 || S2sz > maxS2sz)
        {
            return $"S2SZ {S2sz} is outside 32..{maxS2sz}";
        }

        if (NumBps < 1 || NumWps < 1)
        {
            return "NUM_BPS and NUM_WPS must be at least 1";
        }

        if (!HashSha256 && !HashSha512)
        {
            return "at least one hash algorithm must be offered";
        }

        if (MaxRecsOrder == 0)
        {
            return "MAX_RECS_ORDER must be at least 1";
        }

        return null;
    }
}

/// <summary>How an RMM instance is built: its feature register and the PE features it sees.</summary>
public sealed record RmmConfig
{
    public FeatureRegister0 Features { get; init; } = FeatureRegister0.ReferenceHostBuild;

    /// <summary>VMID width: 8, or 16 with FEAT_VMID16.</summary>
    public int VmidBits { get; init; } = 16;

    /// <summary>FEAT_HPMN0: a realm may ask for a PMU with zero event counters.</summary>
    public bool FeatHpmn0 { get; init; }

    /// <summary>The platform's attestation identity: the keys and claims behind every token (seeded by default).</summary>
    public CcaSim.Attestation.PlatformDescription Attestation { get; init; } = CcaSim.Attestation.PlatformDescription.Default;

    /// <summary>Why this configuration is unusable, or null.</summary>
    public string? Validate()
    {
        if (VmidBits is not (8 or 16))
        {
            return $"VMID width must be 8 or 16 bits (was {VmidBits})";
        }

        return Features.Validate(Features.Pack());
    }
}
