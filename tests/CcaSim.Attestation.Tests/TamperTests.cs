using System.Formats.Cbor;
using System.Security.Cryptography;

namespace CcaSim.Attestation.Tests;

/// <summary>Malformed and tampered tokens fail with the right named check and never throw.</summary>
public sealed class TamperTests
{
    private static readonly PlatformDescription Platform = PlatformDescription.Default;
    private static readonly byte[][] Rems = [new byte[32], new byte[32], new byte[32], new byte[32]];

    private static RealmClaims Claims() => Platform.CreateRealmClaims(TestData.Filled(64, 7), new byte[64], RealmHashAlgorithm.Sha256, new byte[32], Rems);

    private static byte[] SignRealm(RealmClaims claims)
    {
        using ECDsa rak = AttestationKeys.CreateKey(Platform.RealmAttestationKey);
        return CcaTokenEncoder.Sign(CcaTokenEncoder.EncodeRealmClaims(claims), rak);
    }

    private static byte[] SignPlatform(PlatformClaims claims)
    {
        using ECDsa cpak = AttestationKeys.CreateKey(Platform.PlatformKey);
        return CcaTokenEncoder.Sign(CcaTokenEncoder.EncodePlatformClaims(claims), cpak);
    }

    private static VerificationResult Verify(byte[] token) => CcaTokenVerifier.Verify(token, Platform.PlatformKey);

    private static TokenCheck SingleCheck(VerificationResult r) => Assert.Single(r.Failures).Check;

    [Fact]
    public void FlippedRealmSignatureByte_FailsTheRealmSignatureOnly()
    {
        byte[] token = Platform.CreateToken(Claims());
        token[^1] ^= 0x01; // the realm token is the collection's last value; its last byte is in s

        Assert.Equal(TokenCheck.RealmSignature, SingleCheck(Verify(token)));
    }

    [Fact]
    public void FlippedPlatformSignatureByte_FailsThePlatformSignatureOnly()
    {
        byte[] platform = Platform.SignPlatformToken();
        platform[^40] ^= 0x80;

        Assert.Equal(TokenCheck.PlatformSignature, SingleCheck(Verify(CcaTokenEncoder.EncodeCollection(platform, Platform.SignRealmToken(Claims())))));
    }

    [Fact]
    public void FlippedRealmPayloadByte_FailsTheRealmSignature()
    {
        byte[] realm = Platform.SignRealmToken(Claims());
        int rim = realm.Length - 96 - 2 - (4 * 34) - 1 - 3 - 1; // last RIM byte: before key 44239 (3 bytes), 0x84 and four 34-byte REMs
        realm[rim] ^= 0xFF;

        VerificationResult result = Verify(CcaTokenEncoder.EncodeCollection(Platform.SignPlatformToken(), realm));

        Assert.Equal(TokenCheck.RealmSignature, SingleCheck(result));
        Assert.Equal(0xFF, result.Realm!.InitialMeasurement[^1]);
    }

    [Fact]
    public void RealmSignedByAnotherRak_FailsTheBinding()
    {
        PlatformDescription other = PlatformDescription.FromSeed("other");
        byte[] realm = other.SignRealmToken(other.CreateRealmClaims(new byte[64], new byte[64], RealmHashAlgorithm.Sha256, new byte[32], Rems));

        Assert.Equal(TokenCheck.Binding, SingleCheck(Verify(CcaTokenEncoder.EncodeCollection(Platform.SignPlatformToken(), realm))));
    }

    [Fact]
    public void PlatformSignedByP256Key_VerifiedWithP384Key_FailsTheAlgorithm()
    {
        using ECDsa p256 = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        byte[] platform = CcaTokenEncoder.Sign(Platform.EncodePlatformClaims(), p256);
        Assert.Equal(Convert.FromHexString("d28443a10126a0"), platform[..7]);

        Assert.Equal(TokenCheck.PlatformAlgorithm, SingleCheck(Verify(CcaTokenEncoder.EncodeCollection(platform, Platform.SignRealmToken(Claims())))));
        Assert.True(CcaTokenVerifier.Verify(CcaTokenEncoder.EncodeCollection(platform, Platform.SignRealmToken(Claims())), p256).IsValid);
    }

