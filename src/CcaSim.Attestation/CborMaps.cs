using System.Formats.Cbor;
using System.Text;

namespace CcaSim.Attestation;

/// <summary>
/// Small, non-throwing readers over third-party CBOR. Maps are read as "integer key → encoded value" so each
/// claim can be type-checked on its own and a bad claim is reported by name instead of aborting the parse.
/// Reading is Lax (any well-formed encoding is accepted: verifiers take what other emitters produce).
/// </summary>
internal static class CborMaps
{
    /// <summary>
    /// Reads one complete data item that must be a map. Integer keys map to their encoded values; text keys are only
    /// checked for duplicates (EAT: unknown claims are ignored); other key types are skipped.
    /// </summary>
    public static Dictionary<long, ReadOnlyMemory<byte>>? TryReadIntKeyedMap(ReadOnlyMemory<byte> encoded, out string? error)
    {
        try
        {
            var r = new CborReader(encoded, CborConformanceMode.Lax);
            if (r.PeekState() != CborReaderState.StartMap)
            {
                error = $"expected a map, found {r.PeekState()}";
                return null;
            }

            r.ReadStartMap();
            var map = new Dictionary<long, ReadOnlyMemory<byte>>();
            var textKeys = new HashSet<string>(StringComparer.Ordinal);
            while (r.PeekState() != CborReaderState.EndMap)
            {
                CborReaderState keyState = r.PeekState();
                if (keyState is CborReaderState.UnsignedInteger or CborReaderState.NegativeInteger)
                {
                    long key = r.ReadInt64();
                    if (!map.TryAdd(key, r.ReadEncodedValue()))
                    {
                        error = $"duplicate map key {key}";
                        return null;
                    }
                }
                else if (keyState == CborReaderState.TextString)
                {
                    string key = r.ReadTextString();
                    if (!textKeys.Add(key))
                    {
                        error = $"duplicate map key \"{key}\"";
                        return null;
                    }

                    r.SkipValue();
                }
                else
                {
                    r.SkipValue();
                    r.SkipValue();
                }
            }

            r.ReadEndMap();
            if (r.BytesRemaining != 0)
            {
                error = $"{r.BytesRemaining} trailing bytes after the map";
                return null;
            }

            error = null;
            return map;
        }
        catch (Exception e) when (e is CborContentException or InvalidOperationException or OverflowException or DecoderFallbackException)
        {
            error = "malformed CBOR: " + e.Message;
            return null;
        }
    }

    /// <summary>The item as a byte string, or null if it is anything else (tags are not looked through).</summary>
    public static byte[]? TryReadBytes(ReadOnlyMemory<byte> encoded)
    {
        try
        {
            var r = new CborReader(encoded, CborConformanceMode.Lax);
            return r.PeekState() == CborReaderState.StartIndefiniteLengthByteString || r.PeekState() == CborReaderState.ByteString ? r.ReadByteString() : null;
        }
        catch (Exception e) when (e is CborContentException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>The item as a text string, or null.</summary>
    public static string? TryReadText(ReadOnlyMemory<byte> encoded)
    {
        try
        {
            var r = new CborReader(encoded, CborConformanceMode.Lax);
            return r.PeekState() is CborReaderState.TextString or CborReaderState.StartIndefiniteLengthTextString ? r.ReadTextString() : null;
        }
        catch (Exception e) when (e is CborContentException or InvalidOperationException or DecoderFallbackException)
        {
            return null;
        }
    }

    /// <summary>The item as an integer in the range of long, or null.</summary>
    public static long? TryReadInt(ReadOnlyMemory<byte> encoded)
    {
        try
        {
            var r = new CborReader(encoded, CborConformanceMode.Lax);
            return r.PeekState() is CborReaderState.UnsignedInteger or CborReaderState.NegativeInteger ? r.ReadInt64() : null;
        }
        catch (Exception e) when (e is CborContentException or InvalidOperationException or OverflowException)
        {
            return null;
        }
    }

    /// <summary>The item as an unsigned integer, or null (negative integers and other types are null).</summary>
    public static ulong? TryReadUInt(ReadOnlyMemory<byte> encoded)
    {
        try
        {
            var r = new CborReader(encoded, CborConformanceMode.Lax);
            return r.PeekState() == CborReaderState.UnsignedInteger ? r.ReadUInt64() : null;
        }
        catch (Exception e) when (e is CborContentException or InvalidOperationException or OverflowException)
        {
            return null;
        }
    }

    /// <summary>The item as an array of encoded elements, or null.</summary>
    public static List<ReadOnlyMemory<byte>>? TryReadArray(ReadOnlyMemory<byte> encoded)
    {
        try
        {
            var r = new CborReader(encoded, CborConformanceMode.Lax);
            if (r.PeekState() != CborReaderState.StartArray)
            {
                return null;
            }

            r.ReadStartArray();
            var items = new List<ReadOnlyMemory<byte>>();
            while (r.PeekState() != CborReaderState.EndArray)
            {
                items.Add(r.ReadEncodedValue());
            }

            r.ReadEndArray();
            return items;
        }
        catch (Exception e) when (e is CborContentException or InvalidOperationException)
        {
            return null;
        }
    }
}
