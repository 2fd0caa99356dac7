using System.Security.Cryptography;

namespace CcaSim.Attestation.Tests;

public sealed class DeterminismTests
{
    private static readonly byte[][] Rems = [new byte[32], new byte[32], new byte[32], new byte[32]];

    private static byte[] RealmClaimsBytes(PlatformDescription p) =>
        CcaTokenEncoder.EncodeRealmClaims(p.CreateRealmClaims(new byte[64], new byte[64], RealmHashAlgorithm.Sha256, new byte[32], Rems));

    [Fact]
    public void SameSeed_GivesSameKeysAndClaimBytes()
    {
        PlatformDescription a = PlatformDescription.FromSeed("board-1");
        PlatformDescription b = PlatformDescription.FromSeed("board-1");

        Assert.Equal(a.ExportPlatformPublicKeyPem(), b.ExportPlatformPublicKeyPem());
        Assert.Equal(a.PlatformKey.D, b.PlatformKey.D);
        Assert.Equal(a.RealmPublicKeyCoseKey(), b.RealmPublicKeyCoseKey());
        Assert.Equal(a.EncodePlatformClaims(), b.EncodePlatformClaims());
        Assert.Equal(RealmClaimsBytes(a), RealmClaimsBytes(b));
    }

    [Fact]
    public void DifferentSeed_GivesDifferentKeysAndIds()
    {
        PlatformDescription a = PlatformDescription.FromSeed("board-1");
        PlatformDescription b = PlatformDescription.FromSeed("board-2");

        Assert.NotEqual(a.ExportPlatformPublicKeyPem(), b.ExportPlatformPublicKeyPem());
        Assert.NotEqual(a.RealmPublicKeyCoseKey(), b.RealmPublicKeyCoseKey());
        Assert.NotEqual(a.InstanceId, b.InstanceId);
        Assert.NotEqual(a.EncodePlatformClaims(), b.EncodePlatformClaims());
    }

    [Fact]
    public void DerivedKeys_AreDistinctWorkingP384KeyPairs()
    {
        PlatformDescription p = PlatformDescription.Default;

        Assert.NotEqual(p.PlatformKey.D, p.RealmAttestationKey.D);
        foreach (ECParameters key in new[] { p.PlatformKey, p.RealmAttestationKey })
        {
            Assert.Equal(48, key.D!.Length);
            Assert.Equal(48, key.Q.X!.Length);
            using ECDsa signer = AttestationKeys.CreateKey(key);
            using ECDsa verifier = AttestationKeys.CreateKey(AttestationKeys.PublicOnly(key));
            byte[] data = [1, 2, 3];
            byte[] sig = signer.SignData(data, HashAlgorithmName.SHA384);
            Assert.True(verifier.VerifyData(data, sig, HashAlgorithmName.SHA384));
        }
    }

    [Fact]
    public void DeriveP384_MatchesTheDocumentedFormula()
    {
        byte[] seed = "s"u8.ToArray();
        ECParameters key = AttestationKeys.DeriveP384(seed, "label");

        var n = System.Numerics.BigInteger.Parse("0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973", System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
        var h = new System.Numerics.BigInteger(SHA512.HashData("slabel"u8), isUnsigned: true, isBigEndian: true);
        var d = new System.Numerics.BigInteger(key.D, isUnsigned: true, isBigEndian: true);
        Assert.Equal((h % (n - 1)) + 1, d);
    }

    [Fact]
    public void PlatformKey_ExportsAsSubjectPublicKeyInfoPem_ThatRoundTrips()
    {
        PlatformDescription p = PlatformDescription.Default;
        string pem = p.ExportPlatformPublicKeyPem();

        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", pem, StringComparison.Ordinal);
        Assert.Equal(p.PlatformKey.Q.X, AttestationKeys.LoadPublicKeyPem(pem).Q.X);
        Assert.DoesNotContain("PRIVATE", pem, StringComparison.Ordinal);
    }

    [Fact]
    public void Overrides_ReplaceKeysAndClaims()
    {
        PlatformDescription p = PlatformDescription.Default
            .WithPlatformKeyPem(TestData.Text("cca_platform.pem"))
            .WithRealmAttestationKeyPem(TestData.Text("cca_realm.pem")) with { Lifecycle = 0x3001, VerificationService = null };

        Assert.Equal(TestData.Key("ta-tfa.json").Q.X, p.PlatformKey.Q.X);
        Assert.Equal(PlatformDescription.InstanceIdFor(p.PlatformKey), p.InstanceId);
        PlatformClaims claims = p.CreatePlatformClaims();
        Assert.Equal(0x3001UL, claims.Lifecycle);
        Assert.DoesNotContain(ClaimKeys.PlatformVerificationService, TestData.MapKeys(p.EncodePlatformClaims()));
    }
}
