using CcaSim.Kvm.MemoryAttributes;

namespace CcaSim.Kvm.Tests.MemoryAttributes;

public sealed class RangeStoreTests
{
    private const ulong P = 8;

    private static MemoryAttributeStore NewStore() => new(P);

    private static (ulong, ulong, ulong)[] Ranges(MemoryAttributeStore s) => s.Ranges.Select(r => (r.Start, r.End, r.Value)).ToArray();

    [Fact]
    public void NewStore_HasNoRanges_AndEveryGfnIsZero()
    {
        MemoryAttributeStore s = NewStore();

        Assert.Equal(0, s.RangeCount);
        Assert.Equal(0UL, s.Get(0));
        Assert.Equal(0UL, s.Get(ulong.MaxValue));
    }

    [Fact]
    public void Set_StoresHalfOpenRange()
    {
        MemoryAttributeStore s = NewStore();

        s.Set(10, 20, P);

        Assert.Equal(0UL, s.Get(9));
        Assert.Equal(P, s.Get(10));
        Assert.Equal(P, s.Get(19));
        Assert.Equal(0UL, s.Get(20));
        Assert.Equal([(10UL, 20UL, P)], Ranges(s));
    }

    [Fact]
    public void Set_ZeroInTheMiddle_SplitsTheRangeInTwo()
    {
        MemoryAttributeStore s = NewStore();
        s.Set(0, 100, P);

        s.Set(40, 60, 0);

        Assert.Equal([(0UL, 40UL, P), (60UL, 100UL, P)], Ranges(s));
    }

    [Fact]
    public void Set_OtherValueInTheMiddle_SplitsIntoThree()
    {
        MemoryAttributeStore s = NewStore();
        s.Set(0, 100, P);

        s.Set(40, 60, 1);

        Assert.Equal([(0UL, 40UL, P), (40UL, 60UL, 1UL), (60UL, 100UL, P)], Ranges(s));
    }

    [Fact]
    public void Set_AdjacentRangesWithEqualValue_Coalesce()
    {
        MemoryAttributeStore s = NewStore();

        s.Set(0, 10, P);
        s.Set(10, 20, P);
        s.Set(30, 40, P);
        s.Set(20, 30, P);

        Assert.Equal([(0UL, 40UL, P)], Ranges(s));
    }

    [Fact]
    public void Set_AdjacentRangesWithDifferentValue_StaySeparate()
    {
        MemoryAttributeStore s = NewStore();

        s.Set(0, 10, P);
        s.Set(10, 20, 1);

        Assert.Equal([(0UL, 10UL, P), (10UL, 20UL, 1UL)], Ranges(s));
    }

    [Fact]
    public void Set_FillingTheHoleBetweenEqualRanges_LeavesOneRange()
    {
        MemoryAttributeStore s = NewStore();
        s.Set(0, 100, P);
        s.Set(40, 60, 0);

        s.Set(40, 60, P);

        Assert.Equal([(0UL, 100UL, P)], Ranges(s));
    }

    [Fact]
    public void Set_SpanningSeveralRanges_ReplacesThemAndKeepsTheOverhangs()
    {
        MemoryAttributeStore s = NewStore();
        s.Set(0, 10, 1);
        s.Set(20, 30, P);
        s.Set(40, 50, 1);

        s.Set(5, 45, 2);

        Assert.Equal([(0UL, 5UL, 1UL), (5UL, 45UL, 2UL), (45UL, 50UL, 1UL)], Ranges(s));
    }

    [Fact]
    public void Set_ZeroOverEverything_EmptiesTheStore()
    {
        MemoryAttributeStore s = NewStore();
        s.Set(0, 10, 1);
        s.Set(20, 30, P);

        s.Set(0, ulong.MaxValue, 0);

        Assert.Equal(0, s.RangeCount);
    }

    [Fact]
    public void Set_EmptyRange_ChangesNothing()
    {
        MemoryAttributeStore s = NewStore();
        s.Set(0, 10, P);

        s.Set(5, 5, 0);
        s.Set(7, 3, 0);

        Assert.Equal([(0UL, 10UL, P)], Ranges(s));
    }

    [Fact]
    public void Set_RandomOperations_AgreeWithAPerPageModel_AndKeepTheInvariants()
    {
        var rng = new Random(12345);
        const int Keys = 96;
        var model = new ulong[Keys];
        var s = new MemoryAttributeStore(P | 1);
        for (int op = 0; op < 4000; op++)
        {
            int a = rng.Next(Keys);
            int b = rng.Next(Keys + 1);
            (int lo, int hi) = a <= b ? (a, b) : (b, a);
            ulong value = (ulong)rng.Next(4) switch { 0 => 0, 1 => P, 2 => 1, _ => P | 1 };
            s.Set((ulong)lo, (ulong)hi, value);
            for (int k = lo; k < hi; k++)
            {
                model[k] = value;
            }

            for (int k = 0; k < Keys; k++)
            {
                Assert.Equal(model[k], s.Get((ulong)k));
            }

            for (int i = 0; i < s.RangeCount; i++)
            {
                Assert.True(s.Ranges[i].Start < s.Ranges[i].End);
                Assert.NotEqual(0UL, s.Ranges[i].Value);
                if (i > 0)
                {
                    Assert.True(s.Ranges[i - 1].End <= s.Ranges[i].Start);
                    Assert.False(s.Ranges[i - 1].End == s.Ranges[i].Start && s.Ranges[i - 1].Value == s.Ranges[i].Value, "uncoalesced neighbours");
                }
            }

            int qa = rng.Next(Keys);
            int qb = rng.Next(Keys + 1);
            ulong mask = (ulong)rng.Next(16);
            ulong attrs = (ulong)rng.Next(4) switch { 0 => 0, 1 => P, 2 => 1, _ => P | 1 };
            Assert.Equal(Naive(model, (ulong)qa, (ulong)qb, mask, attrs, P | 1), s.RangeHasAttributes((ulong)qa, (ulong)qb, mask, attrs));
        }
    }

    /// <summary>The xarray walk of §5.2 over a per-page array.</summary>
    private static bool Naive(ulong[] model, ulong start, ulong end, ulong mask, ulong attrs, ulong supported)
    {
        mask &= supported;
        if ((attrs & ~mask) != 0)
        {
            return false;
        }

        if (end == start + 1)
        {
            return (model[start] & mask) == attrs;
        }

        for (ulong g = start; g < end; g++)
        {
            if (attrs == 0 ? model[g] != 0 : model[g] == 0 || (model[g] & mask) != attrs)
            {
                return false;
            }
        }

        return true;
    }
}
