using CcaSim.Rmm.Rsi;
using CcaSim.Rmm.Tests.Infrastructure;

namespace CcaSim.Rmm.Tests.Rsi;

/// <summary>RSI_VERSION (rmm-1.0.md §6): SUCCESS only for 1.0; x1 = lower, x2 = higher implemented revision.</summary>
public sealed class RsiVersionTests
{
    private const ulong V10 = 0x1_0000;

    public static TheoryData<string, ulong, RsiStatus> Requests => new()
    {
        { "1.0", V10, RsiStatus.Success },
        { "1.1", 0x1_0001, RsiStatus.ErrorInput },
        { "0.9", 0x0_0009, RsiStatus.ErrorInput },
        { "2.0", 0x2_0000, RsiStatus.ErrorInput },
        { "0.0", 0, RsiStatus.ErrorInput },
        { "1.0 with bits above the revision", (1UL << 32) | V10, RsiStatus.ErrorInput },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public void Version_ForRequestedRevision_ReturnsStatusAndImplementedRange(string revision, ulong requested, RsiStatus status)
    {
        var realm = new RealmSide();

        ulong[] x = realm.CallInside(RsiFunctionId.RsiVersion, RealmSide.Args(requested));

        Assert.True((ulong)status == x[0], revision);
        Assert.Equal(V10, x[1]);
        Assert.Equal(V10, x[2]);
    }
}
