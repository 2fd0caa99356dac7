namespace CcaSim.Vmm.Tests;

public class LayoutTests
{
    [Theory]
    [InlineData(16, 0x8000_0000UL + (14UL << 20))]
    [InlineData(32, 0x8000_0000UL + (30UL << 20))]
    [InlineData(64, 0x8000_0000UL + (62UL << 20))]
    [InlineData(256, 0x8000_0000UL + (254UL << 20))]
    [InlineData(1024, 0x8000_0000UL + (254UL << 20))]
    public void FdtAddress_IsTheLast2MiBBoundaryBelowLowmemLeavingFdtMaxSize(int mib, ulong expected)
    {
        var layout = new VmmLayout((ulong)mib << 20, 1, realm: true);

        Assert.Equal(expected, layout.FdtAddress);
        Assert.Equal(0UL, layout.FdtAddress % VmmLayout.FdtAlign);
        Assert.True(layout.FdtAddress + VmmLayout.FdtMaxSize <= VmmLayout.RamBase + Math.Min((ulong)mib << 20, VmmLayout.LowMemoryLimit));
    }

    [Theory]
    [InlineData(32, true, 33)]
    [InlineData(32, false, 32)]
    [InlineData(2048, true, 33)]
    [InlineData(2049, true, 34)]
    [InlineData(4096, false, 33)]
    public void IpaBits_IsMax32AndFlsOfRamTop_PlusOneForARealm(int mib, bool realm, int expected)
    {
        var layout = new VmmLayout((ulong)mib << 20, 1, realm);

        Assert.Equal(expected, layout.IpaBits);
        Assert.Equal(realm ? 1UL << (expected - 1) : 0, layout.UnprotectedBit);
    }

    [Theory]
    [InlineData(1, 0x3FFD_0000UL)]
    [InlineData(2, 0x3FFB_0000UL)]
    [InlineData(4, 0x3FF7_0000UL)]
    public void Redistributors_Take128KiBPerVcpuRightBelowTheDistributor(int vcpus, ulong expectedBase)
    {
        var layout = new VmmLayout(32UL << 20, vcpus, realm: false);

        Assert.Equal(expectedBase, layout.GicRedistributorBase);
        Assert.Equal(VmmLayout.GicDistributorBase, layout.GicRedistributorBase + layout.GicRedistributorRegionSize);
    }

    [Fact]
    public void InitrdAddress_IsRightBelowTheDtb_FourByteAlignedForANormalVmAndPageAlignedForARealm()
    {
        var normal = new VmmLayout(32UL << 20, 1, realm: false);
        var realm = new VmmLayout(32UL << 20, 1, realm: true);

        Assert.Equal(normal.FdtAddress - 1004, normal.InitrdAddress(1001));
        Assert.Equal(VmmLayout.AlignDown(realm.FdtAddress - 1005, 0x1000), realm.InitrdAddress(1001));
    }

    [Fact]
    public void InitrdAddress_WhenTheInitrdCannotFitBelowTheDtb_Throws()
    {
        var layout = new VmmLayout(4UL << 20, 1, realm: false);

        var e = Assert.Throws<VmmException>(() => layout.InitrdAddress(8UL << 20));
        Assert.Contains("does not fit", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 0x0UL)]
    [InlineData(15, 0xFUL)]
    [InlineData(16, 0x100UL)]
    [InlineData(17, 0x101UL)]
    public void Mpidr_FollowsKvmResetMpidr(int vcpu, ulong expected) => Assert.Equal(expected, VmmLayout.Mpidr(vcpu));

    [Theory]
    [InlineData(0UL, 1)]
    [InlineData(4097UL, 1)]
    [InlineData(1UL << 20, 0)]
    public void Layout_RejectsBadShapes(ulong ram, int vcpus) =>
        Assert.Throws<VmmException>(() => new VmmLayout(ram, vcpus, realm: false));
}
