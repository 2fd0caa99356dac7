using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Tests.Infrastructure;

namespace CcaSim.Rmm.Tests.Rmi;

/// <summary>RMI_VERSION (rmm-1.0.md §3.1): x0 SUCCESS only for the implemented 1.0; x1/x2 = lower/higher revision always.</summary>
public sealed class RmiVersionTests
{
    private const ulong V10 = 0x1_0000;

    /// <summary>
    /// The one failure condition: the requested revision is not implemented. One row per kind of mismatch
    /// (older major, newer minor, newer major, minor-only difference, bits above the version field).
    /// </summary>
    public static TheoryData<string, ulong> UnsupportedRequests => new()
    {
        { "zero", 0 },
        { "v0_65535", 0xFFFF },
        { "v1_1", 0x1_0001 },
        { "v2_0", 0x2_0000 },
        { "v1_0_with_high_bits", 0x1_0000_0000 | V10 },
        { "all_ones", ulong.MaxValue },
    };

    [Theory]
    [MemberData(nameof(UnsupportedRequests))]
    public void Version_WhenRequestedRevisionIsNotImplemented_ReturnsErrorInputWithLowerAndHigherRevision(string condition, ulong requested)
    {
        _ = condition;
        var host = new RmmTestHost();

        SmcResult r = host.Smc(RmiFunctionId.RmiVersion, requested);

        RmmTestHost.Expect(r, RmiStatus.ErrorInput);
        Assert.Equal(V10, r.X1);
        Assert.Equal(V10, r.X2);
        Assert.Equal(0UL, r.X3);
        Assert.Equal(0UL, r.X4);
    }

    [Fact]
    public void Version_WhenRequestingOnePointZero_ReturnsSuccessWithLowerAndHigherOnePointZero()
    {
        var host = new RmmTestHost();

        SmcResult r = host.Smc(RmiFunctionId.RmiVersion, V10);

        RmmTestHost.Expect(r, RmiStatus.Success);
        Assert.Equal(V10, r.X1);
        Assert.Equal(V10, r.X2);
        Assert.Equal(0UL, r.X3);
        Assert.Equal(0UL, r.X4);
    }

    [Fact]
    public void Version_WhenCalledWithSveHintBit_IsDispatchedToTheSameCommand()
    {
        var host = new RmmTestHost();

        SmcResult r = host.Smc((ulong)RmiFunctionId.RmiVersion | (1UL << 16), V10);

        RmmTestHost.Expect(r, RmiStatus.Success);
        Assert.Equal(V10, r.X1);
    }

    [Fact]
    public void Version_ChangesNoGranuleOrRealmState()
    {
        var host = new RmmTestHost();
        ulong rd = host.CreateRealm().Rd;
        var before = GranuleSnapshot.Take(host, rd);

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiVersion, V10), RmiStatus.Success);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiVersion, 0x2_0000), RmiStatus.ErrorInput);

        Assert.Equal(before, GranuleSnapshot.Take(host, rd));
    }
}
