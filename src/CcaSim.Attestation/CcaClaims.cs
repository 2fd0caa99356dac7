using System.Security.Cryptography;

namespace CcaSim.Attestation;

/// <summary>
/// Claim-level parsing and checking of bare (unsigned) realm and platform claim sets, against the tables of
/// attestation.md §2–§3. Every problem is reported as a named <see cref="TokenFailure"/>; nothing throws. Unknown
/// claims (integer or text keys) are ignored, as the EAT rules and both Veraison verifiers require.
/// </summary>
public static class CcaClaims
{
    private static readonly string[] RealmMeasurementAlgorithms = [ClaimValues.Sha256, ClaimValues.Sha512];
    private static readonly string[] HashAlgorithms = [ClaimValues.Sha256, ClaimValues.Sha384, ClaimValues.Sha512];

    /// <summary>Parses and checks a realm claims map (payload of the realm token).</summary>
    public static ClaimsParseResult<RealmClaims> ParseRealmClaims(ReadOnlyMemory<byte> encoded)
    {
        var failures = new List<TokenFailure>();
        var warnings = new List<string>();
        Dictionary<long, ReadOnlyMemory<byte>>? map = CborMaps.TryReadIntKeyedMap(encoded, out string? error);
        if (map is null)
        {
            failures.Add(new TokenFailure(TokenCheck.RealmClaims, error ?? "not a map"));
            return new ClaimsParseResult<RealmClaims>(null, failures, warnings);
        }

        string? profile = null;
        if (map.TryGetValue(ClaimKeys.Profile, out ReadOnlyMemory<byte> p))
        {
            profile = CborMaps.TryReadText(p);
            if (profile != ClaimValues.RealmProfile)
            {
                failures.Add(new TokenFailure(TokenCheck.RealmProfile, profile is null ? "realm profile (265) is not a text string" : $"unknown realm profile \"{profile}\""));
            }
        }

        byte[] challenge = Bytes(map, ClaimKeys.Challenge, TokenCheck.RealmChallenge, "realm challenge (10)", n => n == 64, "64 bytes", failures);
        byte[] rpv = Bytes(map, ClaimKeys.RealmPersonalizationValue, TokenCheck.RealmPersonalizationValue, "personalization value (44235)", n => n == 64, "64 bytes", failures);
        byte[] rim = Bytes(map, ClaimKeys.RealmInitialMeasurement, TokenCheck.RealmInitialMeasurement, "RIM (44238)", AttestationHash.IsDigestSize, "32, 48 or 64 bytes", failures);
        string hashAlgorithm = Text(map, ClaimKeys.RealmHashAlgorithm, TokenCheck.RealmHashAlgorithm, "realm hash algorithm (44236)", RealmMeasurementAlgorithms, failures);
        string keyHashAlgorithm = Text(map, ClaimKeys.RealmPublicKeyHashAlgorithm, TokenCheck.RealmPublicKeyHashAlgorithm, "RAK hash algorithm (44240)", HashAlgorithms, failures);
        byte[] publicKey = Bytes(map, ClaimKeys.RealmPublicKey, TokenCheck.RealmPublicKey, "RAK (44237)", _ => true, "", failures);

        var rems = new List<byte[]>();
        if (!map.TryGetValue(ClaimKeys.RealmExtensibleMeasurements, out ReadOnlyMemory<byte> remsEncoded))
        {
            failures.Add(new TokenFailure(TokenCheck.RealmExtensibleMeasurements, "REMs (44239) missing"));
        }
        else if (CborMaps.TryReadArray(remsEncoded) is not { } items)
        {
            failures.Add(new TokenFailure(TokenCheck.RealmExtensibleMeasurements, "REMs (44239) is not an array"));
        }
        else
        {
            if (items.Count != 4)
            {
                failures.Add(new TokenFailure(TokenCheck.RealmExtensibleMeasurements, $"REMs (44239) has {items.Count} entries, not 4"));
            }

            for (int i = 0; i < items.Count; i++)
            {
                byte[]? rem = CborMaps.TryReadBytes(items[i]);
                if (rem is null || !AttestationHash.IsDigestSize(rem.Length))
                {
                    failures.Add(new TokenFailure(TokenCheck.RealmExtensibleMeasurements, $"REM{i + 1} is not a bstr of 32, 48 or 64 bytes"));
                }

                rems.Add(rem ?? []);
            }
        }

        var claims = new RealmClaims
        {
            Challenge = challenge,
            PersonalizationValue = rpv,
            PublicKey = publicKey,
            HashAlgorithm = hashAlgorithm,
            PublicKeyHashAlgorithm = keyHashAlgorithm,
            Profile = profile,
            InitialMeasurement = rim,
            ExtensibleMeasurements = rems,
        };

        if (map.ContainsKey(ClaimKeys.RealmPublicKey) && publicKey.Length > 0 && TryDecodeRealmPublicKey(claims, out string? keyError) is null)
        {
            failures.Add(new TokenFailure(TokenCheck.RealmPublicKey, keyError!));
        }

        // Tolerated by both Veraison verifiers (cca-token-02 carries 64-byte measurements under "sha-256"): warn only.
        int digest = AttestationHash.DigestSize(hashAlgorithm);
        if (digest != 0 && rim.Length != 0 && rim.Length != digest)
        {
            warnings.Add($"RIM is {rim.Length} bytes but {hashAlgorithm} digests are {digest}");
        }

        if (rim.Length != 0 && rems.Any(r => r.Length != 0 && r.Length != rim.Length))
        {
            warnings.Add("REM sizes differ from the RIM size");
        }

        return new ClaimsParseResult<RealmClaims>(claims, failures, warnings);
    }

