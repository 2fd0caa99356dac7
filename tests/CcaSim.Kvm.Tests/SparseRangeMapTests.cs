namespace CcaSim.Kvm.Tests;

public sealed class SparseRangeMapTests
{
    private static (ulong, ulong, ulong)[] Runs(SparseRangeMap m) => m.Runs.Select(r => (r.Start, r.End, r.Value)).ToArray();

    /// <summary>Set over a gap between runs: (runs before, the Set, runs after).</summary>
    public static TheoryData<string, (ulong, ulong, ulong)[], (ulong, ulong, ulong), (ulong, ulong, ulong)[]> GapCases => new()
    {
        { "page after a run of the same value extends it", [(10, 12, 2)], (12, 13, 2), [(10, 13, 2)] },
        { "page before a run of the same value extends it", [(10, 20, 2)], (9, 10, 2), [(9, 20, 2)] },
        { "gap between two runs of the same value joins them", [(0, 5, 2), (6, 9, 2)], (5, 6, 2), [(0, 9, 2)] },
        { "gap between runs of other values gets a run of its own", [(0, 5, 1), (6, 9, 3)], (5, 6, 2), [(0, 5, 1), (5, 6, 2), (6, 9, 3)] },
        { "zero over a gap changes nothing", [(0, 5, 1)], (5, 10, 0), [(0, 5, 1)] },
    };

    [Theory]
    [MemberData(nameof(GapCases))]
    public void Set_OverAGap_CoalescesWithNeighboursOfTheSameValue(string why, (ulong, ulong, ulong)[] before, (ulong Start, ulong End, ulong Value) set, (ulong, ulong, ulong)[] after)
    {
        var m = new SparseRangeMap();
        foreach ((ulong start, ulong end, ulong value) in before)
        {
            m.Set(start, end, value);
        }

        m.Set(set.Start, set.End, set.Value);

        Assert.True(after.SequenceEqual(Runs(m)), why);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Set_RandomSequence_AgreesWithAPerKeyArrayAndKeepsRunsCanonical(int seed)
    {
        const int keys = 64;
        var random = new Random(seed);
        var m = new SparseRangeMap();
        ulong[] expected = new ulong[keys];
        for (int step = 0; step < 400; step++)
        {
            int start = random.Next(keys);
            int end = start + 1 + (random.Next(4) == 0 ? random.Next(keys - start) : 0);
            ulong value = (ulong)random.Next(3);
            m.Set((ulong)start, (ulong)end, value);
            Array.Fill(expected, value, start, end - start);

            for (int k = 0; k < keys; k++)
            {
                Assert.Equal(expected[k], m.Get((ulong)k));
            }

            for (int i = 0; i < m.RunCount; i++)
            {
                ValueRange r = m.Runs[i];
                Assert.True(r.Start < r.End && r.Value != 0);
                Assert.True(i == 0 || m.Runs[i - 1].End < r.Start || m.Runs[i - 1].Value != r.Value);
            }
        }
    }
}
