using System.Security.Cryptography;

namespace CcaSim.Attestation;

/// <summary>The realm measurement algorithm, numbered as RmiHashAlgorithm (RMM 1.0 §B4.4.3: 0 SHA-256, 1 SHA-512).</summary>
public enum RealmHashAlgorithm
{
    Sha256 = 0,
    Sha512 = 1,
}

/// <summary>Maps the text hash-algorithm ids carried in tokens to digest sizes and implementations.</summary>
public static class AttestationHash
{
    /// <summary>Text id of a realm hash algorithm as written in claim 44236.</summary>
    public static string Name(RealmHashAlgorithm algorithm) => algorithm switch
    {
        RealmHashAlgorithm.Sha256 => ClaimValues.Sha256,
        RealmHashAlgorithm.Sha512 => ClaimValues.Sha512,
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };

    /// <summary>Digest size of a realm hash algorithm: the size of the RIM and of each REM TF-RMM emits.</summary>
    public static int DigestSize(RealmHashAlgorithm algorithm) => algorithm switch
    {
        RealmHashAlgorithm.Sha256 => 32,
        RealmHashAlgorithm.Sha512 => 64,
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };

    /// <summary>Digest size for a text id, or 0 if the id is not one of sha-256/-384/-512.</summary>
    public static int DigestSize(string? name) => name switch
    {
        ClaimValues.Sha256 => 32,
        ClaimValues.Sha384 => 48,
        ClaimValues.Sha512 => 64,
        _ => 0,
    };

    /// <summary>Hashes <paramref name="data"/> with the algorithm named by a token's text id, or returns null for an unknown id.</summary>
    public static byte[]? TryCompute(string? name, ReadOnlySpan<byte> data) => name switch
    {
        ClaimValues.Sha256 => SHA256.HashData(data),
        ClaimValues.Sha384 => SHA384.HashData(data),
        ClaimValues.Sha512 => SHA512.HashData(data),
        _ => null,
    };

    /// <summary>True for a digest size allowed for measurements and challenges (32, 48 or 64 bytes).</summary>
    public static bool IsDigestSize(int length) => length is 32 or 48 or 64;
}
