namespace CcaSim.Attestation;

/// <summary>
/// The order in which the encoder writes map keys. CBOR maps are unordered for verifiers, but byte-for-byte
/// reproduction of a reference token needs the emitter's order: TF-RMM's realm order differs from the order of the
/// draft-ffm-00 sample that tf-m-tools' iat-verifier produced.
/// </summary>
public sealed record ClaimLayout
{
    /// <summary>TF-RMM realm order 10, 44235, 44237, 44236, 44240, 265, 44238, 44239 (attestation.md §2) and the
    /// fake_host platform order (rmm-1.0.md §9); software component keys ascending.</summary>
    public static ClaimLayout TfRmm { get; } = new()
    {
        RealmOrder = [ClaimKeys.Challenge, ClaimKeys.RealmPersonalizationValue, ClaimKeys.RealmPublicKey, ClaimKeys.RealmHashAlgorithm, ClaimKeys.RealmPublicKeyHashAlgorithm, ClaimKeys.Profile, ClaimKeys.RealmInitialMeasurement, ClaimKeys.RealmExtensibleMeasurements],
        PlatformOrder = [ClaimKeys.Profile, ClaimKeys.Challenge, ClaimKeys.PlatformImplementationId, ClaimKeys.PlatformInstanceId, ClaimKeys.PlatformConfig, ClaimKeys.PlatformLifecycle, ClaimKeys.PlatformHashAlgorithm, ClaimKeys.PlatformVerificationService, ClaimKeys.PlatformSoftwareComponents],
        SoftwareComponentOrder = [ClaimKeys.ComponentType, ClaimKeys.ComponentMeasurement, ClaimKeys.ComponentVersion, ClaimKeys.ComponentSignerId, ClaimKeys.ComponentHashAlgorithm],
    };

    /// <summary>The order of the draft-ffm-rats-cca-token-00 sample token (tf-m-tools cca_example_token.cbor).</summary>
    public static ClaimLayout DraftFfm00Sample { get; } = TfRmm with
    {
        RealmOrder = [ClaimKeys.Profile, ClaimKeys.Challenge, ClaimKeys.RealmHashAlgorithm, ClaimKeys.RealmPublicKeyHashAlgorithm, ClaimKeys.RealmPersonalizationValue, ClaimKeys.RealmPublicKey, ClaimKeys.RealmInitialMeasurement, ClaimKeys.RealmExtensibleMeasurements],
        SoftwareComponentOrder = [ClaimKeys.ComponentType, ClaimKeys.ComponentSignerId, ClaimKeys.ComponentMeasurement, ClaimKeys.ComponentVersion, ClaimKeys.ComponentHashAlgorithm],
    };

    /// <summary>Realm claim keys, in emission order; must list every realm claim key.</summary>
    public required IReadOnlyList<long> RealmOrder { get; init; }

    /// <summary>Platform claim keys, in emission order; must list every platform claim key.</summary>
    public required IReadOnlyList<long> PlatformOrder { get; init; }

    /// <summary>Software component map keys, in emission order.</summary>
    public required IReadOnlyList<int> SoftwareComponentOrder { get; init; }
}
