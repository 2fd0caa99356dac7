using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.Cose;
using System.Text;

namespace CcaSim.Attestation.Tests;

public sealed class DeterministicEcdsaTests
{
    // RFC 6979 appendix A.2.5 (P-256), A.2.6 (P-384) and A.2.7 (P-521) private keys.
    private const string P256D = "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721";
    private const string P384D = "6B9D3DAD2E1B8C1C05B19875B6659F4DE23C3B667BF297BA9AA47740787137D896D5724E4C70A825F872C9EA60D2EDF5";
    private const string P521D = "00FAD06DAA62BA3B25D2FB40133DA757205DE67F5BB0018FEE8C86E1B68C7E75CAA896EB32F1F47C70855836A6D16FCC1466F6D8FBEC67DB89EC0C08B0E996B83538";

    private static readonly byte[][] Rems = [new byte[32], new byte[32], new byte[32], new byte[32]];

    public static TheoryData<string, string, string, string, string> RfcVectors => new()
    {
        // curve, message, k, r, s (the curve's own hash: SHA-256 / SHA-384 / SHA-512).
        {
            "P-256", "sample",
            "A6E3C57DD01ABE90086538398355DD4C3B17AA873382B0F24D6129493D8AAD60",
            "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716",
            "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8"
        },
        {
            "P-256", "test",
            "D16B6AE827F17175E040871A1C7EC3500192C4C92677336EC2537ACAEE0008E0",
            "F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367",
            "019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083"
        },
        {
            "P-384", "sample",
            "94ED910D1A099DAD3254E9242AE85ABDE4BA15168EAF0CA87A555FD56D10FBCA2907E3E83BA95368623B8C4686915CF9",
            "94EDBB92A5ECB8AAD4736E56C691916B3F88140666CE9FA73D64C4EA95AD133C81A648152E44ACF96E36DD1E80FABE46",
            "99EF4AEB15F178CEA1FE40DB2603138F130E740A19624526203B6351D0A3A94FA329C145786E679E7B82C71A38628AC8"
        },
        {
            "P-384", "test",
            "015EE46A5BF88773ED9123A5AB0807962D193719503C527B031B4C2D225092ADA71F4A459BC0DA98ADB95837DB8312EA",
            "8203B63D3C853E8D77227FB377BCF7B7B772E97892A80F36AB775D509D7A5FEB0542A7F0812998DA8F1DD3CA3CF023DB",
            "DDD0760448D42D8A43AF45AF836FCE4DE8BE06B485E9B61B827C2F13173923E06A739F040649A667BF3B828246BAA5A5"
        },
        {
            "P-521", "sample",
            "1DAE2EA071F8110DC26882D4D5EAE0621A3256FC8847FB9022E2B7D28E6F10198B1574FDD03A9053C08A1854A168AA5A57470EC97DD5CE090124EF52A2F7ECBFFD3",
            "0C328FAFCBD79DD77850370C46325D987CB525569FB63C5D3BC53950E6D4C5F174E25A1EE9017B5D450606ADD152B534931D7D4E8455CC91F9B15BF05EC36E377FA",
            "0617CCE7CF5064806C467F678D3B4080D6F1CC50AF26CA209417308281B68AF282623EAA63E5B5C0723D8B8C37FF0777B1A20F8CCB1DCCC43997F1EE0E44DA4A67A"
        },
    };

    public static TheoryData<string> Curves => new() { "P-256", "P-384", "P-521" };

    [Theory]
    [MemberData(nameof(RfcVectors))]
    public void Sign_WithRfc6979AppendixA2Key_GivesTheRfcNonceAndSignature(string curve, string message, string k, string r, string s)
    {
        (EcCurve c, ECParameters key) = RfcKey(curve);
        byte[] hash = HashData(c, Encoding.ASCII.GetBytes(message));

        (BigInteger gotR, BigInteger gotS) = DeterministicEcdsa.Sign(c, DeterministicEcdsa.ToInt(key.D), hash, c.Hash, out BigInteger gotK);

        Assert.Equal(Hex(k), gotK);
        Assert.Equal(Hex(r), gotR);
        Assert.Equal(Hex(s), gotS);
    }

