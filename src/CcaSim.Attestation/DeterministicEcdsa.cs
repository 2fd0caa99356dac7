using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;

namespace CcaSim.Attestation;

/// <summary>
/// Deterministic ECDSA (RFC 6979 §3.2): the nonce k is drawn from HMAC-DRBG seeded with the private key and the
/// message hash, so the same key and message always give the same signature. The project needs this because its
/// transcripts must be byte-identical run after run, and .NET's <see cref="ECDsa"/> (OpenSSL 3.0 on Linux) draws k
/// at random and offers no way to choose it.
/// </summary>
/// <remarks>
/// Arithmetic is System.Numerics.BigInteger with Jacobian coordinates. It is NOT constant-time: timing leaks the
/// scalar. That is acceptable here only because this is a simulator whose keys are derived from public seeds; do
/// not reuse this code to protect real keys.
/// </remarks>
public static class DeterministicEcdsa
{
    /// <summary>
    /// Signs a message hash with RFC 6979 nonce generation and returns r ‖ s, each as wide as the group order
    /// (IEEE P1363, the form COSE uses: RFC 9053 §2.1).
    /// </summary>
    /// <param name="key">A private key on P-256, P-384 or P-521.</param>
    /// <param name="hash">H(m), computed with <paramref name="hashAlgorithm"/>.</param>
    /// <param name="hashAlgorithm">The hash that made <paramref name="hash"/>; RFC 6979 keys its HMAC with the same one.</param>
    /// <exception cref="ArgumentException">The key has no private part, lies on another curve, or the hash is not SHA-256/384/512.</exception>
    public static byte[] SignHash(ECParameters key, ReadOnlySpan<byte> hash, HashAlgorithmName hashAlgorithm)
    {
        EcCurve curve = EcCurve.For(key);
        if (key.D is null)
        {
            throw new ArgumentException("the key has no private part", nameof(key));
        }

        BigInteger d = ToInt(key.D);
        if (d.Sign <= 0 || d >= curve.N)
        {
            throw new ArgumentException("the private scalar is not in [1, n-1]", nameof(key));
        }

        (BigInteger r, BigInteger s) = Sign(curve, d, hash, hashAlgorithm, out _);
        byte[] sig = new byte[2 * curve.ByteLength];
        WriteFixed(r, sig.AsSpan(0, curve.ByteLength));
        WriteFixed(s, sig.AsSpan(curve.ByteLength));
        return sig;
    }

    /// <summary>Hashes <paramref name="data"/> and signs it (see <see cref="SignHash"/>).</summary>
    public static byte[] SignData(ECParameters key, ReadOnlySpan<byte> data, HashAlgorithmName hashAlgorithm) =>
        SignHash(key, Hash(hashAlgorithm, data), hashAlgorithm);

    /// <summary>The hash a COSE ECDSA algorithm pairs with a key's curve (RFC 9053 §2.1): P-256 → SHA-256, P-384 → SHA-384, P-521 → SHA-512.</summary>
    /// <exception cref="ArgumentException">The curve is not one of the three.</exception>
    public static HashAlgorithmName HashFor(ECParameters key) => EcCurve.For(key).Hash;

    /// <summary>The RFC 6979 core, exposed to the tests so they can check k against the RFC's vectors.</summary>
    internal static (BigInteger R, BigInteger S) Sign(EcCurve curve, BigInteger d, ReadOnlySpan<byte> hash, HashAlgorithmName hmacHash, out BigInteger k)
    {
        // ECDSA uses the leftmost qlen bits of the hash (SEC 1 §4.1.3 step 5), which is RFC 6979's bits2int.
        BigInteger e = Bits2Int(hash, curve.QLen);
        using var drbg = new HmacDrbg(curve, d, hash, hmacHash);
        while (true)
        {
            k = drbg.NextK();
            BigInteger r = Mod(curve.MultiplyG(k).X, curve.N);
            if (r.IsZero)
            {
                continue;
            }

            BigInteger s = Mod(BigInteger.ModPow(k, curve.N - 2, curve.N) * (e + (r * d)), curve.N);
            if (!s.IsZero)
            {
                return (r, s);
            }
        }
    }

