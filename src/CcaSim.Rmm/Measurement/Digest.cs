using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace CcaSim.Rmm.Measurement;

/// <summary>
/// SHA-256 / SHA-512 for the measurement arithmetic. Populate hashes every granule and then a 256-byte descriptor,
/// so the per-call cost matters as much as the bulk rate: the BCL's one-shot <c>HashData</c> creates and frees an
/// OpenSSL EVP context on every call (about 0.4 µs here, more than hashing the descriptor itself), and even a
/// reused EVP context pays about 50 ns of provider dispatch per digest. This class calls libcrypto's
/// <c>SHA256_*</c> / <c>SHA512_*</c> functions with the context on the stack: deprecated in OpenSSL 3.0 in favour
/// of EVP, still exported by every 3.x libcrypto, and running the same SHA-NI / AVX code. Where libcrypto 3
/// cannot be loaded (non-Linux hosts) it falls back to the BCL. Both paths compute the standard digest; the
/// choice changes speed only.
/// </summary>
internal static unsafe class Digest
{
    /// <summary>Room for SHA512_CTX (216 bytes) and SHA256_CTX (112 bytes), 8-byte aligned.</summary>
    private const int ContextWords = 32;

    private static readonly Native? s_native = Native.TryLoad();

    /// <summary>True when hashing goes through libcrypto directly (else through the BCL).</summary>
    public static bool UsesLibcrypto => s_native is not null;

    /// <summary>SHA-256 (<paramref name="sha512"/> false) or SHA-512 of <paramref name="data"/> into the start of <paramref name="digest"/>.</summary>
    public static void Hash(bool sha512, ReadOnlySpan<byte> data, Span<byte> digest)
    {
        int size = sha512 ? SHA512.HashSizeInBytes : SHA256.HashSizeInBytes;
        ArgumentOutOfRangeException.ThrowIfLessThan(digest.Length, size);
        if (s_native is { } native && native.TryHash(sha512, data, digest))
        {
            return;
        }

        if (sha512)
        {
            SHA512.HashData(data, digest);
        }
        else
        {
            SHA256.HashData(data, digest);
        }
    }

    /// <summary>The libcrypto entry points, resolved once; TryLoad fails rather than build a partial set.</summary>
    private sealed class Native
    {
        private readonly delegate* unmanaged<ulong*, int> _init256;
        private readonly delegate* unmanaged<ulong*, byte*, nuint, int> _update256;
        private readonly delegate* unmanaged<byte*, ulong*, int> _final256;
        private readonly delegate* unmanaged<ulong*, int> _init512;
        private readonly delegate* unmanaged<ulong*, byte*, nuint, int> _update512;
        private readonly delegate* unmanaged<byte*, ulong*, int> _final512;

        private Native(nint library)
        {
            _init256 = (delegate* unmanaged<ulong*, int>)NativeLibrary.GetExport(library, "SHA256_Init");
            _update256 = (delegate* unmanaged<ulong*, byte*, nuint, int>)NativeLibrary.GetExport(library, "SHA256_Update");
            _final256 = (delegate* unmanaged<byte*, ulong*, int>)NativeLibrary.GetExport(library, "SHA256_Final");
            _init512 = (delegate* unmanaged<ulong*, int>)NativeLibrary.GetExport(library, "SHA512_Init");
            _update512 = (delegate* unmanaged<ulong*, byte*, nuint, int>)NativeLibrary.GetExport(library, "SHA512_Update");
            _final512 = (delegate* unmanaged<byte*, ulong*, int>)NativeLibrary.GetExport(library, "SHA512_Final");
        }

        public static Native? TryLoad()
        {
            if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad("libcrypto.so.3", out nint library))
            {
                return null;
            }

            string[] required = ["SHA256_Init", "SHA256_Update", "SHA256_Final", "SHA512_Init", "SHA512_Update", "SHA512_Final"];
            foreach (string name in required)
            {
                if (!NativeLibrary.TryGetExport(library, name, out _))
                {
                    return null;
                }
            }

            return new Native(library);
        }

        public bool TryHash(bool sha512, ReadOnlySpan<byte> data, Span<byte> digest)
        {
            ulong* context = stackalloc ulong[ContextWords];
            fixed (byte* input = data)
            fixed (byte* output = digest)
            {
                return sha512
                    ? _init512(context) == 1 && _update512(context, input, (nuint)data.Length) == 1 && _final512(output, context) == 1
                    : _init256(context) == 1 && _update256(context, input, (nuint)data.Length) == 1 && _final256(output, context) == 1;
            }
        }
    }
}
