using System.Security.Cryptography;

namespace CcaSim.Attestation.Tests;

public sealed class RoundTripTests
{
    private static readonly byte[] Challenge = TestData.Filled(64, 0x11);
    private static readonly byte[] Rpv = TestData.Filled(64, 0x22);
    private static readonly byte[] Rim = TestData.Filled(32, 0x33);
    private static readonly byte[][] Rems = [TestData.Filled(32, 0x41), TestData.Filled(32, 0x42), TestData.Filled(32, 0x43), TestData.Filled(32, 0x44)];

    private static readonly PlatformDescription Platform = PlatformDescription.Default;

    private static byte[] DefaultToken() => Platform.CreateToken(Platform.CreateRealmClaims(Challenge, Rpv, RealmHashAlgorithm.Sha256, Rim, Rems));

    [Fact]
    public void DefaultToken_VerifiesWithTheExportedPlatformPem()
    {
        VerificationResult result = CcaTokenVerifier.VerifyWithPem(DefaultToken(), Platform.ExportPlatformPublicKeyPem(), new VerificationOptions { RequireRel0 = true });

        Assert.True(result.IsValid, result.ToString());
        Assert.Equal(TokenForm.Rel0, result.Form);
        Assert.Empty(result.Warnings);
        Assert.Equal(Challenge, result.Realm!.Challenge);
        Assert.Equal(Rems[3], result.Realm.ExtensibleMeasurements[3]);
        Assert.Equal(Platform.InstanceId, result.Platform!.InstanceId);
        Assert.Equal(0x3000UL, result.Platform.Lifecycle);
    }

    [Fact]
    public void DefaultToken_VerifiesWithAnECDsaKey()
    {
        using ECDsa key = AttestationKeys.CreateKey(Platform.PlatformKey);

        Assert.True(CcaTokenVerifier.Verify(DefaultToken(), key).IsValid);
    }

    [Fact]
    public void Sha512Realm_RoundTripsWith64ByteMeasurements()
    {
        byte[][] rems = [.. Enumerable.Range(0, 4).Select(i => TestData.Filled(64, (byte)i))];
        RealmClaims claims = Platform.CreateRealmClaims(Challenge, Rpv, RealmHashAlgorithm.Sha512, TestData.Filled(64, 9), rems);

        VerificationResult result = CcaTokenVerifier.Verify(Platform.CreateToken(claims), Platform.PlatformKey);

        Assert.True(result.IsValid, result.ToString());
        Assert.Equal("sha-512", result.Realm!.HashAlgorithm);
        Assert.Equal("sha-256", result.Realm.PublicKeyHashAlgorithm);
        Assert.Empty(result.Warnings);
    }

    [Fact]
    public void AllExpectedValuesRight_IsValid()
    {
        var options = new VerificationOptions { Challenge = Challenge, InitialMeasurement = Rim, ExtensibleMeasurements = Rems, PersonalizationValue = Rpv };

        Assert.True(CcaTokenVerifier.Verify(DefaultToken(), Platform.PlatformKey, options).IsValid);
    }

    public static TheoryData<string, TokenCheck> WrongExpectations => new()
    {
        { "challenge", TokenCheck.ExpectedChallenge },
        { "rim", TokenCheck.ExpectedInitialMeasurement },
        { "rem2", TokenCheck.ExpectedExtensibleMeasurement },
        { "rpv", TokenCheck.ExpectedPersonalizationValue },
    };

    [Theory]
    [MemberData(nameof(WrongExpectations))]
    public void OneExpectedValueWrong_FailsWithExactlyThatCheck(string which, TokenCheck check)
    {
        byte[] wrong64 = TestData.Filled(64, 0xEE);
        byte[] wrong32 = TestData.Filled(32, 0xEE);
        var options = which switch
        {
            "challenge" => new VerificationOptions { Challenge = wrong64, InitialMeasurement = Rim },
            "rim" => new VerificationOptions { Challenge = Challenge, InitialMeasurement = wrong32 },
            "rem2" => new VerificationOptions { ExtensibleMeasurements = [Rems[0], null, wrong32] },
            _ => new VerificationOptions { PersonalizationValue = wrong64 },
        };

        VerificationResult result = CcaTokenVerifier.Verify(DefaultToken(), Platform.PlatformKey, options);

        TokenFailure failure = Assert.Single(result.Failures);
        Assert.Equal(check, failure.Check);
        if (which == "rem2")
        {
            Assert.Contains("REM3 is ", failure.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void CreateRealmClaims_RejectsSizesRmmNeverEmits()
    {
        Assert.Throws<ArgumentException>(() => Platform.CreateRealmClaims(Challenge.AsSpan(0, 32), Rpv, RealmHashAlgorithm.Sha256, Rim, Rems));
        Assert.Throws<ArgumentException>(() => Platform.CreateRealmClaims(Challenge, Rpv, RealmHashAlgorithm.Sha512, Rim, Rems));
        Assert.Throws<ArgumentException>(() => Platform.CreateRealmClaims(Challenge, Rpv, RealmHashAlgorithm.Sha256, Rim, Rems[..3]));
    }
}
