using System.Globalization;

namespace CcaSim.Cli.Console;

/// <summary>
/// Numbers and addresses in <c>ccasim rmm</c> scripts: hex with <c>0x</c> or decimal; <c>gN</c> / <c>gN+OFF</c>
/// for granule N of the pool plus OFF; <c>realm_pc</c> for the scripted realm's entry address.
/// </summary>
internal static class ScriptValues
{
    /// <summary>The fixed entry address of the scripted realm (any value below 2^47 would do).</summary>
    public const ulong RealmPc = 0x8_0000;

    public static bool TryParseNumber(ReadOnlySpan<char> s, out ulong value)
    {
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            return ulong.TryParse(s[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value) && s.Length > 2;
        }

        if (s.Length > 0 && s[0] == '-' && long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long negative))
        {
            value = unchecked((ulong)negative);
            return true;
        }

        return ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>A number, <c>realm_pc</c>, or a granule reference relative to <paramref name="poolBase"/>.</summary>
    public static bool TryParseValue(ReadOnlySpan<char> s, ulong poolBase, out ulong value)
    {
        if (s.SequenceEqual("realm_pc"))
        {
            value = RealmPc;
            return true;
        }

        if (s.Length > 1 && s[0] == 'g' && char.IsAsciiDigit(s[1]))
        {
            int plus = s.IndexOf('+');
            ReadOnlySpan<char> index = plus < 0 ? s[1..] : s[1..plus];
            ulong offset = 0;
            if (!ulong.TryParse(index, NumberStyles.None, CultureInfo.InvariantCulture, out ulong granule)
                || (plus >= 0 && !TryParseNumber(s[(plus + 1)..], out offset)))
            {
                value = 0;
                return false;
            }

            // An address past 2^64 is a bad argument, not a wrapped one (g4503599627370496 is not g0).
            value = 0;
            if (granule > ulong.MaxValue >> 12 || granule << 12 > ulong.MaxValue - poolBase)
            {
                return false;
            }

            ulong granuleAddress = poolBase + (granule << 12);
            if (offset > ulong.MaxValue - granuleAddress)
            {
                return false;
            }

            value = granuleAddress + offset;
            return true;
        }

        return TryParseNumber(s, out value);
    }

    /// <summary>Sizes for options: a number with an optional K, M, G or T suffix (powers of 1024).</summary>
    public static bool TryParseSize(string s, out ulong value)
    {
        int shift = s.Length == 0 ? 0 : char.ToUpperInvariant(s[^1]) switch { 'K' => 10, 'M' => 20, 'G' => 30, 'T' => 40, _ => 0 };
        ReadOnlySpan<char> digits = shift == 0 ? s : s.AsSpan(0, s.Length - 1);

        // A size or address is never negative: "-1" would otherwise wrap to 2^64 - 1.
        if (digits.StartsWith('-'))
        {
            value = 0;
            return false;
        }

        if (!TryParseNumber(digits, out value) || (value << shift) >> shift != value)
        {
            return false;
        }

        value <<= shift;
        return true;
    }
}