    public static TheoryData<string, TokenCheck> BadRealmClaims => new()
    {
        { "challenge-32", TokenCheck.RealmChallenge },
        { "rpv-63", TokenCheck.RealmPersonalizationValue },
        { "rim-20", TokenCheck.RealmInitialMeasurement },
        { "three-rems", TokenCheck.RealmExtensibleMeasurements },
        { "hash-sha-1", TokenCheck.RealmHashAlgorithm },
        { "profile-unknown", TokenCheck.RealmProfile },
        { "legacy-with-cose-key", TokenCheck.RealmPublicKey },
    };

    [Theory]
    [MemberData(nameof(BadRealmClaims))]
    public void BadRealmClaim_FailsWithItsName(string mutation, TokenCheck check)
    {
        RealmClaims c = Claims();
        c = mutation switch
        {
            "challenge-32" => c with { Challenge = new byte[32] },
            "rpv-63" => c with { PersonalizationValue = new byte[63] },
            "rim-20" => c with { InitialMeasurement = new byte[20] },
            "three-rems" => c with { ExtensibleMeasurements = Rems[..3] },
            "hash-sha-1" => c with { HashAlgorithm = "sha-1" },
            "profile-unknown" => c with { Profile = "tag:arm.com,2099:realm#9" },
            _ => c with { Profile = null },
        };

        VerificationResult result = Verify(CcaTokenEncoder.EncodeCollection(Platform.SignPlatformToken(), SignRealm(c)));

        Assert.Equal(check, SingleCheck(result));
    }

    public static TheoryData<string, TokenCheck> BadPlatformClaims => new()
    {
        { "instance-0x02", TokenCheck.PlatformInstanceId },
        { "instance-32", TokenCheck.PlatformInstanceId },
        { "impl-31", TokenCheck.PlatformImplementationId },
        { "lifecycle-0x3100", TokenCheck.PlatformLifecycle },
        { "lifecycle-0x7000", TokenCheck.PlatformLifecycle },
        { "no-components", TokenCheck.PlatformSoftwareComponents },
        { "component-measurement-20", TokenCheck.PlatformSoftwareComponents },
        { "service-empty", TokenCheck.PlatformVerificationService },
        { "profile-unknown", TokenCheck.PlatformProfile },
        { "hash-md5", TokenCheck.PlatformHashAlgorithm },
    };

    [Theory]
    [MemberData(nameof(BadPlatformClaims))]
    public void BadPlatformClaim_FailsWithItsName(string mutation, TokenCheck check)
    {
        PlatformClaims c = Platform.CreatePlatformClaims();
        c = mutation switch
        {
            "instance-0x02" => c with { InstanceId = [0x02, .. c.InstanceId[1..]] },
            "instance-32" => c with { InstanceId = c.InstanceId[..32] },
            "impl-31" => c with { ImplementationId = c.ImplementationId[..31] },
            "lifecycle-0x3100" => c with { Lifecycle = 0x3100 },
            "lifecycle-0x7000" => c with { Lifecycle = 0x7000 },
            "no-components" => c with { SoftwareComponents = [] },
            "component-measurement-20" => c with { SoftwareComponents = [c.SoftwareComponents[0] with { Measurement = new byte[20] }] },
            "service-empty" => c with { VerificationService = "" },
            "profile-unknown" => c with { Profile = "http://example.com/psa" },
            _ => c with { HashAlgorithm = "md5" },
        };

        VerificationResult result = Verify(CcaTokenEncoder.EncodeCollection(SignPlatform(c), Platform.SignRealmToken(Claims())));

        Assert.Equal(check, SingleCheck(result));
    }

    [Theory]
    [InlineData(0x3000UL, true)]
    [InlineData(0x30FFUL, true)]
    [InlineData(0x0000UL, true)]
    [InlineData(0x60FFUL, true)]
    [InlineData(0x6100UL, false)]
    [InlineData(0x1100UL, false)]
    [InlineData(0x7000UL, false)]
    public void LifecycleRanges_FollowPsa(ulong value, bool ok) => Assert.Equal(ok, CcaClaims.IsLifecycle(value));

