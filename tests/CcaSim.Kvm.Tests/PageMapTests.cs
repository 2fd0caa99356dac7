namespace CcaSim.Kvm.Tests;

public sealed class PageMapTests
{
    [Fact]
    public void Set_ThenTryGetValue_ReturnsTheValue_AndReplacesOnSecondSet()
    {
        var m = new PageMap();

        m.Set(0x1234_5678, 7);
        m.Set(0x1234_5678, 8);

        Assert.True(m.TryGetValue(0x1234_5678, out ulong value));
        Assert.Equal(8UL, value);
        Assert.Equal(1, m.Count);
        Assert.False(m.ContainsKey(0x1234_5679));
        Assert.False(m.TryGetValue(0x1234_5679, out _));
    }

    [Fact]
    public void Set_ValueZero_IsStillAnEntry()
    {
        var m = new PageMap();

        m.Set(5, 0);

        Assert.True(m.ContainsKey(5));
        Assert.Equal(1, m.Count);
    }

    [Fact]
    public void Remove_DropsOnlyThatPage_AndReportsWhetherItWasThere()
    {
        var m = new PageMap();
        m.Set(511, 1);
        m.Set(512, 2);

        Assert.True(m.Remove(511));
        Assert.False(m.Remove(511));

        Assert.Equal(1, m.Count);
        Assert.True(m.ContainsKey(512));
        Assert.Empty(m.Range(0, 512));
    }

    [Theory]
    [InlineData(0UL, ulong.MaxValue)]
    [InlineData(100UL, 2000UL)]
    [InlineData(511UL, 513UL)]
    [InlineData(1UL << 40, (1UL << 40) + 1)]
    [InlineData(7UL, 7UL)]
    public void Range_ReturnsTheEntriesInside_InAscendingOrder(ulong start, ulong end)
    {
        // Both walks: a range spanning fewer blocks than exist, and one spanning more.
        ulong[] pages = [3, 100, 511, 512, 1999, 2000, 70_000, 1UL << 40, ulong.MaxValue - 1];
        var m = new PageMap();
        foreach (ulong p in pages.Reverse())
        {
            m.Set(p, p ^ 0xFF);
        }

        List<KeyValuePair<ulong, ulong>> range = m.Range(start, end);

        ulong[] expected = pages.Where(p => p >= start && p < end).ToArray();
        Assert.Equal(expected, range.Select(e => e.Key));
        Assert.All(range, e => Assert.Equal(e.Key ^ 0xFF, e.Value));
    }
}