    /// <summary>Parses and checks a platform claims map (payload of the platform token).</summary>
    public static ClaimsParseResult<PlatformClaims> ParsePlatformClaims(ReadOnlyMemory<byte> encoded)
    {
        var failures = new List<TokenFailure>();
        var warnings = new List<string>();
        Dictionary<long, ReadOnlyMemory<byte>>? map = CborMaps.TryReadIntKeyedMap(encoded, out string? error);
        if (map is null)
        {
            failures.Add(new TokenFailure(TokenCheck.PlatformClaims, error ?? "not a map"));
            return new ClaimsParseResult<PlatformClaims>(null, failures, warnings);
        }

        string profile = Text(map, ClaimKeys.Profile, TokenCheck.PlatformProfile, "platform profile (265)", [ClaimValues.PlatformProfile, ClaimValues.LegacyPlatformProfile], failures);
        byte[] challenge = Bytes(map, ClaimKeys.Challenge, TokenCheck.PlatformChallenge, "platform challenge (10)", AttestationHash.IsDigestSize, "32, 48 or 64 bytes", failures);
        byte[] implementationId = Bytes(map, ClaimKeys.PlatformImplementationId, TokenCheck.PlatformImplementationId, "implementation id (2396)", n => n == 32, "32 bytes", failures);
        byte[] instanceId = Bytes(map, ClaimKeys.PlatformInstanceId, TokenCheck.PlatformInstanceId, "instance id (256)", n => n == 33, "33 bytes", failures);
        if (instanceId.Length == 33 && instanceId[0] != 0x01)
        {
            failures.Add(new TokenFailure(TokenCheck.PlatformInstanceId, $"instance id (256) must start with 0x01 (UEID RAND), not 0x{instanceId[0]:x2}"));
        }

        byte[] config = Bytes(map, ClaimKeys.PlatformConfig, TokenCheck.PlatformConfig, "config (2401)", _ => true, "", failures);
        string hashAlgorithm = Text(map, ClaimKeys.PlatformHashAlgorithm, TokenCheck.PlatformHashAlgorithm, "platform hash algorithm (2402)", HashAlgorithms, failures);

        ulong lifecycle = 0;
        if (!map.TryGetValue(ClaimKeys.PlatformLifecycle, out ReadOnlyMemory<byte> lc))
        {
            failures.Add(new TokenFailure(TokenCheck.PlatformLifecycle, "lifecycle (2395) missing"));
        }
        else if (CborMaps.TryReadUInt(lc) is not { } value)
        {
            failures.Add(new TokenFailure(TokenCheck.PlatformLifecycle, "lifecycle (2395) is not an unsigned integer"));
        }
        else
        {
            lifecycle = value;
            if (!IsLifecycle(value))
            {
                failures.Add(new TokenFailure(TokenCheck.PlatformLifecycle, $"lifecycle 0x{value:x} is outside 0x0000-00ff, 0x1000-10ff … 0x6000-60ff"));
            }
        }

        string? service = null;
        if (map.TryGetValue(ClaimKeys.PlatformVerificationService, out ReadOnlyMemory<byte> vs))
        {
            service = CborMaps.TryReadText(vs);
            if (string.IsNullOrEmpty(service))
            {
                failures.Add(new TokenFailure(TokenCheck.PlatformVerificationService, "verification service (2400) is not a non-empty text string"));
            }
        }

        var components = new List<SoftwareComponent>();
        if (!map.TryGetValue(ClaimKeys.PlatformSoftwareComponents, out ReadOnlyMemory<byte> sw))
        {
            failures.Add(new TokenFailure(TokenCheck.PlatformSoftwareComponents, "software components (2399) missing"));
        }
        else if (CborMaps.TryReadArray(sw) is not { Count: > 0 } items)
        {
            failures.Add(new TokenFailure(TokenCheck.PlatformSoftwareComponents, "software components (2399) is not a non-empty array"));
        }
        else
        {
            for (int i = 0; i < items.Count; i++)
            {
                components.Add(ParseComponent(items[i], i, failures));
            }
        }

        var claims = new PlatformClaims
        {
            Profile = profile,
            Challenge = challenge,
            ImplementationId = implementationId,
            InstanceId = instanceId,
            Config = config,
            Lifecycle = lifecycle,
            SoftwareComponents = components,
            VerificationService = service,
            HashAlgorithm = hashAlgorithm,
        };
        return new ClaimsParseResult<PlatformClaims>(claims, failures, warnings);
    }

