using System.Formats.Cbor;
using System.Security.Cryptography;
using System.Security.Cryptography.Cose;

namespace CcaSim.Attestation;

/// <summary>
/// Verifies a CCA attestation token (attestation.md §4): collection structure, both COSE_Sign1 envelopes, claim
/// presence/types/sizes, the platform signature (CPAK from the caller), the realm signature (RAK from claim
/// 44237), the binding H_44240(44237 bytes) == platform challenge, and optional expected values. Every failure is
/// collected and named; malformed input never throws. Accepts the rel0 form and the legacy form (no realm profile,
/// raw RAK, legacy platform profile) used by the TF-RMM/FVP and Veraison test vectors.
/// </summary>
public static class CcaTokenVerifier
{
    /// <summary>Verifies with the CPAK given as a SubjectPublicKeyInfo (or private-key) PEM.</summary>
    public static VerificationResult VerifyWithPem(ReadOnlySpan<byte> token, string platformKeyPem, VerificationOptions? options = null)
    {
        ECParameters key;
        try
        {
            key = AttestationKeys.LoadPublicKeyPem(platformKeyPem);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            VerificationResult r = Verify(token, (ECParameters?)null, options);
            return r with { Failures = [new TokenFailure(TokenCheck.PlatformKey, "platform key PEM unreadable: " + e.Message), .. r.Failures.Where(f => f.Check != TokenCheck.PlatformKey)] };
        }

        return Verify(token, key, options);
    }

    /// <summary>Verifies with the CPAK as an <see cref="ECDsa"/> (only its public part is used).</summary>
    public static VerificationResult Verify(ReadOnlySpan<byte> token, ECDsa platformKey, VerificationOptions? options = null) =>
        Verify(token, platformKey.ExportParameters(includePrivateParameters: false), options);

    /// <summary>
    /// Verifies with the CPAK as public parameters (e.g. from <see cref="AttestationKeys.FromJwk(string)"/>). An
    /// invalid point is reported as <see cref="TokenCheck.PlatformKey"/>. A null key skips only the platform signature
    /// and reports <see cref="TokenCheck.PlatformKey"/>, so the result is never valid without a trust anchor.
    /// </summary>
    public static VerificationResult Verify(ReadOnlySpan<byte> token, ECParameters? platformKey, VerificationOptions? options = null)
    {
        options ??= new VerificationOptions();
        var failures = new List<TokenFailure>();
        var warnings = new List<string>();

        (byte[]? platformBytes, byte[]? realmBytes) = ReadCollection(token.ToArray(), failures);
        if (platformBytes is null || realmBytes is null)
        {
            return new VerificationResult { Failures = failures, Warnings = warnings };
        }

        (CoseSign1Message? platformMsg, int platformAlg) = ReadSign1(platformBytes, TokenCheck.PlatformCose, TokenCheck.PlatformAlgorithm, "platform", failures);
        (CoseSign1Message? realmMsg, int realmAlg) = ReadSign1(realmBytes, TokenCheck.RealmCose, TokenCheck.RealmAlgorithm, "realm", failures);

        PlatformClaims? platform = null;
        if (platformMsg?.Content is { } platformPayload)
        {
            ClaimsParseResult<PlatformClaims> parsed = CcaClaims.ParsePlatformClaims(platformPayload);
            platform = parsed.Claims;
            failures.AddRange(parsed.Failures);
            warnings.AddRange(parsed.Warnings);
        }

        RealmClaims? realm = null;
        if (realmMsg?.Content is { } realmPayload)
        {
            ClaimsParseResult<RealmClaims> parsed = CcaClaims.ParseRealmClaims(realmPayload);
            realm = parsed.Claims;
            failures.AddRange(parsed.Failures);
            warnings.AddRange(parsed.Warnings);
        }

        TokenForm form = realm is null ? TokenForm.Unknown : realm.Profile is null ? TokenForm.Legacy : TokenForm.Rel0;
        CheckForm(form, platform, options, failures, warnings);

        if (platformMsg is not null && platformAlg != 0)
        {
            VerifyPlatformSignature(platformMsg, platformAlg, platformKey, failures);
        }

        if (realmMsg is not null && realmAlg != 0 && realm is not null)
        {
            VerifyRealmSignature(realmMsg, realmAlg, realm, failures);
        }

        if (realm is not null && platform is not null)
        {
            CheckBinding(realm, platform, failures);
        }

        if (realm is not null)
        {
            CheckExpected(realm, options, failures);
        }

        return new VerificationResult { Failures = failures, Warnings = warnings, Form = form, Realm = realm, Platform = platform };
    }

