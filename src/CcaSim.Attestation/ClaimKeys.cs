namespace CcaSim.Attestation;

/// <summary>
/// CBOR map keys of the CCA attestation token (attestation.md §1–§3, RMM 1.0-rel0 §A7.2, draft-ffm-rats-cca-token).
/// Kept as plain integers because the token is CBOR, not a .NET type: these are the wire values.
/// </summary>
public static class ClaimKeys
{
    /// <summary>CBOR tag of the CCA token collection (d9 01 8f).</summary>
    public const ulong CollectionTag = 399;

    /// <summary>Collection key of the platform token (0xACCA).</summary>
    public const long PlatformToken = 44234;

    /// <summary>Collection key of the realm token (0xACD1).</summary>
    public const long RealmToken = 44241;

    /// <summary>COSE_Sign1 tag (RFC 9052 §4.2); both inner tokens are tagged (d2 84 …).</summary>
    public const ulong CoseSign1Tag = 18;

    // Shared by both claim sets (EAT / PSA keys).
    public const long Profile = 265;
    public const long Challenge = 10;

    // Realm claims (attestation.md §2).
    public const long RealmPersonalizationValue = 44235;
    public const long RealmHashAlgorithm = 44236;
    public const long RealmPublicKey = 44237;
    public const long RealmInitialMeasurement = 44238;
    public const long RealmExtensibleMeasurements = 44239;
    public const long RealmPublicKeyHashAlgorithm = 44240;

    // Platform claims (attestation.md §3).
    public const long PlatformInstanceId = 256;
    public const long PlatformLifecycle = 2395;
    public const long PlatformImplementationId = 2396;
    public const long PlatformSoftwareComponents = 2399;
    public const long PlatformVerificationService = 2400;
    public const long PlatformConfig = 2401;
    public const long PlatformHashAlgorithm = 2402;

    // Software component map keys (PSA token, attestation.md §3).
    public const int ComponentType = 1;
    public const int ComponentMeasurement = 2;
    public const int ComponentVersion = 4;
    public const int ComponentSignerId = 5;
    public const int ComponentHashAlgorithm = 6;
}

/// <summary>Fixed claim values: profiles and the hash-algorithm names (IANA Named Information registry).</summary>
public static class ClaimValues
{
    /// <summary>Realm profile of RMM 1.0-rel0 (claim 265); its presence means the RAK is a COSE_Key.</summary>
    public const string RealmProfile = "tag:arm.com,2023:realm#1.0.0";

    /// <summary>Platform profile of RMM 1.0-rel0 / draft-ffm-rats-cca-token-00.</summary>
    public const string PlatformProfile = "tag:arm.com,2023:cca_platform#1.0.0";

    /// <summary>Legacy platform profile (pre-rel0 TF-RMM/FVP tokens), still accepted by both Veraison verifiers.</summary>
    public const string LegacyPlatformProfile = "http://arm.com/CCA-SSD/1.0.0";

    public const string Sha256 = "sha-256";
    public const string Sha384 = "sha-384";
    public const string Sha512 = "sha-512";

    /// <summary>Platform lifecycle "secured" (PSA security lifecycle 0x3000), the state a deployed CCA platform reports.</summary>
    public const ulong LifecycleSecured = 0x3000;

    /// <summary>COSE algorithm ids (RFC 9053 §2.1): ECDSA with SHA-256/-384/-512.</summary>
    public const int ES256 = -7;
    public const int ES384 = -35;
    public const int ES512 = -36;
}
