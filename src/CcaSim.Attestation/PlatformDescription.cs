using System.Security.Cryptography;
using System.Text;

namespace CcaSim.Attestation;

/// <summary>
/// Everything the simulated platform contributes to attestation: the CPAK that signs the platform token (HES/RSE in
/// real hardware), the RAK that EL3 hands to the RMM at boot, and the platform claims. Defaults are derived from a
/// seed so that a run is reproducible (same seed ⇒ same keys and claim bytes); any member can be replaced with
/// <c>with</c>, and keys can be loaded from PEM. Signatures are deterministic ECDSA (RFC 6979), so the same
/// description and claims always give the same token bytes.
/// </summary>
public sealed record PlatformDescription
{
    /// <summary>Seed used by <see cref="Default"/>.</summary>
    public const string DefaultSeed = "ccasim";

    /// <summary>Verification service written by default (the URL form used by the draft-ffm-00 sample).</summary>
    public const string DefaultVerificationService = "https://veraison.example/.well-known/veraison/verification";

    /// <summary>Component types of the default claim 2399: the boot chain of an RSE-based FVP (draft-ffm-00 sample).</summary>
    private static readonly string[] DefaultComponents = ["RSE_BL1_2", "RSE_BL2", "RSE_S", "AP_BL1", "AP_BL2", "SCP_BL1", "SCP_BL2", "AP_BL31", "RMM"];

    /// <summary>The description derived from <see cref="DefaultSeed"/>.</summary>
    public static PlatformDescription Default { get; } = FromSeed(DefaultSeed);

    /// <summary>Platform attestation key (P-384 private; any of P-256/-384/-521 is accepted for signing).</summary>
    public required ECParameters PlatformKey { get; init; }

    /// <summary>Realm attestation key (P-384 private). RMM 1.0 fixes the RAK to ECC P-384.</summary>
    public required ECParameters RealmAttestationKey { get; init; }

    /// <summary>Claim 265 of the platform token.</summary>
    public string Profile { get; init; } = ClaimValues.PlatformProfile;

    /// <summary>Claim 2396 (32 bytes).</summary>
    public required byte[] ImplementationId { get; init; }

    /// <summary>Claim 256 (33 bytes, 0x01 ‖ …). Derived as 0x01 ‖ SHA-256(CPAK public point), as PSA RoTs do.</summary>
    public required byte[] InstanceId { get; init; }

    /// <summary>Claim 2401.</summary>
    public required byte[] Config { get; init; }

    /// <summary>Claim 2395; default 0x3000 (secured).</summary>
    public ulong Lifecycle { get; init; } = ClaimValues.LifecycleSecured;

    /// <summary>Claim 2399.</summary>
    public required IReadOnlyList<SoftwareComponent> SoftwareComponents { get; init; }

    /// <summary>Claim 2400; null omits it.</summary>
    public string? VerificationService { get; init; } = DefaultVerificationService;

    /// <summary>Claim 2402.</summary>
    public string HashAlgorithm { get; init; } = ClaimValues.Sha256;

    /// <summary>Map key order used when encoding both claim sets.</summary>
    public ClaimLayout Layout { get; init; } = ClaimLayout.TfRmm;

    /// <summary>Derives a description from a UTF-8 seed string.</summary>
    public static PlatformDescription FromSeed(string seed) => FromSeed(Encoding.UTF8.GetBytes(seed));

    /// <summary>
    /// Derives keys and claims from <paramref name="seed"/>: each key from SHA-512(seed ‖ label)
    /// (<see cref="AttestationKeys.DeriveP384"/>), each id and measurement from SHA-256(seed ‖ label).
    /// </summary>
    public static PlatformDescription FromSeed(ReadOnlySpan<byte> seed)
    {
        byte[] s = seed.ToArray();
        ECParameters cpak = AttestationKeys.DeriveP384(s, "cca-platform-attestation-key");
        byte[] signer = Derive(s, "signer-id");
        return new PlatformDescription
        {
            PlatformKey = cpak,
            RealmAttestationKey = AttestationKeys.DeriveP384(s, "realm-attestation-key"),
            ImplementationId = Derive(s, "implementation-id"),
            InstanceId = InstanceIdFor(cpak),
            Config = Derive(s, "platform-config"),
            SoftwareComponents = [.. DefaultComponents.Select(name => new SoftwareComponent
            {
                Type = name,
                Measurement = Derive(s, "sw-component:" + name),
                SignerId = signer,
            })],
        };
    }

    /// <summary>The instance id PSA derives from an attestation key: 0x01 (UEID type RAND) ‖ SHA-256(0x04 ‖ X ‖ Y).</summary>
    public static byte[] InstanceIdFor(ECParameters platformKey) =>
        [0x01, .. SHA256.HashData([0x04, .. platformKey.Q.X!, .. platformKey.Q.Y!])];

    /// <summary>Replaces the CPAK with a P-384 private key from PEM and re-derives the instance id from it (verifiers
    /// find the CPAK by instance id, so the two must move together; set <see cref="InstanceId"/> afterwards to override).</summary>
    public PlatformDescription WithPlatformKeyPem(string pem)
    {
        ECParameters key = AttestationKeys.LoadP384PrivateKeyPem(pem);
        return this with { PlatformKey = key, InstanceId = InstanceIdFor(key) };
    }

