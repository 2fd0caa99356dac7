namespace CcaSim.Attestation.Tests;

/// <summary>
/// With the tf-m-tools test keys (cca_platform.pem as CPAK, cca_realm.pem as RAK) and the claim values of the
/// draft-ffm-00 sample token, the encoder reproduces that token's claim maps byte for byte.
/// </summary>
public sealed class ReproductionTests
{
    private static readonly byte[] Sample = TestData.Bytes("cca-token-draft-ffm-00.cbor");

    private static (byte[] Platform, byte[] Realm) SamplePayloads()
    {
        (byte[] platform, byte[] realm) = TestData.Split(Sample);
        return (TestData.Payload(platform), TestData.Payload(realm));
    }

    private static PlatformDescription SampleDescription()
    {
        PlatformClaims claims = CcaClaims.ParsePlatformClaims(SamplePayloads().Platform).Claims!;
        return PlatformDescription.Default
            .WithPlatformKeyPem(TestData.Text("cca_platform.pem"))
            .WithRealmAttestationKeyPem(TestData.Text("cca_realm.pem")) with
        {
            ImplementationId = claims.ImplementationId,
            InstanceId = claims.InstanceId,
            Config = claims.Config,
            Lifecycle = claims.Lifecycle,
            SoftwareComponents = claims.SoftwareComponents,
            VerificationService = claims.VerificationService,
            HashAlgorithm = claims.HashAlgorithm,
            Layout = ClaimLayout.DraftFfm00Sample,
        };
    }

    private static RealmClaims SampleRealmClaims(PlatformDescription p)
    {
        RealmClaims sample = CcaClaims.ParseRealmClaims(SamplePayloads().Realm).Claims!;
        return p.CreateRealmClaims(sample.Challenge, sample.PersonalizationValue, RealmHashAlgorithm.Sha256, sample.InitialMeasurement, sample.ExtensibleMeasurements);
    }

    [Fact]
    public void TfmRealmKey_EncodesToTheSampleCoseKey_AndItsHashIsTheSamplePlatformChallenge()
    {
        PlatformDescription p = SampleDescription();
        RealmClaims sample = CcaClaims.ParseRealmClaims(SamplePayloads().Realm).Claims!;
        PlatformClaims samplePlatform = CcaClaims.ParsePlatformClaims(SamplePayloads().Platform).Claims!;

        Assert.Equal(sample.PublicKey, p.RealmPublicKeyCoseKey());
        Assert.Equal(samplePlatform.Challenge, p.PlatformChallenge());
    }

    [Fact]
    public void SamplePlatformClaims_AreReproducedByteForByte()
    {
        Assert.Equal(SamplePayloads().Platform, SampleDescription().EncodePlatformClaims());
    }

    [Fact]
    public void SampleRealmClaims_AreReproducedByteForByte()
    {
        PlatformDescription p = SampleDescription();

        Assert.Equal(SamplePayloads().Realm, CcaTokenEncoder.EncodeRealmClaims(SampleRealmClaims(p), ClaimLayout.DraftFfm00Sample));
    }

    [Fact]
    public void ReSignedSample_VerifiesWithTheSampleTrustAnchor_AndHasTheSampleSize()
    {
        PlatformDescription p = SampleDescription();
        byte[] token = p.CreateToken(SampleRealmClaims(p));

        Assert.Equal(Sample.Length, token.Length);
        Assert.True(CcaTokenVerifier.Verify(token, TestData.Key("ta-tfa.json"), new VerificationOptions { RequireRel0 = true }).IsValid);
        Assert.True(CcaTokenVerifier.VerifyWithPem(token, TestData.Text("realm_testvectors_tf-rmm_cca_platform.pub")).IsValid);
    }

    [Fact]
    public void TfmPlatformKey_ExportsTheSamePublicKeyAsTheGoPem()
    {
        Assert.Equal(
            AttestationKeys.LoadPublicKeyPem(TestData.Text("realm_testvectors_tf-rmm_cca_platform.pub")).Q.Y,
            AttestationKeys.LoadPublicKeyPem(SampleDescription().ExportPlatformPublicKeyPem()).Q.Y);
    }
}
