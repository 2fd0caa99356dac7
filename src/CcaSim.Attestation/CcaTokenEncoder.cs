using System.Formats.Cbor;
using System.Security.Cryptography;

namespace CcaSim.Attestation;

/// <summary>
/// Low-level encoder of the CCA attestation token (attestation.md §1–§3, rmm-1.0.md §9). Writes exactly what it is
/// given (no size checks: tests use it to build malformed tokens); <see cref="PlatformDescription"/> is the checked,
/// high-level entry point. All CBOR is definite-length with shortest-form heads; map keys are written in the
/// <see cref="ClaimLayout"/> order rather than sorted, because TF-RMM does not sort.
/// </summary>
public static class CcaTokenEncoder
{
    // RFC 9052 §2: COSE_Sign1 is CBOR tag 18.
    private const CborTag CoseSign1Tag = (CborTag)18;

    /// <summary>Encodes the realm claims map (payload of the realm COSE_Sign1). A null profile omits claim 265.</summary>
    public static byte[] EncodeRealmClaims(RealmClaims claims, ClaimLayout? layout = null)
    {
        layout ??= ClaimLayout.TfRmm;
        var present = new List<long>
        {
            ClaimKeys.Challenge, ClaimKeys.RealmPersonalizationValue, ClaimKeys.RealmPublicKey, ClaimKeys.RealmHashAlgorithm,
            ClaimKeys.RealmPublicKeyHashAlgorithm, ClaimKeys.RealmInitialMeasurement, ClaimKeys.RealmExtensibleMeasurements,
        };
        if (claims.Profile is not null)
        {
            present.Add(ClaimKeys.Profile);
        }

        var w = new CborWriter(CborConformanceMode.Strict);
        w.WriteStartMap(present.Count);
        foreach (long key in Ordered(layout.RealmOrder, present, "realm"))
        {
            w.WriteInt64(key);
            switch (key)
            {
                case ClaimKeys.Challenge: w.WriteByteString(claims.Challenge); break;
                case ClaimKeys.RealmPersonalizationValue: w.WriteByteString(claims.PersonalizationValue); break;
                case ClaimKeys.RealmPublicKey: w.WriteByteString(claims.PublicKey); break;
                case ClaimKeys.RealmHashAlgorithm: w.WriteTextString(claims.HashAlgorithm); break;
                case ClaimKeys.RealmPublicKeyHashAlgorithm: w.WriteTextString(claims.PublicKeyHashAlgorithm); break;
                case ClaimKeys.Profile: w.WriteTextString(claims.Profile!); break;
                case ClaimKeys.RealmInitialMeasurement: w.WriteByteString(claims.InitialMeasurement); break;
                default:
                    w.WriteStartArray(claims.ExtensibleMeasurements.Count);
                    foreach (byte[] rem in claims.ExtensibleMeasurements)
                    {
                        w.WriteByteString(rem);
                    }

                    w.WriteEndArray();
                    break;
            }
        }

        w.WriteEndMap();
        return w.Encode();
    }

    /// <summary>Encodes the platform claims map (payload of the platform COSE_Sign1). A null verification service is omitted.</summary>
    public static byte[] EncodePlatformClaims(PlatformClaims claims, ClaimLayout? layout = null)
    {
        layout ??= ClaimLayout.TfRmm;
        var present = new List<long>
        {
            ClaimKeys.Profile, ClaimKeys.Challenge, ClaimKeys.PlatformImplementationId, ClaimKeys.PlatformInstanceId, ClaimKeys.PlatformConfig,
            ClaimKeys.PlatformLifecycle, ClaimKeys.PlatformHashAlgorithm, ClaimKeys.PlatformSoftwareComponents,
        };
        if (claims.VerificationService is not null)
        {
            present.Add(ClaimKeys.PlatformVerificationService);
        }

        var w = new CborWriter(CborConformanceMode.Strict);
        w.WriteStartMap(present.Count);
        foreach (long key in Ordered(layout.PlatformOrder, present, "platform"))
        {
            w.WriteInt64(key);
            switch (key)
            {
                case ClaimKeys.Profile: w.WriteTextString(claims.Profile); break;
                case ClaimKeys.Challenge: w.WriteByteString(claims.Challenge); break;
                case ClaimKeys.PlatformImplementationId: w.WriteByteString(claims.ImplementationId); break;
                case ClaimKeys.PlatformInstanceId: w.WriteByteString(claims.InstanceId); break;
                case ClaimKeys.PlatformConfig: w.WriteByteString(claims.Config); break;
                case ClaimKeys.PlatformLifecycle: w.WriteUInt64(claims.Lifecycle); break;
                case ClaimKeys.PlatformHashAlgorithm: w.WriteTextString(claims.HashAlgorithm); break;
                case ClaimKeys.PlatformVerificationService: w.WriteTextString(claims.VerificationService!); break;
                default:
                    w.WriteStartArray(claims.SoftwareComponents.Count);
                    foreach (SoftwareComponent c in claims.SoftwareComponents)
                    {
                        WriteComponent(w, c, layout);
                    }

                    w.WriteEndArray();
                    break;
            }
        }

        w.WriteEndMap();
        return w.Encode();
    }