    internal static BigInteger ToInt(ReadOnlySpan<byte> bigEndian) => new(bigEndian, isUnsigned: true, isBigEndian: true);

    internal static BigInteger Mod(BigInteger x, BigInteger m)
    {
        BigInteger r = BigInteger.Remainder(x, m);
        return r.Sign < 0 ? r + m : r;
    }

    // RFC 6979 §2.3.2: the leftmost qlen bits of b as an integer.
    private static BigInteger Bits2Int(ReadOnlySpan<byte> b, int qlen)
    {
        BigInteger x = ToInt(b);
        int blen = b.Length * 8;
        return blen > qlen ? x >> (blen - qlen) : x;
    }

    private static void WriteFixed(BigInteger x, Span<byte> into)
    {
        into.Clear();
        byte[] raw = x.ToByteArray(isUnsigned: true, isBigEndian: true);
        raw.CopyTo(into[(into.Length - raw.Length)..]);
    }

    private static byte[] Hash(HashAlgorithmName name, ReadOnlySpan<byte> data)
    {
        if (name == HashAlgorithmName.SHA256)
        {
            return SHA256.HashData(data);
        }

        if (name == HashAlgorithmName.SHA384)
        {
            return SHA384.HashData(data);
        }

        if (name == HashAlgorithmName.SHA512)
        {
            return SHA512.HashData(data);
        }

        throw new ArgumentException($"unsupported hash {name.Name}", nameof(name));
    }

    /// <summary>RFC 6979 §3.2 steps b–h: HMAC-DRBG seeded with int2octets(x) ‖ bits2octets(h1).</summary>
    private sealed class HmacDrbg : IDisposable
    {
        private readonly EcCurve _curve;
        private readonly HashAlgorithmName _hash;
        private byte[] _k;
        private byte[] _v;
        private bool _first = true;

        public HmacDrbg(EcCurve curve, BigInteger x, ReadOnlySpan<byte> h1, HashAlgorithmName hash)
        {
            _curve = curve;
            _hash = hash;
            int hlen = Hash(hash, []).Length;
            _v = new byte[hlen];
            _v.AsSpan().Fill(0x01);
            _k = new byte[hlen];
            byte[] seed = [.. Int2Octets(x), .. Bits2Octets(h1)];
            _k = Mac(_k, [.. _v, 0x00, .. seed]);
            _v = Mac(_k, _v);
            _k = Mac(_k, [.. _v, 0x01, .. seed]);
            _v = Mac(_k, _v);
        }

        public BigInteger NextK()
        {
            while (true)
            {
                if (!_first)
                {
                    // Step h.3: a rejected candidate (or a signature with r or s zero) reseeds before the next try.
                    _k = Mac(_k, [.. _v, 0x00]);
                    _v = Mac(_k, _v);
                }

                _first = false;
                var t = new List<byte>(_curve.RLen / 8 + _v.Length);
                while (t.Count * 8 < _curve.QLen)
                {
                    _v = Mac(_k, _v);
                    t.AddRange(_v);
                }

                BigInteger k = Bits2Int(t.ToArray(), _curve.QLen);
                if (k.Sign > 0 && k < _curve.N)
                {
                    return k;
                }
            }
        }

        public void Dispose()
        {
            CryptographicOperations.ZeroMemory(_k);
            CryptographicOperations.ZeroMemory(_v);
        }

        // §2.3.3: x as rlen/8 big-endian octets.
        private byte[] Int2Octets(BigInteger x)
        {
            byte[] o = new byte[_curve.RLen / 8];
            WriteFixed(x, o);
            return o;
        }

        // §2.3.4: bits2int, reduced once modulo q, as octets.
        private byte[] Bits2Octets(ReadOnlySpan<byte> b)
        {
            BigInteger z = Bits2Int(b, _curve.QLen);
            return Int2Octets(z >= _curve.N ? z - _curve.N : z);
        }

