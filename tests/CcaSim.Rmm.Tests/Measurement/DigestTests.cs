using System.Security.Cryptography;
using CcaSim.Rmm.Measurement;

namespace CcaSim.Rmm.Tests.Measurement;

public sealed class DigestTests
{
    // FIPS 180-2 appendix examples for the message "abc".
    private const string AbcSha256 = "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";
    private const string AbcSha512 = "DDAF35A193617ABACC417349AE20413112E6FA4E89A97EA20A9EEEE64B55D39A2192992A274FC1A836BA3C23A3FEEBBD454D4423643CE80E2A9AC94FA54CA49F";

    [Theory]
    [InlineData(false, AbcSha256)]
    [InlineData(true, AbcSha512)]
    public void Hash_OfAbc_IsTheFipsExample(bool sha512, string expected)
    {
        byte[] digest = new byte[64];

        Digest.Hash(sha512, "abc"u8, digest);

        Assert.Equal(expected, Convert.ToHexString(digest, 0, expected.Length / 2));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(55)]
    [InlineData(56)]
    [InlineData(64)]
    [InlineData(111)]
    [InlineData(112)]
    [InlineData(256)]
    [InlineData(4096)]
    [InlineData(10007)]
    public void Hash_OfAnyLength_MatchesTheBcl(int length)
    {
        byte[] data = new byte[length];
        new Random(length).NextBytes(data);
        byte[] sha256 = new byte[32];
        byte[] sha512 = new byte[64];

        Digest.Hash(false, data, sha256);
        Digest.Hash(true, data, sha512);

        Assert.Equal(SHA256.HashData(data), sha256);
        Assert.Equal(SHA512.HashData(data), sha512);
    }

    [Fact]
    public void Hash_OnLinux_GoesThroughLibcrypto()
    {
        // The fast path is what populate throughput depends on; losing it silently would only show in bench/.
        Assert.Equal(OperatingSystem.IsLinux(), Digest.UsesLibcrypto);
    }

    [Fact]
    public void Hash_IntoTooSmallADigest_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Digest.Hash(true, "abc"u8, new byte[32]));
    }
}
