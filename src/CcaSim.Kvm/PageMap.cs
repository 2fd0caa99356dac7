using System.Numerics;

namespace CcaSim.Kvm;

/// <summary>
/// A map from page numbers (gfns, file page indices) to one 64-bit value each (a physical address), for the
/// per-page bookkeeping that populate and faulting add to one page at a time. Pages are kept in blocks of 512
/// consecutive page numbers, as the kernel's xarray keeps them in nodes: adding a page costs no allocation
/// except the first in its block, and a range is visited block by block in ascending order.
/// </summary>
internal sealed class PageMap
{
    private const int BlockShift = 9;
    private const int BlockPages = 1 << BlockShift;
    private const ulong BlockMask = BlockPages - 1;

    private readonly Dictionary<ulong, Block> _blocks = [];

    public int Count { get; private set; }

    public bool ContainsKey(ulong page) =>
        _blocks.TryGetValue(page >> BlockShift, out Block? block) && block.Has((int)(page & BlockMask));

    public bool TryGetValue(ulong page, out ulong value)
    {
        if (_blocks.TryGetValue(page >> BlockShift, out Block? block) && block.Has((int)(page & BlockMask)))
        {
            value = block.Values[page & BlockMask];
            return true;
        }

        value = 0;
        return false;
    }

    /// <summary>Adds <paramref name="page"/> or replaces its value.</summary>
    public void Set(ulong page, ulong value)
    {
        if (!_blocks.TryGetValue(page >> BlockShift, out Block? block))
        {
            block = new Block();
            _blocks.Add(page >> BlockShift, block);
        }

        int i = (int)(page & BlockMask);
        if (!block.Has(i))
        {
            block.Present[i >> 6] |= 1UL << i;
            block.Count++;
            Count++;
        }

        block.Values[i] = value;
    }

    public bool Remove(ulong page)
    {
        ulong key = page >> BlockShift;
        int i = (int)(page & BlockMask);
        if (!_blocks.TryGetValue(key, out Block? block) || !block.Has(i))
        {
            return false;
        }

        block.Present[i >> 6] &= ~(1UL << i);
        block.Values[i] = 0;
        Count--;
        if (--block.Count == 0)
        {
            _blocks.Remove(key);
        }

        return true;
    }

    /// <summary>The entries with pages in [start, end), in ascending page order.</summary>
    public List<KeyValuePair<ulong, ulong>> Range(ulong start, ulong end)
    {
        var result = new List<KeyValuePair<ulong, ulong>>();
        if (start >= end || Count == 0)
        {
            return result;
        }

        ulong firstBlock = start >> BlockShift;
        ulong lastBlock = (end - 1) >> BlockShift;

        // Walk whichever is shorter: the blocks the range spans, or the blocks that exist.
        IEnumerable<ulong> keys = lastBlock - firstBlock < (ulong)_blocks.Count
            ? Span(firstBlock, lastBlock)
            : _blocks.Keys.Where(k => k >= firstBlock && k <= lastBlock).Order();
        foreach (ulong key in keys)
        {
            if (!_blocks.TryGetValue(key, out Block? block))
            {
                continue;
            }

            ulong basePage = key << BlockShift;
            for (int w = 0; w < block.Present.Length; w++)
            {
                for (ulong bits = block.Present[w]; bits != 0; bits &= bits - 1)
                {
                    ulong page = basePage + (ulong)((w << 6) + BitOperations.TrailingZeroCount(bits));
                    if (page >= start && page < end)
                    {
                        result.Add(new(page, block.Values[page & BlockMask]));
                    }
                }
            }
        }

        return result;
    }

    private static IEnumerable<ulong> Span(ulong first, ulong last)
    {
        for (ulong k = first; ; k++)
        {
            yield return k;
            if (k == last)
            {
                yield break;
            }
        }
    }

    private sealed class Block
    {
        public readonly ulong[] Values = new ulong[BlockPages];
        public readonly ulong[] Present = new ulong[BlockPages / 64];
        public int Count;

        public bool Has(int i) => (Present[i >> 6] & (1UL << i)) != 0;
    }
}