    [Theory]
    [MemberData(nameof(RfcVectors))]
    public void SignData_WithRfcKey_ReturnsFixedWidthRThenS_ThatDotNetVerifies(string curve, string message, string k, string r, string s)
    {
        _ = k;
        (EcCurve c, ECParameters key) = RfcKey(curve);
        byte[] data = Encoding.ASCII.GetBytes(message);

        byte[] sig = DeterministicEcdsa.SignData(key, data, c.Hash);

        Assert.Equal(2 * c.ByteLength, sig.Length);
        Assert.Equal(Hex(r), DeterministicEcdsa.ToInt(sig.AsSpan(0, c.ByteLength)));
        Assert.Equal(Hex(s), DeterministicEcdsa.ToInt(sig.AsSpan(c.ByteLength)));
        using ECDsa verifier = AttestationKeys.CreateKey(AttestationKeys.PublicOnly(key));
        Assert.True(verifier.VerifyData(data, sig, c.Hash));
        Assert.False(verifier.VerifyData(data.Append((byte)0).ToArray(), sig, c.Hash));
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void MultiplyG_OfThePrivateScalar_IsThePublicPointOpenSslDerives(string curve)
    {
        (EcCurve c, ECParameters key) = RfcKey(curve);

        (BigInteger x, BigInteger y) = c.MultiplyG(DeterministicEcdsa.ToInt(key.D));

        Assert.True(c.Contains(x, y));
        Assert.Equal(DeterministicEcdsa.ToInt(key.Q.X), x);
        Assert.Equal(DeterministicEcdsa.ToInt(key.Q.Y), y);
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void SignData_OverManyMessages_AlwaysVerifiesWithDotNet(string curve)
    {
        using ECDsa generated = ECDsa.Create(NamedCurve(curve));
        ECParameters key = generated.ExportParameters(includePrivateParameters: true);
        HashAlgorithmName hash = DeterministicEcdsa.HashFor(key);
        for (int i = 0; i < 16; i++)
        {
            byte[] data = SHA256.HashData(BitConverter.GetBytes(i)).AsSpan(0, i).ToArray();
            Assert.True(generated.VerifyData(data, DeterministicEcdsa.SignData(key, data, hash), hash), $"message {i}");
        }
    }

    [Fact]
    public void SignData_WithPublicOnlyKey_ThrowsArgumentException()
    {
        (_, ECParameters key) = RfcKey("P-384");

        Assert.Throws<ArgumentException>(() => DeterministicEcdsa.SignData(AttestationKeys.PublicOnly(key), [1], HashAlgorithmName.SHA384));
    }

    [Fact]
    public void SignData_WithUnsupportedCurve_ThrowsArgumentException()
    {
        using ECDsa brainpool = ECDsa.Create(ECCurve.NamedCurves.brainpoolP256r1);
        ECParameters key = brainpool.ExportParameters(includePrivateParameters: true);

        Assert.Throws<ArgumentException>(() => DeterministicEcdsa.SignData(key, [1], HashAlgorithmName.SHA256));
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void CoseSign_SameKeyAndPayload_GivesIdenticalBytesThatVerifyEmbedded(string curve)
    {
        (_, ECParameters key) = RfcKey(curve);
        byte[] payload = "claims"u8.ToArray();

        byte[] first = CcaTokenEncoder.Sign(payload, key);
        byte[] second = CcaTokenEncoder.Sign(payload, key);

        Assert.Equal(first, second);
        using ECDsa verifier = AttestationKeys.CreateKey(AttestationKeys.PublicOnly(key));
        CoseSign1Message msg = CoseMessage.DecodeSign1(first);
        Assert.True(msg.VerifyEmbedded(verifier));
        Assert.Equal(payload, msg.Content!.Value.ToArray());
        Assert.NotEqual(first, CcaTokenEncoder.Sign("claimz"u8, key));
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void CoseSign_LaysOutBytesExactlyAsDotNetCoseSigner_ExceptTheSignature(string curve)
    {
        (EcCurve c, ECParameters key) = RfcKey(curve);
        byte[] payload = new byte[300];
        using ECDsa signer = AttestationKeys.CreateKey(key);

        byte[] ours = CcaTokenEncoder.Sign(payload, key);
        byte[] dotnet = CoseSign1Message.SignEmbedded(payload, new CoseSigner(signer, c.Hash));

        int sigLength = 2 * c.ByteLength;
        Assert.Equal(dotnet.Length, ours.Length);
        Assert.Equal(dotnet.AsSpan(0, dotnet.Length - sigLength).ToArray(), ours.AsSpan(0, ours.Length - sigLength).ToArray());
    }

    [Fact]
    public void CoseSign_Es384_StartsWithTag18AndProtectedAlgMinus35()
    {
        (_, ECParameters key) = RfcKey("P-384");

        byte[] token = CcaTokenEncoder.Sign([0xa0], key);

        // d2 (tag 18), 84 (array 4), 44 a1 01 38 22 ({1: -35}), a0 (empty map), 41 a0 (payload), 58 60 (96-byte r||s).
        Assert.Equal(new byte[] { 0xd2, 0x84, 0x44, 0xa1, 0x01, 0x38, 0x22, 0xa0, 0x41, 0xa0, 0x58, 0x60 }, token.AsSpan(0, 12).ToArray());
        Assert.Equal(12 + 96, token.Length);
    }

    [Fact]
    public void CreateToken_SamePlatformAndClaims_IsByteIdenticalAndVerifies()
    {
        PlatformDescription a = PlatformDescription.FromSeed("board-1");
        PlatformDescription b = PlatformDescription.FromSeed("board-1");
        RealmClaims claims = a.CreateRealmClaims(new byte[64], new byte[64], RealmHashAlgorithm.Sha256, new byte[32], Rems);

        byte[] first = a.CreateToken(claims);
        byte[] second = b.CreateToken(b.CreateRealmClaims(new byte[64], new byte[64], RealmHashAlgorithm.Sha256, new byte[32], Rems));

        Assert.Equal(first, second);
        Assert.True(CcaTokenVerifier.Verify(first, a.PlatformKey).IsValid);
    }

    [Fact]
    public void CreateToken_DifferentChallenge_ChangesTheRealmSignature()
    {
        PlatformDescription p = PlatformDescription.Default;
        byte[] other = new byte[64];
        other[0] = 1;

        byte[] a = p.SignRealmToken(p.CreateRealmClaims(new byte[64], new byte[64], RealmHashAlgorithm.Sha256, new byte[32], Rems));
        byte[] b = p.SignRealmToken(p.CreateRealmClaims(other, new byte[64], RealmHashAlgorithm.Sha256, new byte[32], Rems));

        Assert.NotEqual(a.AsSpan(a.Length - 96).ToArray(), b.AsSpan(b.Length - 96).ToArray());
    }

    private static (EcCurve Curve, ECParameters Key) RfcKey(string curve)
    {
        (EcCurve c, string d) = curve switch
        {
            "P-256" => (EcCurve.P256, P256D),
            "P-384" => (EcCurve.P384, P384D),
            _ => (EcCurve.P521, P521D),
        };
        byte[] scalar = Convert.FromHexString(d.PadLeft(c.ByteLength * 2, '0'));
        using ECDsa key = ECDsa.Create();
        key.ImportParameters(new ECParameters { Curve = NamedCurve(curve), D = scalar });
        return (c, key.ExportParameters(includePrivateParameters: true));
    }

    private static ECCurve NamedCurve(string curve) => curve switch
    {
        "P-256" => ECCurve.NamedCurves.nistP256,
        "P-384" => ECCurve.NamedCurves.nistP384,
        _ => ECCurve.NamedCurves.nistP521,
    };

    private static byte[] HashData(EcCurve c, byte[] data) =>
        c.Hash == HashAlgorithmName.SHA256 ? SHA256.HashData(data) : c.Hash == HashAlgorithmName.SHA384 ? SHA384.HashData(data) : SHA512.HashData(data);

    private static BigInteger Hex(string s) => BigInteger.Parse("0" + s, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}