    /// <summary>
    /// The RAK of a realm claim set in the form its profile dictates: COSE_Key when the profile claim is present,
    /// raw 97-byte point when it is absent (both Veraison verifiers decide the same way; attestation.md §2).
    /// </summary>
    public static ECParameters? TryDecodeRealmPublicKey(RealmClaims claims, out string? error)
    {
        ECParameters? key = claims.Profile is null
            ? AttestationKeys.TryDecodeRawPoint(claims.PublicKey, out error)
            : AttestationKeys.TryDecodeCoseKey(claims.PublicKey, out error);
        if (key is null)
        {
            error = (claims.Profile is null ? "legacy form (no realm profile): " : "rel0 form: ") + error;
            return null;
        }

        try
        {
            // Rejects points that are not on P-384 here, so the signature check never sees an invalid key.
            using ECDsa k = AttestationKeys.CreateKey(key.Value);
            return key;
        }
        catch (CryptographicException e)
        {
            error = "RAK is not a valid P-384 public key: " + e.Message;
            return null;
        }
    }

    /// <summary>PSA lifecycle ranges 0x0000-00ff, 0x1000-10ff, …, 0x6000-60ff (attestation.md §3).</summary>
    public static bool IsLifecycle(ulong value) => value <= 0x60ff && (value & 0x0f00) == 0;

