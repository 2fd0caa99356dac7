namespace CcaSim.Attestation.Tests;

/// <summary>Third-party vectors (TestData/NOTICE) with the verdicts of the vectors' README.</summary>
public sealed class VectorTests
{
    [Theory]
    [InlineData("cca-token-draft-ffm-00.cbor", "ta-tfa.json", TokenForm.Rel0)]
    [InlineData("cca-token-01.cbor", "ta-tfa.json", TokenForm.Legacy)]
    [InlineData("cca-token-01.cbor", "cpak.json", TokenForm.Legacy)]
    [InlineData("cca-token-01.cbor", "realm_testvectors_tf-rmm_cca_platform.pub", TokenForm.Legacy)]
    [InlineData("cca-token-02.cbor", "ta-02-ok.json", TokenForm.Legacy)]
    public void GoodVector_Verifies(string token, string keyFile, TokenForm form)
    {
        VerificationResult result = CcaTokenVerifier.Verify(TestData.Bytes(token), TestData.Key(keyFile));

        Assert.True(result.IsValid, result.ToString());
        Assert.Equal(form, result.Form);
    }

    [Fact]
    public void PemOverload_VerifiesTheTfRmmLegacyToken()
    {
        VerificationResult result = CcaTokenVerifier.VerifyWithPem(TestData.Bytes("cca-token-01.cbor"), TestData.Text("realm_testvectors_tf-rmm_cca_platform.pub"));

        Assert.True(result.IsValid, result.ToString());
    }

    [Fact]
    public void Ffm00_PassesTheRel0Requirement_ButLegacyTokenDoesNot()
    {
        var rel0 = new VerificationOptions { RequireRel0 = true };

        Assert.True(CcaTokenVerifier.Verify(TestData.Bytes("cca-token-draft-ffm-00.cbor"), TestData.Key("ta-tfa.json"), rel0).IsValid);
        VerificationResult legacy = CcaTokenVerifier.Verify(TestData.Bytes("cca-token-01.cbor"), TestData.Key("ta-tfa.json"), rel0);
        Assert.True(legacy.Has(TokenCheck.RealmProfile));
        Assert.True(legacy.Has(TokenCheck.PlatformProfile));
        Assert.False(legacy.Has(TokenCheck.RealmSignature));
    }

    [Fact]
    public void Token02_WarnsAboutMeasurementSizeButVerifies()
    {
        VerificationResult result = CcaTokenVerifier.Verify(TestData.Bytes("cca-token-02.cbor"), TestData.Key("ta-02-ok.json"));

        Assert.True(result.IsValid);
        Assert.Equal(64, result.Platform!.Challenge.Length);
        Assert.Contains(result.Warnings, w => w.Contains("RIM is 64 bytes", StringComparison.Ordinal));
    }

    [Fact]
    public void Token02_WithTheBadTrustAnchor_FailsOnThePlatformKey()
    {
        VerificationResult result = CcaTokenVerifier.Verify(TestData.Bytes("cca-token-02.cbor"), TestData.Key("ta-02-bad.json"));

        Assert.False(result.IsValid);
        Assert.Equal(TokenCheck.PlatformKey, Assert.Single(result.Failures).Check);
    }

    [Fact]
    public void Bug33_FailsTheBindingCheck()
    {
        VerificationResult result = CcaTokenVerifier.Verify(TestData.Bytes("bug-33-repro.cbor"), TestData.Key("ta-tfa.json"));

        Assert.False(result.IsValid);
        Assert.True(result.Has(TokenCheck.Binding), result.ToString());
        Assert.False(result.Has(TokenCheck.PlatformSignature));
    }

    [Theory]
    [InlineData("cca-token-draft-ffm-00.cbor")]
    [InlineData("cca-token-01.cbor")]
    public void TfaVector_WithAnotherP384Key_FailsThePlatformSignatureOnly(string token)
    {
        VerificationResult result = CcaTokenVerifier.Verify(TestData.Bytes(token), PlatformDescription.Default.PlatformKey);

        Assert.Equal(TokenCheck.PlatformSignature, Assert.Single(result.Failures).Check);
    }

    [Fact]
    public void TfaVector_WithAP256Key_FailsThePlatformAlgorithm()
    {
        VerificationResult result = CcaTokenVerifier.Verify(TestData.Bytes("cca-token-draft-ffm-00.cbor"), TestData.Key("ta-02-ok.json"));

        Assert.Equal(TokenCheck.PlatformAlgorithm, Assert.Single(result.Failures).Check);
    }

    [Theory]
    [InlineData("realm-claims.cbor")]
    [InlineData("realm-claims+spurious-numeric-key.cbor")]
    [InlineData("realm-claims+spurious-text-key.cbor")]
    public void BareRealmClaims_AreValid_AndSpuriousKeysAreIgnored(string file)
    {
        ClaimsParseResult<RealmClaims> result = CcaClaims.ParseRealmClaims(TestData.Bytes(file));

        Assert.True(result.IsValid, string.Join("; ", result.Failures));
        Assert.Null(result.Claims!.Profile);
        Assert.Equal(97, result.Claims.PublicKey.Length);
        Assert.Equal(4, result.Claims.ExtensibleMeasurements.Count);
    }

    [Fact]
    public void BareRealmClaims_MissingChallenge_FailNamingTheChallenge()
    {
        ClaimsParseResult<RealmClaims> result = CcaClaims.ParseRealmClaims(TestData.Bytes("realm-claims-missing-challenge.cbor"));

        TokenFailure failure = Assert.Single(result.Failures);
        Assert.Equal(TokenCheck.RealmChallenge, failure.Check);
        Assert.Contains("missing", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BarePlatformClaims_AreValid()
    {
        ClaimsParseResult<PlatformClaims> result = CcaClaims.ParsePlatformClaims(TestData.Bytes("platform-claims.cbor"));

        Assert.True(result.IsValid, string.Join("; ", result.Failures));
        Assert.Equal(ClaimValues.LegacyPlatformProfile, result.Claims!.Profile);
        Assert.Equal(2, result.Claims.SoftwareComponents.Count);
        Assert.Null(result.Claims.SoftwareComponents[0].Type);
        Assert.Equal("1.0.0", result.Claims.SoftwareComponents[0].Version);
    }

    [Fact]
    public void TrustAnchorFiles_CarryTheSameCpakAsTheGoPem()
    {
        Assert.Equal(TestData.Key("realm_testvectors_tf-rmm_cca_platform.pub").Q.X, TestData.Key("ta-tfa.json").Q.X);
        Assert.Equal(TestData.Key("cpak.json").Q.Y, TestData.Key("ta-tfa.json").Q.Y);
        TrustAnchor anchor = TrustAnchor.ParseList(TestData.Text("ta-tfa.json"))[0];
        Assert.Equal(33, anchor.InstanceId!.Length);
    }
}
