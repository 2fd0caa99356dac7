using System.Security.Cryptography;

namespace CcaSim.Attestation.Tests;

public sealed class ByteLayoutTests
{
    private static readonly PlatformDescription Platform = PlatformDescription.Default;

    private static RealmClaims Claims() => Platform.CreateRealmClaims(new byte[64], new byte[64], RealmHashAlgorithm.Sha256, new byte[32], [new byte[32], new byte[32], new byte[32], new byte[32]]);

    [Fact]
    public void RakCoseKey_Is107BytesWithFourEntriesInTCoseOrder()
    {
        byte[] key = Platform.RealmPublicKeyCoseKey();

        Assert.Equal(107, key.Length);
        Assert.Equal(Convert.FromHexString("a401022002215830"), key[..8]);
        Assert.Equal(Platform.RealmAttestationKey.Q.X, key[8..56]);
        Assert.Equal(Convert.FromHexString("225830"), key[56..59]);
        Assert.Equal(Platform.RealmAttestationKey.Q.Y, key[59..]);
    }

    [Fact]
    public void PlatformChallenge_IsSha256OfTheCarriedCoseKey()
    {
        Assert.Equal(SHA256.HashData(Claims().PublicKey), Platform.PlatformChallenge());
        Assert.Equal(32, Platform.PlatformChallenge().Length);
    }

    [Fact]
    public void BothCoseSign1_StartWithTaggedEs384HeaderAndEmptyUnprotectedMap()
    {
        byte[] header = Convert.FromHexString("d28444a1013822a0");

        Assert.Equal(header, Platform.SignRealmToken(Claims())[..8]);
        Assert.Equal(header, Platform.SignPlatformToken()[..8]);
    }

    [Fact]
    public void Collection_StartsWithTag399AndTwoEntryMapPlatformFirst()
    {
        byte[] token = Platform.CreateToken(Claims());

        Assert.Equal(Convert.FromHexString("d9018fa219acca59"), token[..8]);
        (byte[] platform, byte[] realm) = TestData.Split(token);
        Assert.Equal(96, System.Security.Cryptography.Cose.CoseMessage.DecodeSign1(realm).Signature.Length);
        Assert.Equal(96, System.Security.Cryptography.Cose.CoseMessage.DecodeSign1(platform).Signature.Length);
    }

    [Fact]
    public void RealmClaims_AreWrittenInTfRmmOrder()
    {
        byte[] payload = TestData.Payload(Platform.SignRealmToken(Claims()));

        Assert.Equal([10L, 44235, 44237, 44236, 44240, 265, 44238, 44239], TestData.MapKeys(payload));
        Assert.Equal(CcaTokenEncoder.EncodeRealmClaims(Claims()), payload);
    }

    [Fact]
    public void PlatformClaims_AreWrittenInFakeHostOrder()
    {
        Assert.Equal([265L, 10, 2396, 256, 2401, 2395, 2402, 2400, 2399], TestData.MapKeys(Platform.EncodePlatformClaims()));
    }

    [Fact]
    public void LegacyRealmClaims_OmitTheProfileAndCarryA97BytePoint()
    {
        RealmClaims legacy = Claims() with { Profile = null, PublicKey = AttestationKeys.EncodeRawPoint(Platform.RealmAttestationKey) };

        Assert.Equal(97, legacy.PublicKey.Length);
        Assert.DoesNotContain(265L, TestData.MapKeys(CcaTokenEncoder.EncodeRealmClaims(legacy)));
    }

    [Fact]
    public void DefaultRealmToken_SizeIsTheTfRmmSize()
    {
        // TF-RMM fake_host: realm token ~590 bytes with sha-256 measurements (rmm-1.0.md §9).
        Assert.Equal(590, Platform.SignRealmToken(Claims()).Length);
    }
}
