namespace CcaSim.Rmm.Rtt;

/// <summary>Stage-2 translation geometry for 4 KiB granules (rmm-1.0.md §10).</summary>
internal static class S2Geometry
{
    public const int EntriesPerTable = 512;
    public const int MinLevelLpa2 = -1;

    /// <summary>Entries in an RTT at <paramref name="level"/>: 512, or 16 at level −1 (§10).</summary>
    public static int EntriesAt(int level) => level == MinLevelLpa2 ? 16 : EntriesPerTable;

    /// <summary>Address bit where an entry at <paramref name="level"/> starts: 12 at level 3 … 48 at level −1.</summary>
    public static int Shift(int level) => 12 + (9 * (3 - level));

    /// <summary>Bytes mapped by one entry at <paramref name="level"/>.</summary>
    public static ulong Span(int level) => 1UL << Shift(level);

    public static bool IsAligned(ulong ipa, int level) => (ipa & (Span(level) - 1)) == 0;

    /// <summary>Index of <paramref name="ipa"/> in a (non-root) table of <paramref name="level"/>.</summary>
    public static int Index(ulong ipa, int level) => (int)((ipa >> Shift(level)) & (EntriesPerTable - 1));

    /// <summary>
    /// Number of concatenated root tables for (s2sz, start level), or 0 if the pair is invalid.
    /// Valid iff 9·levels + 13 ≤ s2sz ≤ 9·levels + 21 (+4 with concatenation: start level > 0, or 0 with LPA2;
    /// start level −1 only with LPA2 and up to 52 bits); roots = 2^(s2sz − (9·levels + 21)) when positive.
    /// </summary>
    public static int RootCount(int s2sz, int startLevel, bool lpa2)
    {
        if (startLevel < (lpa2 ? -1 : 0) || startLevel > 3)
        {
            return 0;
        }

        int levels = 3 - startLevel;
        int min = (9 * levels) + 13;
        int max = (9 * levels) + 21;
        if (startLevel > 0 || (startLevel == 0 && lpa2))
        {
            max += 4;
        }

        if (startLevel == -1)
        {
            max = 52;
        }

        if (s2sz < min || s2sz > max)
        {
            return 0;
        }

        int excess = s2sz - ((9 * levels) + 21);
        return excess > 0 ? 1 << excess : 1;
    }
}