    /// <summary>
    /// Signs a claims payload as a tagged COSE_Sign1 (RFC 9052 §4.2) with protected header {1: alg} and an empty
    /// unprotected map (d2 84 44 a1 01 38 22 a0 … for ES384). The algorithm follows the key's curve: P-256 → ES256,
    /// P-384 → ES384, P-521 → ES512. The signature is deterministic ECDSA (RFC 6979), so the same key and payload
    /// always give the same bytes; a verifier cannot tell it from a randomised one.
    /// </summary>
    /// <exception cref="ArgumentException">The key is public-only or not on one of the three curves.</exception>
    public static byte[] Sign(ReadOnlySpan<byte> payload, ECParameters key)
    {
        HashAlgorithmName hash = DeterministicEcdsa.HashFor(key);
        byte[] protectedHeader = EncodeProtectedHeader(CoseAlgorithm(hash));
        byte[] signature = DeterministicEcdsa.SignData(key, EncodeSigStructure(protectedHeader, payload), hash);

        var w = new CborWriter(CborConformanceMode.Strict);
        w.WriteTag(CoseSign1Tag);
        w.WriteStartArray(4);
        w.WriteByteString(protectedHeader);
        w.WriteStartMap(0);
        w.WriteEndMap();
        w.WriteByteString(payload);
        w.WriteByteString(signature);
        w.WriteEndArray();
        return w.Encode();
    }

    /// <summary>Signs with the private parameters of an <see cref="ECDsa"/> key (see <see cref="Sign(ReadOnlySpan{byte}, ECParameters)"/>).</summary>
    /// <exception cref="ArgumentException">The key is not on P-256, P-384 or P-521.</exception>
    /// <exception cref="CryptographicException">The key has no exportable private part.</exception>
    public static byte[] Sign(ReadOnlySpan<byte> payload, ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Sign(payload, key.ExportParameters(includePrivateParameters: true));
    }

    // RFC 9053 §2.1: ES256 = -7, ES384 = -35, ES512 = -36.
    private static long CoseAlgorithm(HashAlgorithmName hash) =>
        hash == HashAlgorithmName.SHA256 ? -7 : hash == HashAlgorithmName.SHA384 ? -35 : -36;

    private static byte[] EncodeProtectedHeader(long alg)
    {
        var w = new CborWriter(CborConformanceMode.Strict);
        w.WriteStartMap(1);
        w.WriteInt64(1);
        w.WriteInt64(alg);
        w.WriteEndMap();
        return w.Encode();
    }

    // RFC 9052 §4.4: Sig_structure = ["Signature1", body_protected, external_aad = h'', payload].
    private static byte[] EncodeSigStructure(byte[] protectedHeader, ReadOnlySpan<byte> payload)
    {
        var w = new CborWriter(CborConformanceMode.Strict);
        w.WriteStartArray(4);
        w.WriteTextString("Signature1");
        w.WriteByteString(protectedHeader);
        w.WriteByteString([]);
        w.WriteByteString(payload);
        w.WriteEndArray();
        return w.Encode();
    }

    /// <summary>Wraps the two signed tokens in the CCA token collection: tag 399, map {44234: bstr, 44241: bstr}.</summary>
    public static byte[] EncodeCollection(ReadOnlySpan<byte> platformToken, ReadOnlySpan<byte> realmToken)
    {
        var w = new CborWriter(CborConformanceMode.Strict);
        w.WriteTag((CborTag)ClaimKeys.CollectionTag);
        w.WriteStartMap(2);
        w.WriteInt64(ClaimKeys.PlatformToken);
        w.WriteByteString(platformToken);
        w.WriteInt64(ClaimKeys.RealmToken);
        w.WriteByteString(realmToken);
        w.WriteEndMap();
        return w.Encode();
    }

    private static void WriteComponent(CborWriter w, SoftwareComponent c, ClaimLayout layout)
    {
        var present = new List<int> { ClaimKeys.ComponentMeasurement, ClaimKeys.ComponentSignerId };
        if (c.Type is not null)
        {
            present.Add(ClaimKeys.ComponentType);
        }

        if (c.Version is not null)
        {
            present.Add(ClaimKeys.ComponentVersion);
        }

        if (c.HashAlgorithm is not null)
        {
            present.Add(ClaimKeys.ComponentHashAlgorithm);
        }

        w.WriteStartMap(present.Count);
        foreach (int key in Ordered(layout.SoftwareComponentOrder, present, "software component"))
        {
            w.WriteInt32(key);
            switch (key)
            {
                case ClaimKeys.ComponentType: w.WriteTextString(c.Type!); break;
                case ClaimKeys.ComponentMeasurement: w.WriteByteString(c.Measurement); break;
                case ClaimKeys.ComponentVersion: w.WriteTextString(c.Version!); break;
                case ClaimKeys.ComponentSignerId: w.WriteByteString(c.SignerId); break;
                default: w.WriteTextString(c.HashAlgorithm!); break;
            }
        }

        w.WriteEndMap();
    }

    private static IEnumerable<T> Ordered<T>(IReadOnlyList<T> order, List<T> present, string what)
    {
        foreach (T key in present)
        {
            if (!order.Contains(key))
            {
                throw new ArgumentException($"the {what} layout does not place key {key}");
            }
        }

        return order.Where(present.Contains).Distinct();
    }
}
