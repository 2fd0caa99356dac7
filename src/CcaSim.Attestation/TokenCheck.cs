namespace CcaSim.Attestation;

/// <summary>
/// Stable names of the checks a token can fail. Callers (CLI, tests) match on these, so they are API: add, never rename.
/// </summary>
public enum TokenCheck
{
    /// <summary>Collection: not CBOR tag 399 (d9 01 8f).</summary>
    CollectionTag,

    /// <summary>Collection: malformed CBOR, not a map of exactly {44234, 44241}, a value not a bstr, or trailing bytes.</summary>
    CollectionShape,

    /// <summary>Platform token is not a well-formed tagged COSE_Sign1 with an embedded payload.</summary>
    PlatformCose,

    /// <summary>Platform token's protected alg is missing, unsupported, or does not match the CPAK's curve.</summary>
    PlatformAlgorithm,

    /// <summary>The platform key supplied by the caller is unusable (e.g. a point not on its curve).</summary>
    PlatformKey,

    /// <summary>Platform COSE_Sign1 signature does not verify with the supplied CPAK.</summary>
    PlatformSignature,

    /// <summary>Realm token is not a well-formed tagged COSE_Sign1 with an embedded payload.</summary>
    RealmCose,

    /// <summary>Realm token's protected alg is not ES384 (the RAK is P-384).</summary>
    RealmAlgorithm,

    /// <summary>Realm COSE_Sign1 signature does not verify with the RAK carried in claim 44237.</summary>
    RealmSignature,

    /// <summary>H_44240(claim 44237 bytes) differs from the platform challenge.</summary>
    Binding,

    /// <summary>Realm claims payload is not a CBOR map (or has duplicate keys).</summary>
    RealmClaims,

    RealmProfile,
    RealmChallenge,
    RealmPersonalizationValue,

    /// <summary>Claim 44237 missing, not a bstr, or not a P-384 key in the form its profile requires.</summary>
    RealmPublicKey,
    RealmHashAlgorithm,
    RealmPublicKeyHashAlgorithm,
    RealmInitialMeasurement,
    RealmExtensibleMeasurements,

    /// <summary>Platform claims payload is not a CBOR map (or has duplicate keys).</summary>
    PlatformClaims,

    PlatformProfile,
    PlatformChallenge,
    PlatformImplementationId,
    PlatformInstanceId,
    PlatformConfig,
    PlatformLifecycle,
    PlatformSoftwareComponents,
    PlatformVerificationService,
    PlatformHashAlgorithm,

    /// <summary>Realm challenge differs from the expected value the caller supplied.</summary>
    ExpectedChallenge,

    /// <summary>RIM differs from the expected value.</summary>
    ExpectedInitialMeasurement,

    /// <summary>A REM differs from its expected value (the message names the index).</summary>
    ExpectedExtensibleMeasurement,

    /// <summary>RPV differs from the expected value.</summary>
    ExpectedPersonalizationValue,
}

/// <summary>One failed check: its stable name and a human-readable reason.</summary>
public sealed record TokenFailure(TokenCheck Check, string Message)
{
    public override string ToString() => $"{Check}: {Message}";
}

/// <summary>Optional appraisal inputs. Null members are not checked.</summary>
public sealed record VerificationOptions
{
    /// <summary>Expected realm challenge (claim 10), e.g. the nonce the relying party sent.</summary>
    public byte[]? Challenge { get; init; }

    /// <summary>Expected RIM (claim 44238).</summary>
    public byte[]? InitialMeasurement { get; init; }

    /// <summary>Expected REMs by index 0..3; a null entry (or a shorter list) leaves that REM unchecked.</summary>
    public IReadOnlyList<byte[]?>? ExtensibleMeasurements { get; init; }

    /// <summary>Expected RPV (claim 44235).</summary>
    public byte[]? PersonalizationValue { get; init; }

    /// <summary>Reject the legacy form (no realm profile, raw RAK, legacy platform profile), as RMM 1.0-rel0 never emits it.</summary>
    public bool RequireRel0 { get; init; }
}

/// <summary>Outcome of parsing one bare claim set.</summary>
public sealed record ClaimsParseResult<T>(T? Claims, IReadOnlyList<TokenFailure> Failures, IReadOnlyList<string> Warnings)
    where T : class
{
    public bool IsValid => Failures.Count == 0;

    public bool Has(TokenCheck check) => Failures.Any(f => f.Check == check);
}

/// <summary>
/// Outcome of verifying a CCA token: every failed check (empty when valid), advisory warnings, the form, and the
/// decoded claims (as far as they could be read, for reporting).
/// </summary>
public sealed record VerificationResult
{
    public required IReadOnlyList<TokenFailure> Failures { get; init; }

    /// <summary>Inconsistencies verifiers tolerate (e.g. RIM size differs from the realm hash algorithm's digest).</summary>
    public required IReadOnlyList<string> Warnings { get; init; }

    public TokenForm Form { get; init; }

    public RealmClaims? Realm { get; init; }

    public PlatformClaims? Platform { get; init; }

    public bool IsValid => Failures.Count == 0;

    public bool Has(TokenCheck check) => Failures.Any(f => f.Check == check);

    public override string ToString() => IsValid ? "OK" : string.Join("; ", Failures);
}
