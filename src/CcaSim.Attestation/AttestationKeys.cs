using System.Formats.Cbor;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace CcaSim.Attestation;

/// <summary>
/// Key handling for the CPAK (platform attestation key) and the RAK (realm attestation key): deterministic
/// derivation from a seed, PEM and JWK import, and the two RAK encodings carried in realm claim 44237.
/// </summary>
public static class AttestationKeys
{
    /// <summary>Size of a P-384 coordinate; COSE_Key x and y are exactly this long (attestation.md §2).</summary>
    public const int P384CoordinateSize = 48;

    /// <summary>Size of the encoded rel0 RAK COSE_Key: a4 01 02 20 02 21 58 30 x 22 58 30 y.</summary>
    public const int CoseKeySize = 107;

    /// <summary>Size of the legacy raw RAK: 0x04 ‖ X ‖ Y (SEC 1 uncompressed point).</summary>
    public const int RawPointSize = 97;

    // Order n of the P-384 group (FIPS 186-4 D.1.2.4).
    private static readonly BigInteger P384Order = BigInteger.Parse(
        "0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
        System.Globalization.NumberStyles.HexNumber,
        System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Derives a P-384 private key from a seed and a label: d = (SHA-512(seed ‖ UTF-8(label)) mod (n − 1)) + 1, so d
    /// is always in [1, n − 1]. The public point is computed by the platform's crypto provider on import (OpenSSL
    /// on Linux derives Q from D; checked by the tests), so the result holds both D and Q.
    /// </summary>
    public static ECParameters DeriveP384(ReadOnlySpan<byte> seed, string label)
    {
        byte[] input = [.. seed, .. Encoding.UTF8.GetBytes(label)];
        byte[] h = SHA512.HashData(input);
        BigInteger d = (new BigInteger(h, isUnsigned: true, isBigEndian: true) % (P384Order - 1)) + 1;
        byte[] raw = d.ToByteArray(isUnsigned: true, isBigEndian: true);
        byte[] scalar = new byte[P384CoordinateSize];
        raw.CopyTo(scalar, P384CoordinateSize - raw.Length);
        using ECDsa key = ECDsa.Create();
        key.ImportParameters(new ECParameters { Curve = ECCurve.NamedCurves.nistP384, D = scalar });
        return key.ExportParameters(includePrivateParameters: true);
    }

    /// <summary>Reads a P-384 private key from PEM ("EC PRIVATE KEY" or PKCS#8 "PRIVATE KEY").</summary>
    /// <exception cref="ArgumentException">The PEM holds no private key or the curve is not P-384.</exception>
    public static ECParameters LoadP384PrivateKeyPem(string pem)
    {
        using ECDsa key = ECDsa.Create();
        key.ImportFromPem(pem);
        ECParameters p = key.ExportParameters(includePrivateParameters: true);
        if (key.KeySize != 384 || p.D is null)
        {
            throw new ArgumentException("expected a P-384 private key", nameof(pem));
        }

        return p;
    }

    /// <summary>Reads a public key from a SubjectPublicKeyInfo PEM (or the public part of a private-key PEM).</summary>
    public static ECParameters LoadPublicKeyPem(string pem)
    {
        using ECDsa key = ECDsa.Create();
        key.ImportFromPem(pem);
        return key.ExportParameters(includePrivateParameters: false);
    }

    /// <summary>Exports the public part of a key as a SubjectPublicKeyInfo PEM, the form verifiers are given as trust anchor.</summary>
    public static string ExportPublicKeyPem(ECParameters key)
    {
        using ECDsa k = CreateKey(PublicOnly(key));
        return k.ExportSubjectPublicKeyInfoPem();
    }

    /// <summary>Creates an <see cref="ECDsa"/> from parameters; the caller disposes it.</summary>
    public static ECDsa CreateKey(ECParameters key)
    {
        ECDsa k = ECDsa.Create();
        try
        {
            k.ImportParameters(key);
            return k;
        }
        catch
        {
            k.Dispose();
            throw;
        }
    }

    /// <summary>The public half of a key (D removed).</summary>
    public static ECParameters PublicOnly(ECParameters key) => new() { Curve = key.Curve, Q = key.Q };

    /// <summary>
    /// Reads an EC JWK (RFC 7518 §6.2: kty "EC", crv P-256/P-384/P-521, base64url x and y) as Veraison's
    /// trust-anchor files carry it. Only decodes: whether the point is on the curve is found when the key is used.
    /// </summary>
    /// <exception cref="FormatException">The JSON is not an EC JWK of a supported curve.</exception>
    public static ECParameters FromJwk(string json)
    {
        using JsonDocument doc = JsonDocument.Parse(json);
        return FromJwk(doc.RootElement);
    }

    /// <summary>Reads an EC JWK from a JSON element (see <see cref="FromJwk(string)"/>).</summary>
    public static ECParameters FromJwk(JsonElement jwk)
    {
        if (jwk.ValueKind != JsonValueKind.Object || !jwk.TryGetProperty("kty", out JsonElement kty) || kty.GetString() != "EC")
        {
            throw new FormatException("not an EC JWK");
        }

        (ECCurve curve, int size) = jwk.GetProperty("crv").GetString() switch
        {
            "P-256" => (ECCurve.NamedCurves.nistP256, 32),
            "P-384" => (ECCurve.NamedCurves.nistP384, 48),
            "P-521" => (ECCurve.NamedCurves.nistP521, 66),
            string other => throw new FormatException($"unsupported JWK curve {other}"),
            null => throw new FormatException("JWK crv missing"),
        };
        byte[] x = Base64Url(jwk.GetProperty("x").GetString());
        byte[] y = Base64Url(jwk.GetProperty("y").GetString());
        if (x.Length != size || y.Length != size)
        {
            throw new FormatException("JWK coordinate has the wrong size for its curve");
        }

        return new ECParameters { Curve = curve, Q = new ECPoint { X = x, Y = y } };
    }

    /// <summary>
    /// Encodes a P-384 public key as the rel0 RAK COSE_Key {1: 2 (EC2), -1: 2 (P-384), -2: x, -3: y}: exactly these
    /// four entries in this order, as t_cose emits them for TF-RMM, giving 107 bytes (attestation.md §2).
    /// </summary>
    public static byte[] EncodeCoseKey(ECParameters key)
    {
        ECPoint q = key.Q;
        if (q.X is not { Length: P384CoordinateSize } || q.Y is not { Length: P384CoordinateSize })
        {
            throw new ArgumentException("the RAK must be a P-384 key with its public point", nameof(key));
        }

        var w = new CborWriter(CborConformanceMode.Strict);
        w.WriteStartMap(4);
        w.WriteInt32(1);
        w.WriteInt32(2);
        w.WriteInt32(-1);
        w.WriteInt32(2);
        w.WriteInt32(-2);
        w.WriteByteString(q.X);
        w.WriteInt32(-3);
        w.WriteByteString(q.Y);
        w.WriteEndMap();
        return w.Encode();
    }

    /// <summary>Encodes a P-384 public key as the legacy raw RAK 0x04 ‖ X ‖ Y (97 bytes).</summary>
    public static byte[] EncodeRawPoint(ECParameters key)
    {
        ECPoint q = key.Q;
        if (q.X is not { Length: P384CoordinateSize } || q.Y is not { Length: P384CoordinateSize })
        {
            throw new ArgumentException("the RAK must be a P-384 key with its public point", nameof(key));
        }

        return [0x04, .. q.X, .. q.Y];
    }

    /// <summary>
    /// Decodes a RAK COSE_Key (kty EC2, crv P-384, 48-byte x and y; other entries ignored). Returns null and a reason
    /// when the bytes are not such a key. Never throws.
    /// </summary>
    public static ECParameters? TryDecodeCoseKey(ReadOnlyMemory<byte> bytes, out string? error)
    {
        try
        {
            Dictionary<long, ReadOnlyMemory<byte>>? map = CborMaps.TryReadIntKeyedMap(bytes, out error);
            if (map is null)
            {
                return null;
            }

            if (!map.TryGetValue(1, out ReadOnlyMemory<byte> kty) || CborMaps.TryReadInt(kty) != 2)
            {
                error = "COSE_Key kty (1) is not 2 (EC2)";
                return null;
            }

            if (!map.TryGetValue(-1, out ReadOnlyMemory<byte> crv) || CborMaps.TryReadInt(crv) != 2)
            {
                error = "COSE_Key crv (-1) is not 2 (P-384)";
                return null;
            }

            byte[]? x = map.TryGetValue(-2, out ReadOnlyMemory<byte> xv) ? CborMaps.TryReadBytes(xv) : null;
            byte[]? y = map.TryGetValue(-3, out ReadOnlyMemory<byte> yv) ? CborMaps.TryReadBytes(yv) : null;
            if (x is not { Length: P384CoordinateSize } || y is not { Length: P384CoordinateSize })
            {
                error = "COSE_Key x (-2) and y (-3) must be 48-byte bstr";
                return null;
            }

            error = null;
            return new ECParameters { Curve = ECCurve.NamedCurves.nistP384, Q = new ECPoint { X = x, Y = y } };
        }
        catch (Exception e) when (e is CborContentException or InvalidOperationException or OverflowException)
        {
            error = "COSE_Key is not well-formed CBOR: " + e.Message;
            return null;
        }
    }

    /// <summary>Decodes a legacy raw RAK (97 bytes, 0x04 ‖ X ‖ Y). Returns null and a reason otherwise.</summary>
    public static ECParameters? TryDecodeRawPoint(ReadOnlySpan<byte> bytes, out string? error)
    {
        if (bytes.Length != RawPointSize || bytes[0] != 0x04)
        {
            error = $"raw RAK must be 97 bytes starting 0x04 (got {bytes.Length} bytes)";
            return null;
        }

        error = null;
        return new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP384,
            Q = new ECPoint { X = bytes[1..49].ToArray(), Y = bytes[49..].ToArray() },
        };
    }

    private static byte[] Base64Url(string? s)
    {
        if (s is null)
        {
            throw new FormatException("JWK coordinate missing");
        }

        string b = s.Replace('-', '+').Replace('_', '/');
        b = b.PadRight(b.Length + ((4 - (b.Length % 4)) % 4), '=');
        return Convert.FromBase64String(b);
    }
}