        private byte[] Mac(byte[] key, byte[] data)
        {
            if (_hash == HashAlgorithmName.SHA256)
            {
                return HMACSHA256.HashData(key, data);
            }

            return _hash == HashAlgorithmName.SHA384 ? HMACSHA384.HashData(key, data) : HMACSHA512.HashData(key, data);
        }
    }
}

/// <summary>
/// A NIST prime curve y² = x³ − 3x + b (FIPS 186-4 D.1.2) with the Jacobian-coordinate arithmetic deterministic
/// ECDSA needs. Not constant-time (see <see cref="DeterministicEcdsa"/>).
/// </summary>
internal sealed class EcCurve
{
    public static readonly EcCurve P256 = new(
        "FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF",
        "5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B",
        "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551",
        "6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296",
        "4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5",
        256,
        HashAlgorithmName.SHA256);

    public static readonly EcCurve P384 = new(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFFFF0000000000000000FFFFFFFF",
        "B3312FA7E23EE7E4988E056BE3F82D19181D9C6EFE8141120314088F5013875AC656398D8A2ED19D2A85C8EDD3EC2AEF",
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
        "AA87CA22BE8B05378EB1C71EF320AD746E1D3B628BA79B9859F741E082542A385502F25DBF55296C3A545E3872760AB7",
        "3617DE4A96262C6F5D9E98BF9292DC29F8F41DBD289A147CE9DA3113B5F0B8C00A60B1CE1D7E819D7A431D7C90EA0E5F",
        384,
        HashAlgorithmName.SHA384);

    public static readonly EcCurve P521 = new(
        "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
        "0051953EB9618E1C9A1F929A21A0B68540EEA2DA725B99B315F3B8B489918EF109E156193951EC7E937B1652C0BD3BB1BF073573DF883D2C34F1EF451FD46B503F00",
        "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409",
        "00C6858E06B70404E9CD9E3ECB662395B4429C648139053FB521F828AF606B4D3DBAA14B5E77EFE75928FE1DC127A2FFA8DE3348B3C1856A429BF97E7E31C2E5BD66",
        "011839296A789A3BC0045C8A5FB42C7D1BD998F54449579B446817AFBD17273E662C97EE72995EF42640C550B9013FAD0761353C7086A272C24088BE94769FD16650",
        521,
        HashAlgorithmName.SHA512);

    private EcCurve(string p, string b, string n, string gx, string gy, int bits, HashAlgorithmName hash)
    {
        P = Hex(p);
        B = Hex(b);
        N = Hex(n);
        Gx = Hex(gx);
        Gy = Hex(gy);
        QLen = bits;
        RLen = (bits + 7) / 8 * 8;
        Hash = hash;
    }

    public BigInteger P { get; }

    public BigInteger B { get; }

    /// <summary>The group order q (RFC 6979 notation).</summary>
    public BigInteger N { get; }

    public BigInteger Gx { get; }

    public BigInteger Gy { get; }

    /// <summary>Bit length of q.</summary>
    public int QLen { get; }

    /// <summary>qlen rounded up to whole octets.</summary>
    public int RLen { get; }

    public int ByteLength => RLen / 8;

    /// <summary>The hash COSE pairs with this curve (ES256/ES384/ES512).</summary>
    public HashAlgorithmName Hash { get; }

    /// <summary>The curve a key lies on, by OID (falling back to the name, then to the scalar's size).</summary>
    /// <exception cref="ArgumentException">Not P-256, P-384 or P-521.</exception>
    public static EcCurve For(ECParameters key)
    {
        string? oid = key.Curve.Oid?.Value;
        string? name = key.Curve.Oid?.FriendlyName;
        if (oid == "1.2.840.10045.3.1.7" || name is "nistP256" or "ECDSA_P256" or "secp256r1")
        {
            return P256;
        }

        if (oid == "1.3.132.0.34" || name is "nistP384" or "ECDSA_P384" or "secp384r1")
        {
            return P384;
        }

        if (oid == "1.3.132.0.35" || name is "nistP521" or "ECDSA_P521" or "secp521r1")
        {
            return P521;
        }

        throw new ArgumentException("only the named curves P-256, P-384 and P-521 are supported", nameof(key));
    }

