using CcaSim.Rmm.Rsi;
using CcaSim.Rmm.Tests.Infrastructure;

namespace CcaSim.Rmm.Tests.Rsi;

/// <summary>RSI_FEATURES (rmm-1.0.md §6): no optional features in 1.0, x0 SUCCESS and x1 = 0 for every index.</summary>
public sealed class RsiFeaturesTests
{
    [Theory]
    [InlineData(0UL)]
    [InlineData(1UL)]
    [InlineData(0xFFUL)]
    [InlineData(ulong.MaxValue)]
    public void Features_ForAnyIndex_ReturnsSuccessAndZero(ulong index)
    {
        var realm = new RealmSide();

        ulong[] x = realm.CallInside(RsiFunctionId.RsiFeatures, RealmSide.Args(index));

        Assert.Equal((ulong)RsiStatus.Success, x[0]);
        Assert.Equal(0UL, x[1]);
    }
}