    [Fact]
    public void WrongCollectionTag_FailsTheCollectionTag()
    {
        byte[] token = Platform.CreateToken(Claims());
        token[2] = 0x90; // tag 400

        Assert.Equal(TokenCheck.CollectionTag, SingleCheck(Verify(token)));
    }

    [Fact]
    public void ExtraCollectionKey_FailsTheCollectionShape()
    {
        var w = new CborWriter();
        w.WriteTag((CborTag)399);
        w.WriteStartMap(3);
        w.WriteInt32(44234);
        w.WriteByteString(Platform.SignPlatformToken());
        w.WriteInt32(44241);
        w.WriteByteString(Platform.SignRealmToken(Claims()));
        w.WriteInt32(1);
        w.WriteByteString([1]);
        w.WriteEndMap();

        Assert.Equal(TokenCheck.CollectionShape, SingleCheck(Verify(w.Encode())));
    }

    [Fact]
    public void UntaggedRealmCoseSign1_FailsTheRealmCose()
    {
        byte[] realm = Platform.SignRealmToken(Claims())[1..]; // drop tag 18

        VerificationResult result = Verify(CcaTokenEncoder.EncodeCollection(Platform.SignPlatformToken(), realm));

        Assert.Equal(TokenCheck.RealmCose, SingleCheck(result));
    }

    [Fact]
    public void RealmValueNotCoseAtAll_FailsTheRealmCose()
    {
        Assert.Equal(TokenCheck.RealmCose, SingleCheck(Verify(CcaTokenEncoder.EncodeCollection(Platform.SignPlatformToken(), [0xd2, 0x01]))));
    }

    [Fact]
    public void RealmValueNotCoseAtAll_SaysWhatIsWrong_NotToSeeAnInnerException()
    {
        // A COSE_Sign1 array of two items: the runtime's own message only says "see the inner exception", which a
        // user of ccasim verify never sees.
        TokenFailure failure = Assert.Single(Verify(CcaTokenEncoder.EncodeCollection(Platform.SignPlatformToken(), [0xd2, 0x82, 0x40, 0xa0])).Failures);

        Assert.Equal(TokenCheck.RealmCose, failure.Check);
        Assert.DoesNotContain("inner exception", failure.Message, StringComparison.OrdinalIgnoreCase);
        Assert.StartsWith("realm token is not a well-formed COSE_Sign1: ", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryTruncation_IsRejectedWithoutThrowing()
    {
        byte[] token = Platform.CreateToken(Claims());
        for (int n = 0; n < token.Length; n++)
        {
            VerificationResult result = Verify(token[..n]);
            Assert.False(result.IsValid, $"prefix of {n} bytes");
        }
    }

    [Fact]
    public void RandomByteFlips_NeverThrowAndNeverVerify()
    {
        byte[] token = Platform.CreateToken(Claims());
        var random = new Random(1234);
        for (int i = 0; i < 300; i++)
        {
            byte[] t = (byte[])token.Clone();
            t[random.Next(t.Length)] ^= (byte)(1 << random.Next(8));
            Assert.False(Verify(t).IsValid, $"flip {i}");
        }
    }

    [Fact]
    public void GarbageAndMissingKeys_AreNamedFailures()
    {
        Assert.Equal(TokenCheck.CollectionTag, SingleCheck(Verify([])));
        Assert.Equal(TokenCheck.CollectionShape, SingleCheck(Verify([0xd9, 0x01, 0x8f, 0xff])));
        Assert.Equal(TokenCheck.PlatformKey, SingleCheck(CcaTokenVerifier.VerifyWithPem(Platform.CreateToken(Claims()), "not a pem")));
        Assert.Equal(TokenCheck.PlatformKey, SingleCheck(CcaTokenVerifier.Verify(Platform.CreateToken(Claims()), (ECParameters?)null)));
    }

    [Fact]
    public void BareClaimParsers_ReportNonMapsAndDuplicates()
    {
        Assert.Equal(TokenCheck.RealmClaims, Assert.Single(CcaClaims.ParseRealmClaims(new byte[] { 0x80 }).Failures).Check);
        Assert.Equal(TokenCheck.PlatformClaims, Assert.Single(CcaClaims.ParsePlatformClaims(new byte[] { 0xa2, 0x0a, 0x00, 0x0a, 0x00 }).Failures).Check);
    }
}
