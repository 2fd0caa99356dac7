namespace CcaSim.Kvm;

/// <summary>One maximal run of equal non-zero values over [Start, End) in a <see cref="SparseRangeMap"/>.</summary>
public readonly record struct ValueRange(ulong Start, ulong End, ulong Value)
{
    public ulong Length => End - Start;
}

/// <summary>
/// A map from 64-bit keys (gfns, file page indices) to values where 0 is the default, stored as sorted,
/// disjoint, coalesced runs. Linux keeps memory attributes in a per-page xarray, which makes setting a 1 TiB
/// range cost 2^28 stores; here time and space grow with the number of distinct runs instead. Invariants: runs
/// are sorted by start, never overlap, never hold 0, and no two adjacent runs touch with equal values.
/// </summary>
internal sealed class SparseRangeMap
{
    private readonly List<ValueRange> _runs = [];

    public int RunCount => _runs.Count;

    public IReadOnlyList<ValueRange> Runs => _runs;

    public ulong Get(ulong key)
    {
        int i = FirstEndingAfter(key);
        return i < _runs.Count && _runs[i].Start <= key ? _runs[i].Value : 0;
    }

    /// <summary>Gives every key in [start, end) the value <paramref name="value"/> (0 erases).</summary>
    public void Set(ulong start, ulong end, ulong value)
    {
        if (start >= end)
        {
            return;
        }

        int first = FirstEndingAfter(start);
        int last = first;
        while (last < _runs.Count && _runs[last].Start < end)
        {
            last++;
        }

        // Runs [first, last) overlap the range; keep whatever sticks out on either side.
        Span<ValueRange> replacement = stackalloc ValueRange[3];
        int n = 0;
        if (first < last && _runs[first].Start < start)
        {
            replacement[n++] = _runs[first] with { End = start };
        }

        if (value != 0)
        {
            replacement[n++] = new ValueRange(start, end, value);
        }

        if (first < last && _runs[last - 1].End > end)
        {
            replacement[n++] = _runs[last - 1] with { Start = end };
        }

        _runs.RemoveRange(first, last - first);
        for (int k = 0; k < n; k++)
        {
            _runs.Insert(first + k, replacement[k]);
        }

        Coalesce(Math.Max(first - 1, 0), Math.Min(first + n, _runs.Count - 1));
    }

    /// <summary>Gives the value to every key in [start, end) that currently holds 0, leaving the others alone.</summary>
    public void FillGaps(ulong start, ulong end, ulong value)
    {
        ulong cursor = start;
        var gaps = new List<(ulong Start, ulong End)>();
        for (int i = FirstEndingAfter(start); i < _runs.Count && _runs[i].Start < end && cursor < end; i++)
        {
            if (_runs[i].Start > cursor)
            {
                gaps.Add((cursor, _runs[i].Start));
            }

            cursor = Math.Max(cursor, _runs[i].End);
        }

        if (cursor < end)
        {
            gaps.Add((cursor, end));
        }

        foreach ((ulong s, ulong e) in gaps)
        {
            Set(s, e, value);
        }
    }

    /// <summary>Does any key in [start, end) hold a non-zero value?</summary>
    public bool AnyIn(ulong start, ulong end)
    {
        if (start >= end)
        {
            return false;
        }

        int i = FirstEndingAfter(start);
        return i < _runs.Count && _runs[i].Start < end;
    }

    /// <summary>Does every key in [start, end) hold a non-zero value v with (v &amp; mask) == expected?</summary>
    public bool AllIn(ulong start, ulong end, ulong mask, ulong expected)
    {
        ulong cursor = start;
        for (int i = FirstEndingAfter(start); cursor < end; i++)
        {
            if (i >= _runs.Count || _runs[i].Start > cursor || (_runs[i].Value & mask) != expected)
            {
                return false;
            }

            cursor = _runs[i].End;
        }

        return true;
    }

    /// <summary>How many keys hold exactly <paramref name="value"/> (non-zero).</summary>
    public ulong CountKeys(ulong value)
    {
        ulong total = 0;
        foreach (ValueRange r in _runs)
        {
            if (r.Value == value)
            {
                total += r.Length;
            }
        }

        return total;
    }

    /// <summary>The runs overlapping [start, end), clipped to it.</summary>
    public IEnumerable<ValueRange> RunsIn(ulong start, ulong end)
    {
        for (int i = FirstEndingAfter(start); i < _runs.Count && _runs[i].Start < end; i++)
        {
            ValueRange r = _runs[i];
            yield return new ValueRange(Math.Max(r.Start, start), Math.Min(r.End, end), r.Value);
        }
    }

    /// <summary>Index of the first run whose end is above <paramref name="key"/> (the run holding it, if any).</summary>
    private int FirstEndingAfter(ulong key)
    {
        int lo = 0;
        int hi = _runs.Count;
        while (lo < hi)
        {
            int mid = lo + ((hi - lo) >> 1);
            if (_runs[mid].End <= key)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    private void Coalesce(int from, int to)
    {
        for (int i = Math.Min(to, _runs.Count - 1); i > from && i > 0; i--)
        {
            ValueRange left = _runs[i - 1];
            ValueRange right = _runs[i];
            if (left.End == right.Start && left.Value == right.Value)
            {
                _runs[i - 1] = left with { End = right.End };
                _runs.RemoveAt(i);
            }
        }
    }
}
