namespace CcaSim.Kvm.Tests;

public sealed class SparseRangeMapTests
{
    private static (ulong, ulong, ulong)[] Runs(SparseRangeMap m) => m.Runs.Select(r => (r.Start, r.End, r.Value)).ToArray();

    [Fact]
    public void Set_PageAfterARunOfTheSameValue_ExtendsIt()
    {
        var m = new SparseRangeMap();
        m.Set(10, 11, 2);

        m.Set(11, 12, 2);
        m.Set(12, 13, 2);

        Assert.Equal([(10UL, 13UL, 2UL)], Runs(m));
    }

    [Fact]
    public void Set_PageBeforeARunOfTheSameValue_ExtendsIt()
    {
        var m = new SparseRangeMap();
        m.Set(10, 20, 2);

        m.Set(9, 10, 2);

        Assert.Equal([(9UL, 20UL, 2UL)], Runs(m));
    }

    [Fact]
    public void Set_GapBetweenTwoRunsOfTheSameValue_JoinsThem()
    {
        var m = new SparseRangeMap();
        m.Set(0, 5, 2);
        m.Set(6, 9, 2);

        m.Set(5, 6, 2);

        Assert.Equal([(0UL, 9UL, 2UL)], Runs(m));
    }

    [Fact]
    public void Set_GapBetweenRunsOfOtherValues_InsertsANewRun()
    {
        var m = new SparseRangeMap();
        m.Set(0, 5, 1);
        m.Set(6, 9, 3);

        m.Set(5, 6, 2);

        Assert.Equal([(0UL, 5UL, 1UL), (5UL, 6UL, 2UL), (6UL, 9UL, 3UL)], Runs(m));
    }

    [Fact]
    public void Set_ZeroOverAGap_ChangesNothing()
    {
        var m = new SparseRangeMap();
        m.Set(0, 5, 1);

        m.Set(5, 10, 0);

        Assert.Equal([(0UL, 5UL, 1UL)], Runs(m));
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
