using CcaSim.Platform;
using CcaSim.Platform.Memory;
using CcaSim.Rmm.Granules;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Tests.Infrastructure;

namespace CcaSim.Rmm.Tests.Rmi;

/// <summary>RMI_GRANULE_DELEGATE and RMI_GRANULE_UNDELEGATE (rmm-1.0.md §3.3).</summary>
public sealed class RmiGranuleDelegateTests
{
    private const int SecureGranule = 4000;

    private static RmmTestHost NewHost() => new(platform: new PlatformOptions
    {
        MemoryBase = RmmTestHost.PoolBase,
        MemorySize = RmmTestHost.PoolSize,
        ReservedRanges = [new PasRange(RmmTestHost.PoolBase + (SecureGranule * RmmTestHost.GranuleSize), RmmTestHost.GranuleSize, Pas.Secure)],
    });

    /// <summary>One row per failure condition of §3.3, in the listed order.</summary>
    public static TheoryData<string> DelegateFailures => ["gran_align", "gran_bound_below", "gran_bound_above", "gran_state", "gran_gpt"];

    [Theory]
    [MemberData(nameof(DelegateFailures))]
    public void GranuleDelegate_WhenConditionFails_ReturnsErrorInputAndChangesNothing(string condition)
    {
        RmmTestHost host = NewHost();
        ulong target = host.NsGranule();
        host.Write64(target, 0xfeed);
        ulong addr = condition switch
        {
            "gran_align" => target + 8,
            "gran_bound_below" => RmmTestHost.PoolBase - RmmTestHost.GranuleSize,
            "gran_bound_above" => RmmTestHost.PoolBase + RmmTestHost.PoolSize,
            "gran_state" => Delegate(host, target),
            "gran_gpt" => host.G(SecureGranule),
            _ => throw new ArgumentOutOfRangeException(nameof(condition)),
        };
        long delegatedBefore = host.Rmm.GranuleCount(GranuleState.Delegated);

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiGranuleDelegate, addr), RmiStatus.ErrorInput);

        Assert.Equal(delegatedBefore, host.Rmm.GranuleCount(GranuleState.Delegated));
        if (condition != "gran_state")
        {
            Assert.Equal(0xfeedUL, host.Read64(target));
        }
    }

    [Fact]
    public void GranuleDelegate_WhenValid_MovesGranuleToRealmPasAndZeroesIt()
    {
        RmmTestHost host = NewHost();
        ulong pa = host.NsGranule();
        host.Write64(pa + 0x10, 0x1122334455667788);

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiGranuleDelegate, pa), RmiStatus.Success);

        Assert.Equal(GranuleState.Delegated, host.StateOf(pa));
        Assert.Equal(Pas.Realm, host.Platform.Gpt[pa]);
        Assert.Equal(MemoryAccessStatus.GranuleProtectionFault, host.Host.TryRead64(pa, out _));
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiGranuleUndelegate, pa), RmiStatus.Success);
        Assert.Equal(0UL, host.Read64(pa + 0x10));
    }

    public static TheoryData<string> UndelegateFailures => ["gran_align", "gran_bound_below", "gran_bound_above", "gran_state_undelegated", "gran_state_rd"];

    [Theory]
    [MemberData(nameof(UndelegateFailures))]
    public void GranuleUndelegate_WhenConditionFails_ReturnsErrorInputAndChangesNothing(string condition)
    {
        RmmTestHost host = NewHost();
        ulong delegated = host.Delegated();
        ulong addr = condition switch
        {
            "gran_align" => delegated + 0x800,
            "gran_bound_below" => RmmTestHost.PoolBase - RmmTestHost.GranuleSize,
            "gran_bound_above" => RmmTestHost.PoolBase + RmmTestHost.PoolSize,
            "gran_state_undelegated" => host.NsGranule(),
            "gran_state_rd" => host.CreateRealm().Rd,
            _ => throw new ArgumentOutOfRangeException(nameof(condition)),
        };
        GranuleState before = addr % RmmTestHost.GranuleSize == 0 && host.Platform.Memory.Contains(addr) ? host.StateOf(addr) : GranuleState.Undelegated;

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiGranuleUndelegate, addr), RmiStatus.ErrorInput);

        Assert.Equal(GranuleState.Delegated, host.StateOf(delegated));
        if (before != GranuleState.Undelegated)
        {
            Assert.Equal(before, host.StateOf(addr));
        }
    }

    [Fact]
    public void GranuleUndelegate_WhenValid_ReturnsGranuleToHost()
    {
        RmmTestHost host = NewHost();
        ulong pa = host.Delegated();

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiGranuleUndelegate, pa), RmiStatus.Success);

        Assert.Equal(GranuleState.Undelegated, host.StateOf(pa));
        Assert.Equal(Pas.NonSecure, host.Platform.Gpt[pa]);
        host.Write64(pa, 1);
        Assert.Equal(1UL, host.Read64(pa));
    }

    private static ulong Delegate(RmmTestHost host, ulong pa)
    {
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiGranuleDelegate, pa), RmiStatus.Success);
        return pa;
    }
}
