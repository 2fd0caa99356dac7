using System.Formats.Cbor;
using System.Security.Cryptography;
using System.Security.Cryptography.Cose;

namespace CcaSim.Attestation.Tests;

/// <summary>Access to the copied third-party vectors (see TestData/NOTICE) and small token helpers.</summary>
internal static class TestData
{
    public static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "TestData", name);

    public static byte[] Bytes(string name) => File.ReadAllBytes(PathOf(name));

    public static string Text(string name) => File.ReadAllText(PathOf(name));

    /// <summary>The platform key in a key file: a Veraison trust-anchor list (first entry), a bare JWK, or a PEM.</summary>
    public static ECParameters Key(string name)
    {
        string text = Text(name);
        if (name.EndsWith(".json", StringComparison.Ordinal))
        {
            return text.TrimStart().StartsWith('[') ? TrustAnchor.ParseList(text)[0].Key : AttestationKeys.FromJwk(text);
        }

        return AttestationKeys.LoadPublicKeyPem(text);
    }

    /// <summary>The two bstr values of a tag-399 collection.</summary>
    public static (byte[] Platform, byte[] Realm) Split(byte[] token)
    {
        var r = new CborReader(token);
        Assert.Equal(399UL, (ulong)r.ReadTag());
        r.ReadStartMap();
        Assert.Equal(44234, r.ReadInt32());
        byte[] platform = r.ReadByteString();
        Assert.Equal(44241, r.ReadInt32());
        byte[] realm = r.ReadByteString();
        r.ReadEndMap();
        return (platform, realm);
    }

    /// <summary>The claims payload of a COSE_Sign1.</summary>
    public static byte[] Payload(byte[] sign1) => CoseMessage.DecodeSign1(sign1).Content!.Value.ToArray();

    /// <summary>The integer keys of a CBOR map, in encoded order.</summary>
    public static long[] MapKeys(byte[] map)
    {
        var r = new CborReader(map);
        r.ReadStartMap();
        var keys = new List<long>();
        while (r.PeekState() != CborReaderState.EndMap)
        {
            keys.Add(r.ReadInt64());
            r.SkipValue();
        }

        return [.. keys];
    }

    public static byte[] Filled(int length, byte value) => Enumerable.Repeat(value, length).ToArray();
}