    /// <summary>Replaces the RAK with a P-384 private key from PEM.</summary>
    public PlatformDescription WithRealmAttestationKeyPem(string pem) =>
        this with { RealmAttestationKey = AttestationKeys.LoadP384PrivateKeyPem(pem) };

    /// <summary>The CPAK public key as SubjectPublicKeyInfo PEM: what a verifier is given as trust anchor.</summary>
    public string ExportPlatformPublicKeyPem() => AttestationKeys.ExportPublicKeyPem(PlatformKey);

    /// <summary>The RAK public key as the 107-byte COSE_Key carried in realm claim 44237.</summary>
    public byte[] RealmPublicKeyCoseKey() => AttestationKeys.EncodeCoseKey(RealmAttestationKey);

    /// <summary>
    /// The platform challenge: SHA-256 of the RAK COSE_Key bytes. The RMM computes it once at boot and the RoT signs
    /// the platform token with it (rmm-1.0.md §9 "Binding"); TF-RMM always uses SHA-256 and says so in claim 44240.
    /// </summary>
    public byte[] PlatformChallenge() => SHA256.HashData(RealmPublicKeyCoseKey());

    /// <summary>The platform claims this description yields (challenge bound to the RAK).</summary>
    public PlatformClaims CreatePlatformClaims() => new()
    {
        Profile = Profile,
        Challenge = PlatformChallenge(),
        ImplementationId = ImplementationId,
        InstanceId = InstanceId,
        Config = Config,
        Lifecycle = Lifecycle,
        SoftwareComponents = SoftwareComponents,
        VerificationService = VerificationService,
        HashAlgorithm = HashAlgorithm,
    };

    /// <summary>The encoded platform claims map (deterministic for a given description).</summary>
    public byte[] EncodePlatformClaims() => CcaTokenEncoder.EncodePlatformClaims(CreatePlatformClaims(), Layout);

    /// <summary>The platform token: platform claims signed by the CPAK as a tagged COSE_Sign1.</summary>
    public byte[] SignPlatformToken()
    {
        return CcaTokenEncoder.Sign(EncodePlatformClaims(), PlatformKey);
    }

    /// <summary>
    /// Builds the rel0 realm claims the RMM emits for a realm: the caller's challenge, the realm's RPV, hash
    /// algorithm, RIM and REMs, plus this platform's RAK and the fixed "sha-256" binding algorithm.
    /// </summary>
    /// <exception cref="ArgumentException">A size does not match RMM 1.0: challenge and RPV 64 bytes, RIM and four REMs of the algorithm's digest size.</exception>
    public RealmClaims CreateRealmClaims(ReadOnlySpan<byte> challenge, ReadOnlySpan<byte> personalizationValue, RealmHashAlgorithm hashAlgorithm, ReadOnlySpan<byte> initialMeasurement, IReadOnlyList<byte[]> extensibleMeasurements)
    {
        int digest = AttestationHash.DigestSize(hashAlgorithm);
        if (challenge.Length != 64)
        {
            throw new ArgumentException("the realm challenge is 64 bytes", nameof(challenge));
        }

        if (personalizationValue.Length != 64)
        {
            throw new ArgumentException("the RPV is 64 bytes", nameof(personalizationValue));
        }

        if (initialMeasurement.Length != digest)
        {
            throw new ArgumentException($"the RIM is {digest} bytes for {hashAlgorithm}", nameof(initialMeasurement));
        }

        if (extensibleMeasurements.Count != 4 || extensibleMeasurements.Any(m => m.Length != digest))
        {
            throw new ArgumentException($"there are 4 REMs of {digest} bytes each", nameof(extensibleMeasurements));
        }

        return new RealmClaims
        {
            Challenge = challenge.ToArray(),
            PersonalizationValue = personalizationValue.ToArray(),
            PublicKey = RealmPublicKeyCoseKey(),
            HashAlgorithm = AttestationHash.Name(hashAlgorithm),
            PublicKeyHashAlgorithm = ClaimValues.Sha256,
            Profile = ClaimValues.RealmProfile,
            InitialMeasurement = initialMeasurement.ToArray(),
            ExtensibleMeasurements = [.. extensibleMeasurements.Select(m => m.ToArray())],
        };
    }

    /// <summary>The realm token: realm claims signed ES384 by the RAK.</summary>
    public byte[] SignRealmToken(RealmClaims claims)
    {
        return CcaTokenEncoder.Sign(CcaTokenEncoder.EncodeRealmClaims(claims, Layout), RealmAttestationKey);
    }

    /// <summary>The complete CCA token (tag 399 collection) for the given realm claims.</summary>
    public byte[] CreateToken(RealmClaims claims) => CcaTokenEncoder.EncodeCollection(SignPlatformToken(), SignRealmToken(claims));

    private static byte[] Derive(byte[] seed, string label) => SHA256.HashData([.. seed, .. Encoding.UTF8.GetBytes(label)]);
}
