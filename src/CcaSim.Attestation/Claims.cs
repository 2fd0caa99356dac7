namespace CcaSim.Attestation;

/// <summary>
/// The realm token claims (attestation.md §2). Byte arrays are held as given: <see cref="PublicKey"/> is the exact
/// content of claim 44237 because the platform challenge binds those bytes, not a re-encoding (attestation.md §4).
/// </summary>
public sealed record RealmClaims
{
    /// <summary>Claim 10: the 64 bytes passed to RSI_ATTESTATION_TOKEN_INIT in X1..X8.</summary>
    public required byte[] Challenge { get; init; }

    /// <summary>Claim 44235: the RPV from RmiRealmParams (64 bytes).</summary>
    public required byte[] PersonalizationValue { get; init; }

    /// <summary>Claim 44237: a CBOR COSE_Key (rel0) or a raw 97-byte 0x04‖X‖Y point (legacy, no profile).</summary>
    public required byte[] PublicKey { get; init; }

    /// <summary>Claim 44236: "sha-256" or "sha-512", the realm's measurement algorithm.</summary>
    public required string HashAlgorithm { get; init; }

    /// <summary>Claim 44240: algorithm of the platform-challenge binding; TF-RMM hard-codes "sha-256".</summary>
    public string PublicKeyHashAlgorithm { get; init; } = ClaimValues.Sha256;

    /// <summary>Claim 265; null means the legacy form (and a raw RAK point).</summary>
    public string? Profile { get; init; } = ClaimValues.RealmProfile;

    /// <summary>Claim 44238: the RIM.</summary>
    public required byte[] InitialMeasurement { get; init; }

    /// <summary>Claim 44239: REM[0..3].</summary>
    public required IReadOnlyList<byte[]> ExtensibleMeasurements { get; init; }
}

/// <summary>The platform token claims (attestation.md §3), as the HES/RSE would sign them.</summary>
public sealed record PlatformClaims
{
    /// <summary>Claim 265: the platform profile (current or legacy).</summary>
    public string Profile { get; init; } = ClaimValues.PlatformProfile;

    /// <summary>Claim 10: H(realm claim 44237 bytes), which binds the realm token to this platform token.</summary>
    public required byte[] Challenge { get; init; }

    /// <summary>Claim 2396: 32 bytes naming the implementation (e.g. the RoT firmware).</summary>
    public required byte[] ImplementationId { get; init; }

    /// <summary>Claim 256: EAT UEID of type RAND, 33 bytes starting with 0x01; verifiers look up the CPAK by it.</summary>
    public required byte[] InstanceId { get; init; }

    /// <summary>Claim 2401: platform configuration (mandatory, any length).</summary>
    public required byte[] Config { get; init; }

    /// <summary>Claim 2395: PSA security lifecycle.</summary>
    public ulong Lifecycle { get; init; } = ClaimValues.LifecycleSecured;

    /// <summary>Claim 2399: measured boot components (non-empty).</summary>
    public required IReadOnlyList<SoftwareComponent> SoftwareComponents { get; init; }

    /// <summary>Claim 2400 (optional): where a relying party finds the verifier.</summary>
    public string? VerificationService { get; init; }

    /// <summary>Claim 2402: hash algorithm of the platform's measurements.</summary>
    public string HashAlgorithm { get; init; } = ClaimValues.Sha256;
}

/// <summary>One entry of platform claim 2399 (PSA software component).</summary>
public sealed record SoftwareComponent
{
    /// <summary>Key 1 (optional): component type, e.g. "RMM".</summary>
    public string? Type { get; init; }

    /// <summary>Key 2: measurement value (32/48/64 bytes).</summary>
    public required byte[] Measurement { get; init; }

    /// <summary>Key 4 (optional): version text.</summary>
    public string? Version { get; init; }

    /// <summary>Key 5: signer id (hash of the signing key, 32/48/64 bytes).</summary>
    public required byte[] SignerId { get; init; }

    /// <summary>Key 6 (optional): measurement algorithm text id.</summary>
    public string? HashAlgorithm { get; init; } = ClaimValues.Sha256;
}

/// <summary>Which token form a claim set follows; decided, as Veraison does, by the presence of the realm profile.</summary>
public enum TokenForm
{
    /// <summary>Not determined (the realm claims could not be read).</summary>
    Unknown,

    /// <summary>RMM 1.0-rel0: realm profile present, RAK as COSE_Key.</summary>
    Rel0,

    /// <summary>Pre-rel0: no realm profile, RAK as a raw 97-byte point.</summary>
    Legacy,
}
