using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Tests.Infrastructure;

namespace CcaSim.Rmm.Tests.Rmi;

/// <summary>RMI_FEATURES (rmm-1.0.md §3.2, layout §4.4): index 0 is feature register 0, any other index reads 0.</summary>
public sealed class RmiFeaturesTests
{
    /// <summary>RMI_FEATURES has no failure condition; every index other than 0 must read as zero.</summary>
    public static TheoryData<ulong> OtherIndices => [1, 2, 0xFF, 0x1_0000_0000, ulong.MaxValue];

    [Theory]
    [MemberData(nameof(OtherIndices))]
    public void Features_WhenIndexIsNotZero_ReturnsSuccessAndZero(ulong index)
    {
        var host = new RmmTestHost();

        SmcResult r = host.Smc(RmiFunctionId.RmiFeatures, index);

        RmmTestHost.Expect(r, RmiStatus.Success);
        Assert.Equal(0UL, r.X1);
    }

    [Fact]
    public void Features_WhenIndexIsZeroOnReferenceConfig_ReturnsReferenceRegisterDecodingToItsFields()
    {
        var host = new RmmTestHost();

        SmcResult r = host.Smc(RmiFunctionId.RmiFeatures, 0);

        RmmTestHost.Expect(r, RmiStatus.Success);
        Assert.Equal(0x283_FC10_4130UL, r.X1);
        Assert.Equal(48UL, r.X1 & 0xFF);              // S2SZ
        Assert.Equal(1UL, (r.X1 >> 8) & 1);           // LPA2
        Assert.Equal(0UL, (r.X1 >> 9) & 1);           // SVE_EN
        Assert.Equal(1UL, (r.X1 >> 14) & 0x3F);       // NUM_BPS
        Assert.Equal(1UL, (r.X1 >> 20) & 0x3F);       // NUM_WPS
        Assert.Equal(1UL, (r.X1 >> 26) & 1);          // PMU_EN
        Assert.Equal(31UL, (r.X1 >> 27) & 0x1F);      // PMU_NUM_CTRS
        Assert.Equal(3UL, (r.X1 >> 32) & 3);          // SHA-256 and SHA-512
        Assert.Equal(0UL, (r.X1 >> 34) & 0xF);        // GICV3_NUM_LRS = 1 (encoded count − 1)
        Assert.Equal(10UL, (r.X1 >> 38) & 0xF);       // MAX_RECS_ORDER
        Assert.Equal(0UL, r.X1 >> 42);                // reserved, checked by the ACS
    }

    [Fact]
    public void Features_WhenConfiguredWithOtherFeatures_ReportsExactlyThoseFields()
    {
        FeatureRegister0 f = FeatureRegister0.ReferenceHostBuild with
        {
            S2sz = 40,
            Lpa2 = false,
            SveEnabled = true,
            SveVl = 15,
            NumBps = 6,
            NumWps = 4,
            PmuEnabled = false,
            PmuNumCtrs = 0,
            HashSha256 = true,
            HashSha512 = false,
            Gicv3NumLrs = 16,
            MaxRecsOrder = 3,
        };
        var host = new RmmTestHost(new RmmConfig { Features = f });

        SmcResult r = host.Smc(RmiFunctionId.RmiFeatures, 0);

        RmmTestHost.Expect(r, RmiStatus.Success);
        ulong expected = 40UL | (1UL << 9) | (15UL << 10) | (6UL << 14) | (4UL << 20) | (1UL << 32) | (15UL << 34) | (3UL << 38);
        Assert.Equal(expected, r.X1);
    }

    [Fact]
    public void Features_WhenCalledRepeatedly_ReturnsTheSameValueAndChangesNothing()
    {
        var host = new RmmTestHost();
        ulong rd = host.CreateRealm().Rd;
        var before = GranuleSnapshot.Take(host, rd);

        ulong first = host.Smc(RmiFunctionId.RmiFeatures, 0).X1;
        ulong second = host.Smc(RmiFunctionId.RmiFeatures, 0).X1;

        Assert.Equal(first, second);
        Assert.Equal(before, GranuleSnapshot.Take(host, rd));
    }
}
