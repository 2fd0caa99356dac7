using CcaSim.Kvm.Realm;

namespace CcaSim.Kvm.Tests.Realm;

/// <summary>The realm VMID bitmap (kvm-realm-abi.md §2.5).</summary>
public sealed class VmidAllocatorTests
{
    [Theory]
    [InlineData(8, 256)]
    [InlineData(16, 65536)]
    public void Capacity_IsTwoToTheVmidWidth(int bits, int capacity)
    {
        Assert.Equal(capacity, new VmidAllocator(bits).Capacity);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    [InlineData(12)]
    [InlineData(32)]
    public void Constructor_WithWidthOtherThan8Or16_Throws(int bits)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new VmidAllocator(bits));
    }

    [Fact]
    public void Allocate_HandsOutTheLowestFreeVmid_StartingAtZero()
    {
        var vmids = new VmidAllocator(8);

        Assert.Equal([0, 1, 2], new[] { vmids.Allocate(), vmids.Allocate(), vmids.Allocate() });
        Assert.Equal(3, vmids.InUse);
    }

    [Fact]
    public void Allocate_WhenAllAreTaken_ReturnsMinusOne_AndTakesNothing()
    {
        var vmids = new VmidAllocator(8);
        for (int i = 0; i < 256; i++)
        {
            Assert.Equal(i, vmids.Allocate());
        }

        Assert.Equal(-1, vmids.Allocate());
        Assert.Equal(256, vmids.InUse);
    }

    [Fact]
    public void Release_MakesTheVmidTheNextOneHandedOut_WhenItIsTheLowestFree()
    {
        var vmids = new VmidAllocator(8);
        for (int i = 0; i < 10; i++)
        {
            vmids.Allocate();
        }

        vmids.Release(7);
        vmids.Release(3);

        Assert.Equal(8, vmids.InUse);
        Assert.Equal(3, vmids.Allocate());
        Assert.Equal(7, vmids.Allocate());
        Assert.Equal(10, vmids.Allocate());
    }

    [Fact]
    public void Release_OfAFreeVmid_Throws()
    {
        var vmids = new VmidAllocator(8);
        vmids.Release(vmids.Allocate());

        Assert.Throws<InvalidOperationException>(() => vmids.Release(0));
        Assert.Throws<InvalidOperationException>(() => vmids.Release(200));
        Assert.Equal(0, vmids.InUse);
    }
}