    private static (byte[]? Platform, byte[]? Realm) ReadCollection(byte[] token, List<TokenFailure> failures)
    {
        try
        {
            var r = new CborReader(token, CborConformanceMode.Lax);
            if (token.Length == 0 || r.PeekState() != CborReaderState.Tag || (ulong)r.PeekTag() != ClaimKeys.CollectionTag)
            {
                failures.Add(new TokenFailure(TokenCheck.CollectionTag, "token is not a CBOR tag 399 collection"));
                return (null, null);
            }

            r.ReadTag();
            if (r.PeekState() != CborReaderState.StartMap)
            {
                failures.Add(new TokenFailure(TokenCheck.CollectionShape, "tag 399 does not enclose a map"));
                return (null, null);
            }

            int? count = r.ReadStartMap();
            byte[]? platform = null;
            byte[]? realm = null;
            int entries = 0;
            while (r.PeekState() != CborReaderState.EndMap)
            {
                entries++;
                long? key = r.PeekState() is CborReaderState.UnsignedInteger or CborReaderState.NegativeInteger ? r.ReadInt64() : null;
                if (key is null)
                {
                    r.SkipValue();
                }

                byte[]? value = r.PeekState() == CborReaderState.ByteString ? r.ReadByteString() : null;
                if (value is null)
                {
                    r.SkipValue();
                }

                if (key is not (ClaimKeys.PlatformToken or ClaimKeys.RealmToken))
                {
                    failures.Add(new TokenFailure(TokenCheck.CollectionShape, $"unexpected collection key {key?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(not an integer)"}"));
                    continue;
                }

                if (value is null)
                {
                    failures.Add(new TokenFailure(TokenCheck.CollectionShape, $"collection value of {key} is not a byte string"));
                    continue;
                }

                ref byte[]? slot = ref (key == ClaimKeys.PlatformToken ? ref platform : ref realm);
                if (slot is not null)
                {
                    failures.Add(new TokenFailure(TokenCheck.CollectionShape, $"duplicate collection key {key}"));
                }

                slot = value;
            }

            r.ReadEndMap();
            if (r.BytesRemaining != 0)
            {
                failures.Add(new TokenFailure(TokenCheck.CollectionShape, $"{r.BytesRemaining} trailing bytes after the collection"));
            }

            if (failures.Count == 0 && (platform is null || realm is null || entries != 2))
            {
                failures.Add(new TokenFailure(TokenCheck.CollectionShape, $"collection must hold exactly 44234 and 44241 (found {count ?? entries} entries)"));
            }

            return failures.Count == 0 ? (platform, realm) : (null, null);
        }
        catch (Exception e) when (e is CborContentException or InvalidOperationException or OverflowException)
        {
            failures.Add(new TokenFailure(TokenCheck.CollectionShape, "malformed CBOR: " + e.Message));
            return (null, null);
        }
    }

    private static (CoseSign1Message? Message, int Alg) ReadSign1(byte[] bytes, TokenCheck coseCheck, TokenCheck algCheck, string which, List<TokenFailure> failures)
    {
        try
        {
            var r = new CborReader(bytes, CborConformanceMode.Lax);
            if (r.PeekState() != CborReaderState.Tag || (ulong)r.PeekTag() != ClaimKeys.CoseSign1Tag)
            {
                failures.Add(new TokenFailure(coseCheck, $"{which} token is not a tagged (18) COSE_Sign1"));
                return (null, 0);
            }

            CoseSign1Message msg = CoseMessage.DecodeSign1(bytes);
            if (msg.Content is null)
            {
                failures.Add(new TokenFailure(coseCheck, $"{which} token has a detached (nil) payload"));
                return (null, 0);
            }

            if (!msg.ProtectedHeaders.TryGetValue(CoseHeaderLabel.Algorithm, out CoseHeaderValue algValue))
            {
                failures.Add(new TokenFailure(algCheck, $"{which} token has no alg in its protected header"));
                return (msg, 0);
            }

            int alg;
            try
            {
                alg = algValue.GetValueAsInt32();
            }
            catch (Exception e) when (e is InvalidOperationException or CborContentException)
            {
                failures.Add(new TokenFailure(algCheck, $"{which} token alg is not an integer"));
                return (msg, 0);
            }

            if (alg is not (ClaimValues.ES256 or ClaimValues.ES384 or ClaimValues.ES512))
            {
                failures.Add(new TokenFailure(algCheck, $"{which} token alg {alg} is not ES256, ES384 or ES512"));
                return (msg, 0);
            }

            return (msg, alg);
        }
        catch (Exception e) when (e is CryptographicException or CborContentException or InvalidOperationException)
        {
            // The COSE decoder wraps the actual reason and says only "see the inner exception"; name the reason.
            string reason = e.InnerException is { } inner ? inner.Message : e.Message;
            failures.Add(new TokenFailure(coseCheck, $"{which} token is not a well-formed COSE_Sign1: {reason}"));
            return (null, 0);
        }
    }

    private static int KeySizeFor(int alg) => alg switch
    {
        ClaimValues.ES256 => 256,
        ClaimValues.ES384 => 384,
        _ => 521,
    };

    private static void VerifyPlatformSignature(CoseSign1Message msg, int alg, ECParameters? platformKey, List<TokenFailure> failures)
    {
        if (platformKey is null)
        {
            failures.Add(new TokenFailure(TokenCheck.PlatformKey, "no platform key supplied; platform signature not checked"));
            return;
        }

        ECDsa key;
        try
        {
            key = AttestationKeys.CreateKey(AttestationKeys.PublicOnly(platformKey.Value));
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            failures.Add(new TokenFailure(TokenCheck.PlatformKey, "platform key is not a valid EC public key: " + e.Message));
            return;
        }

        using (key)
        {
            if (key.KeySize != KeySizeFor(alg))
            {
                failures.Add(new TokenFailure(TokenCheck.PlatformAlgorithm, $"platform token alg {alg} does not match the {key.KeySize}-bit platform key"));
                return;
            }

            if (!VerifySignature(msg, key))
            {
                failures.Add(new TokenFailure(TokenCheck.PlatformSignature, "platform token signature does not verify with the platform key"));
            }
        }
    }

    private static void VerifyRealmSignature(CoseSign1Message msg, int alg, RealmClaims realm, List<TokenFailure> failures)
    {
        if (CcaClaims.TryDecodeRealmPublicKey(realm, out _) is not { } rak)
        {
            return; // already reported as RealmPublicKey by the claim parser
        }

        if (alg != ClaimValues.ES384)
        {
            failures.Add(new TokenFailure(TokenCheck.RealmAlgorithm, $"realm token alg {alg} is not ES384 (the RAK is P-384)"));
            return;
        }

        using ECDsa key = AttestationKeys.CreateKey(rak);
        if (!VerifySignature(msg, key))
        {
            failures.Add(new TokenFailure(TokenCheck.RealmSignature, "realm token signature does not verify with the RAK of claim 44237"));
        }
    }

    private static bool VerifySignature(CoseSign1Message msg, ECDsa key)
    {
        try
        {
            return msg.VerifyEmbedded(key);
        }
        catch (Exception e) when (e is CryptographicException or InvalidOperationException or CborContentException)
        {
            return false;
        }
    }

    private static void CheckForm(TokenForm form, PlatformClaims? platform, VerificationOptions options, List<TokenFailure> failures, List<string> warnings)
    {
        bool legacyPlatform = platform?.Profile == ClaimValues.LegacyPlatformProfile;
        if (options.RequireRel0)
        {
            if (form == TokenForm.Legacy)
            {
                failures.Add(new TokenFailure(TokenCheck.RealmProfile, "realm profile missing (legacy form) but rel0 is required"));
            }

            if (legacyPlatform)
            {
                failures.Add(new TokenFailure(TokenCheck.PlatformProfile, "legacy platform profile but rel0 is required"));
            }
        }
        else if ((form == TokenForm.Rel0 && legacyPlatform) || (form == TokenForm.Legacy && platform?.Profile == ClaimValues.PlatformProfile))
        {
            warnings.Add("realm and platform profiles are from different generations");
        }
    }

    private static void CheckBinding(RealmClaims realm, PlatformClaims platform, List<TokenFailure> failures)
    {
        if (realm.PublicKey.Length == 0 || platform.Challenge.Length == 0)
        {
            return; // a missing claim is already reported by name
        }

        byte[]? h = AttestationHash.TryCompute(realm.PublicKeyHashAlgorithm, realm.PublicKey);
        if (h is null)
        {
            return; // unknown 44240 already reported
        }

        if (!h.AsSpan().SequenceEqual(platform.Challenge))
        {
            failures.Add(new TokenFailure(TokenCheck.Binding, $"{realm.PublicKeyHashAlgorithm}(RAK claim 44237) = {Convert.ToHexStringLower(h)} differs from the platform challenge {Convert.ToHexStringLower(platform.Challenge)}"));
        }
    }

    private static void CheckExpected(RealmClaims realm, VerificationOptions options, List<TokenFailure> failures)
    {
        static void Compare(byte[]? expected, byte[] actual, TokenCheck check, string name, List<TokenFailure> failures)
        {
            if (expected is not null && !expected.AsSpan().SequenceEqual(actual))
            {
                failures.Add(new TokenFailure(check, $"{name} is {Convert.ToHexStringLower(actual)}, expected {Convert.ToHexStringLower(expected)}"));
            }
        }

        Compare(options.Challenge, realm.Challenge, TokenCheck.ExpectedChallenge, "realm challenge", failures);
        Compare(options.InitialMeasurement, realm.InitialMeasurement, TokenCheck.ExpectedInitialMeasurement, "RIM", failures);
        Compare(options.PersonalizationValue, realm.PersonalizationValue, TokenCheck.ExpectedPersonalizationValue, "RPV", failures);
        if (options.ExtensibleMeasurements is { } rems)
        {
            for (int i = 0; i < rems.Count; i++)
            {
                byte[] actual = i < realm.ExtensibleMeasurements.Count ? realm.ExtensibleMeasurements[i] : [];
                Compare(rems[i], actual, TokenCheck.ExpectedExtensibleMeasurement, $"REM{i + 1}", failures);
            }
        }
    }
}