    /// <summary>k·G in affine coordinates (left-to-right double-and-add, mixed Jacobian + affine additions).</summary>
    public (BigInteger X, BigInteger Y) MultiplyG(BigInteger k)
    {
        var acc = Jacobian.Infinity;
        for (long i = (long)k.GetBitLength() - 1; i >= 0; i--)
        {
            acc = Double(acc);
            if (!(k >> (int)i).IsEven)
            {
                acc = AddAffine(acc, Gx, Gy);
            }
        }

        return ToAffine(acc);
    }

    /// <summary>Whether (x, y) satisfies the curve equation; the tests use it as a sanity check.</summary>
    public bool Contains(BigInteger x, BigInteger y) =>
        Mod((y * y) - ((x * x * x) - (3 * x) + B)) == 0;

    private static BigInteger Hex(string s) =>
        BigInteger.Parse("0" + s, NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    private BigInteger Mod(BigInteger x) => DeterministicEcdsa.Mod(x, P);

    private (BigInteger X, BigInteger Y) ToAffine(Jacobian q)
    {
        if (q.IsInfinity)
        {
            throw new InvalidOperationException("k·G is the point at infinity, impossible for 0 < k < n");
        }

        BigInteger zInv = BigInteger.ModPow(q.Z, P - 2, P);
        BigInteger zInv2 = Mod(zInv * zInv);
        return (Mod(q.X * zInv2), Mod(q.Y * zInv2 * zInv));
    }

    // dbl-2001-b (a = −3): δ = Z², γ = Y², β = Xγ, α = 3(X − δ)(X + δ).
    private Jacobian Double(Jacobian q)
    {
        if (q.IsInfinity || q.Y.IsZero)
        {
            return Jacobian.Infinity;
        }

        BigInteger delta = Mod(q.Z * q.Z);
        BigInteger gamma = Mod(q.Y * q.Y);
        BigInteger beta = Mod(q.X * gamma);
        BigInteger alpha = Mod(3 * (q.X - delta) * (q.X + delta));
        BigInteger x3 = Mod((alpha * alpha) - (8 * beta));
        BigInteger z3 = Mod(((q.Y + q.Z) * (q.Y + q.Z)) - gamma - delta);
        BigInteger y3 = Mod((alpha * ((4 * beta) - x3)) - (8 * gamma * gamma));
        return new Jacobian(x3, y3, z3);
    }

    // madd (Z2 = 1): U2 = x2·Z1², S2 = y2·Z1³, H = U2 − X1, r = S2 − Y1.
    private Jacobian AddAffine(Jacobian q, BigInteger x2, BigInteger y2)
    {
        if (q.IsInfinity)
        {
            return new Jacobian(x2, y2, BigInteger.One);
        }

        BigInteger z1z1 = Mod(q.Z * q.Z);
        BigInteger u2 = Mod(x2 * z1z1);
        BigInteger s2 = Mod(y2 * q.Z * z1z1);
        BigInteger h = Mod(u2 - q.X);
        BigInteger r = Mod(s2 - q.Y);
        if (h.IsZero)
        {
            return r.IsZero ? Double(q) : Jacobian.Infinity;
        }

        BigInteger hh = Mod(h * h);
        BigInteger hhh = Mod(hh * h);
        BigInteger v = Mod(q.X * hh);
        BigInteger x3 = Mod((r * r) - hhh - (2 * v));
        BigInteger y3 = Mod((r * (v - x3)) - (q.Y * hhh));
        BigInteger z3 = Mod(q.Z * h);
        return new Jacobian(x3, y3, z3);
    }

    private readonly record struct Jacobian(BigInteger X, BigInteger Y, BigInteger Z)
    {
        public static Jacobian Infinity => new(BigInteger.One, BigInteger.One, BigInteger.Zero);

        public bool IsInfinity => Z.IsZero;
    }
}