    private static SoftwareComponent ParseComponent(ReadOnlyMemory<byte> encoded, int index, List<TokenFailure> failures)
    {
        string where = $"software component {index}";
        Dictionary<long, ReadOnlyMemory<byte>>? map = CborMaps.TryReadIntKeyedMap(encoded, out string? error);
        if (map is null)
        {
            failures.Add(new TokenFailure(TokenCheck.PlatformSoftwareComponents, $"{where}: {error}"));
            return new SoftwareComponent { Measurement = [], SignerId = [] };
        }

        // The component map is closed (PSA CDDL; rust-ccatoken rejects other keys).
        foreach (long key in map.Keys.Where(k => k is not (1 or 2 or 4 or 5 or 6)))
        {
            failures.Add(new TokenFailure(TokenCheck.PlatformSoftwareComponents, $"{where}: unexpected key {key}"));
        }

        string? Optional(int key, string name)
        {
            if (!map.TryGetValue(key, out ReadOnlyMemory<byte> v))
            {
                return null;
            }

            string? s = CborMaps.TryReadText(v);
            if (s is null)
            {
                failures.Add(new TokenFailure(TokenCheck.PlatformSoftwareComponents, $"{where}: {name} ({key}) is not a text string"));
            }

            return s;
        }

        byte[] Digest(int key, string name)
        {
            byte[]? b = map.TryGetValue(key, out ReadOnlyMemory<byte> v) ? CborMaps.TryReadBytes(v) : null;
            if (b is null || !AttestationHash.IsDigestSize(b.Length))
            {
                failures.Add(new TokenFailure(TokenCheck.PlatformSoftwareComponents, $"{where}: {name} ({key}) must be a bstr of 32, 48 or 64 bytes"));
            }

            return b ?? [];
        }

        string? algorithm = Optional(ClaimKeys.ComponentHashAlgorithm, "hash algorithm");
        if (algorithm is not null && AttestationHash.DigestSize(algorithm) == 0)
        {
            failures.Add(new TokenFailure(TokenCheck.PlatformSoftwareComponents, $"{where}: unknown hash algorithm \"{algorithm}\""));
        }

        return new SoftwareComponent
        {
            Type = Optional(ClaimKeys.ComponentType, "type"),
            Measurement = Digest(ClaimKeys.ComponentMeasurement, "measurement"),
            Version = Optional(ClaimKeys.ComponentVersion, "version"),
            SignerId = Digest(ClaimKeys.ComponentSignerId, "signer id"),
            HashAlgorithm = algorithm,
        };
    }

    private static byte[] Bytes(Dictionary<long, ReadOnlyMemory<byte>> map, long key, TokenCheck check, string name, Func<int, bool> sizeOk, string sizeText, List<TokenFailure> failures)
    {
        if (!map.TryGetValue(key, out ReadOnlyMemory<byte> v))
        {
            failures.Add(new TokenFailure(check, $"{name} missing"));
            return [];
        }

        byte[]? b = CborMaps.TryReadBytes(v);
        if (b is null)
        {
            failures.Add(new TokenFailure(check, $"{name} is not a byte string"));
            return [];
        }

        if (!sizeOk(b.Length))
        {
            failures.Add(new TokenFailure(check, $"{name} is {b.Length} bytes, expected {sizeText}"));
        }

        return b;
    }

    private static string Text(Dictionary<long, ReadOnlyMemory<byte>> map, long key, TokenCheck check, string name, string[] allowed, List<TokenFailure> failures)
    {
        if (!map.TryGetValue(key, out ReadOnlyMemory<byte> v))
        {
            failures.Add(new TokenFailure(check, $"{name} missing"));
            return "";
        }

        string? s = CborMaps.TryReadText(v);
        if (s is null)
        {
            failures.Add(new TokenFailure(check, $"{name} is not a text string"));
            return "";
        }

        if (!allowed.Contains(s))
        {
            failures.Add(new TokenFailure(check, $"{name} \"{s}\" is not one of {string.Join(", ", allowed)}"));
        }

        return s;
    }
}
