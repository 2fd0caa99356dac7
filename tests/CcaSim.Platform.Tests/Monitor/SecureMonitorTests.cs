using CcaSim.Platform.Memory;
using CcaSim.Platform.Monitor;

namespace CcaSim.Platform.Tests.Monitor;

public sealed class SecureMonitorTests
{
    private const ulong Base = 0x8000_0000;

    private sealed class RecordingHandler : ISmcHandler
    {
        public List<ulong> Fids { get; } = [];

        public void HandleSmc(ref SmcRegisters registers)
        {
            Fids.Add(registers[0]);
            registers[0] = 0;
            registers[1] = registers[2] + 1;
        }
    }

    [Theory]
    [InlineData(0xC400_0150UL, true)]
    [InlineData(0xC401_0151UL, true)]
    [InlineData(0xC400_018FUL, true)]
    [InlineData(0xC400_014FUL, false)]
    [InlineData(0xC400_0190UL, false)]
    [InlineData(0x8400_0000UL, false)]
    [InlineData(0x1_C400_0150UL, false)]
    public void Smc_RoutesOnlyTheRmiRangeToTheRmm(ulong fid, bool routed)
    {
        var p = new CcaPlatform(new PlatformOptions { MemorySize = 1UL << 20 });
        var rmm = new RecordingHandler();
        p.Monitor.RegisterRmm(rmm);

        SmcRegisters r = p.Monitor.Smc(fid, 0, 41);

        Assert.Equal(routed ? 0 : SecureMonitor.SmcUnknown, r[0]);
        Assert.Equal(routed ? 1 : 0, rmm.Fids.Count);
        Assert.Equal(routed ? 42UL : 0UL, r[1]);
    }

    [Fact]
    public void Smc_WithNoRmmRegistered_ReturnsSmcUnknown()
    {
        var p = new CcaPlatform(new PlatformOptions { MemorySize = 1UL << 20 });

        Assert.Equal(SecureMonitor.SmcUnknown, p.Monitor.Smc(0xC400_0150)[0]);
    }

    [Fact]
    public void RegisterRmm_Twice_IsRefused()
    {
        var p = new CcaPlatform(new PlatformOptions { MemorySize = 1UL << 20 });
        p.Monitor.RegisterRmm(new RecordingHandler());

        Assert.Throws<InvalidOperationException>(() => p.Monitor.RegisterRmm(new RecordingHandler()));
    }

    [Fact]
    public void GranuleTransitions_MoveOnlyBetweenNonSecureAndRealm()
    {
        var p = new CcaPlatform(new PlatformOptions
        {
            MemoryBase = Base,
            MemorySize = 1UL << 20,
            ReservedRanges = [new PasRange(Base + 0x5000, 0x1000, Pas.Secure)],
        });
        RmmMonitorServices el3 = p.Monitor.RegisterRmm(new RecordingHandler());

        Assert.True(el3.GranuleDelegate(Base));
        Assert.Equal(Pas.Realm, p.Gpt[Base]);
        Assert.False(el3.GranuleDelegate(Base));
        Assert.False(el3.GranuleDelegate(Base + 0x5000));
        Assert.False(el3.GranuleDelegate(Base + 0x10));
        Assert.False(el3.GranuleDelegate(Base + (1UL << 20)));
        Assert.False(el3.GranuleUndelegate(Base + 0x1000));
        Assert.False(el3.GranuleUndelegate(Base + 0x5000));
        Assert.True(el3.GranuleUndelegate(Base));
        Assert.Equal(Pas.NonSecure, p.Gpt[Base]);
        Assert.Equal(Pas.Secure, p.Gpt[Base + 0x5000]);
    }

    [Fact]
    public void RealmWorldMemory_ReadsRealmAndNonSecureButNotSecure()
    {
        var p = new CcaPlatform(new PlatformOptions
        {
            MemoryBase = Base,
            MemorySize = 1UL << 20,
            ReservedRanges = [new PasRange(Base + 0x5000, 0x1000, Pas.Secure)],
        });
        RmmMonitorServices el3 = p.Monitor.RegisterRmm(new RecordingHandler());
        el3.GranuleDelegate(Base + 0x1000);
        el3.Memory.MapGranule(Base + 0x1000)[8] = 0x5A;

        Assert.Equal(MemoryAccessStatus.GranuleProtectionFault, p.HostMemory.TryRead64(Base + 0x1008, out _));
        Assert.Equal(0x5AUL, el3.Memory.Read64(Base + 0x1008));
        Assert.Equal(MemoryAccessStatus.Ok, el3.Memory.TryRead64(Base, out _));
        Assert.Equal(MemoryAccessStatus.GranuleProtectionFault, el3.Memory.TryRead64(Base + 0x5000, out _));
        Assert.Throws<GranuleProtectionFaultException>(() => el3.Memory.MapGranule(Base + 0x5000));
        Assert.False(el3.Memory.IsGranuleZero(Base + 0x1000));
        el3.Memory.ZeroGranule(Base + 0x1000);
        Assert.True(el3.Memory.IsGranuleZero(Base + 0x1000));
    }
}
