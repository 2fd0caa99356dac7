using CcaSim.Platform.Memory;

namespace CcaSim.Platform.Tests.Memory;

public sealed class GranuleProtectionTests
{
    private const ulong Base = 0x8000_0000;

    private static CcaPlatform NewPlatform() => new(new PlatformOptions
    {
        MemoryBase = Base,
        MemorySize = 1UL << 20,
        ReservedRanges = [new PasRange(Base + 0x10000, 0x2000, Pas.Secure), new PasRange(Base + 0x20000, 0x1000, Pas.Root)],
    });

    [Fact]
    public void Gpt_StartsNonSecureExceptForReservedRanges()
    {
        CcaPlatform p = NewPlatform();

        Assert.Equal(Pas.NonSecure, p.Gpt[Base]);
        Assert.Equal(Pas.Secure, p.Gpt[Base + 0x11000]);
        Assert.Equal(Pas.Root, p.Gpt[Base + 0x20000]);
        Assert.Equal(Pas.NonSecure, p.Gpt[Base + 0x12000]);
        Assert.Equal([(Base + 0x10000, Pas.Secure), (Base + 0x11000, Pas.Secure), (Base + 0x20000, Pas.Root)], p.Gpt.NonSecureExceptions());
    }

    [Theory]
    [InlineData(0x10008UL)]
    [InlineData(0x20000UL)]
    public void HostAccess_ToSecureOrRootGranule_IsAGranuleProtectionFault(ulong offset)
    {
        CcaPlatform p = NewPlatform();

        Assert.Equal(MemoryAccessStatus.GranuleProtectionFault, p.HostMemory.TryWrite64(Base + offset, 1));
        Assert.Equal(MemoryAccessStatus.GranuleProtectionFault, p.HostMemory.TryRead64(Base + offset, out _));
        GranuleProtectionFaultException e = Assert.Throws<GranuleProtectionFaultException>(() => p.HostMemory.Read64(Base + offset));
        Assert.Equal(Base + offset, e.Address);
    }

    [Fact]
    public void HostWrite_SpanningIntoAProtectedGranule_FaultsAndChangesNothing()
    {
        CcaPlatform p = NewPlatform();
        ulong pa = Base + 0x10000 - 8;
        byte[] data = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];

        Assert.Equal(MemoryAccessStatus.GranuleProtectionFault, p.HostMemory.TryWrite(pa, data));

        Assert.Equal(0UL, p.HostMemory.Read64(pa));
        Assert.Equal(0, p.Memory.CommittedGranules);
    }

    [Fact]
    public void HostAccess_OutsideThePool_IsOutOfRange()
    {
        CcaPlatform p = NewPlatform();

        Assert.Equal(MemoryAccessStatus.OutOfRange, p.HostMemory.TryRead64(Base - 8, out _));
        Assert.Equal(MemoryAccessStatus.OutOfRange, p.HostMemory.TryWrite64(Base + (1UL << 20) - 4, 0));
    }

    [Theory]
    [InlineData(Pas.NonSecure, AccessWorld.NonSecure, true)]
    [InlineData(Pas.Realm, AccessWorld.NonSecure, false)]
    [InlineData(Pas.Secure, AccessWorld.NonSecure, false)]
    [InlineData(Pas.Root, AccessWorld.NonSecure, false)]
    [InlineData(Pas.NonSecure, AccessWorld.Realm, true)]
    [InlineData(Pas.Realm, AccessWorld.Realm, true)]
    [InlineData(Pas.Secure, AccessWorld.Realm, false)]
    [InlineData(Pas.Root, AccessWorld.Realm, false)]
    public void GranuleProtectionCheck_FollowsRmeAccessRules(Pas pas, AccessWorld world, bool permitted)
    {
        Assert.Equal(permitted, GranuleProtectionTable.Permits(world, pas));
    }

    [Fact]
    public void ReservedRange_NotGranuleAligned_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => new CcaPlatform(new PlatformOptions
        {
            MemoryBase = Base,
            MemorySize = 1UL << 20,
            ReservedRanges = [new PasRange(Base + 0x10, 0x1000, Pas.Secure)],
        }));
    }
}
