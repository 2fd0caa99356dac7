using CcaSim.Platform.Monitor;
using CcaSim.Platform.Tracing;

namespace CcaSim.Platform.Tests.Tracing;

public sealed class TracePortTests
{
    private sealed class Recorder : ITraceSink
    {
        public List<TraceEvent> Events { get; } = [];

        public void Record(in TraceEvent e) => Events.Add(e);
    }

    /// <summary>An RMM that takes 160 instructions (10 ticks) of virtual time and answers SUCCESS with index 2.</summary>
    private sealed class SlowRmm(CcaPlatform platform) : ISmcHandler
    {
        public void HandleSmc(ref SmcRegisters registers)
        {
            platform.Clock.AddInstructions(160);
            registers[0] = 0x200;
        }
    }

    [Fact]
    public void Smc_ToTheRmiRange_WithASink_RecordsTheCallOnTheHostTrackWithItsArgumentsStatusAndDuration()
    {
        var p = new CcaPlatform(new PlatformOptions { MemorySize = 1UL << 20 });
        p.Monitor.RegisterRmm(new SlowRmm(p));
        p.Clock.AdvanceTo(100);
        var sink = new Recorder();
        p.Trace.Sink = sink;

        p.Monitor.Smc(0xC401_015A, 1, 2, 3, 4);

        TraceEvent e = Assert.Single(sink.Events);
        Assert.Equal(TraceEventKind.RmiCall, e.Kind);
        Assert.Equal(TraceEvent.Host, e.Vcpu);
        Assert.Equal(0xC401_015AUL, e.Function);
        Assert.Equal((1UL, 2UL, 3UL), (e.Arg1, e.Arg2, e.Arg3));
        Assert.Equal(0x200UL, e.Result);
        Assert.Equal(100UL, e.Time);
        Assert.Equal(10UL, e.Duration);
    }

    [Theory]
    [InlineData(0xC400_0190UL)]
    [InlineData(0x8400_0000UL)]
    [InlineData(0x1_C400_0150UL)]
    public void Smc_OutsideTheRmiRange_IsNotAnRmiCallAndIsNotRecorded(ulong fid)
    {
        var p = new CcaPlatform(new PlatformOptions { MemorySize = 1UL << 20 });
        p.Monitor.RegisterRmm(new SlowRmm(p));
        var sink = new Recorder();
        p.Trace.Sink = sink;

        SmcRegisters r = p.Monitor.Smc(fid);

        Assert.Equal(SecureMonitor.SmcUnknown, r[0]);
        Assert.Empty(sink.Events);
    }

    [Fact]
    public void Smc_WithoutASink_StillReachesTheRmm()
    {
        var p = new CcaPlatform(new PlatformOptions { MemorySize = 1UL << 20 });
        p.Monitor.RegisterRmm(new SlowRmm(p));

        SmcRegisters r = p.Monitor.Smc(0xC400_0150);

        Assert.Null(p.Trace.Sink);
        Assert.Equal(0x200UL, r[0]);
        Assert.Equal(10UL, p.Clock.Now);
    }

    [Theory]
    [InlineData(0x8000_0000UL, 0)]
    [InlineData(0x8000_0003UL, 3)]
    [InlineData(0x0000_000FUL, 15)]
    [InlineData(0x0000_0100UL, 16)]
    [InlineData(0x0000_0A05UL, 165)]
    [InlineData(0x0001_0000UL, 4096)]
    public void VcpuOf_InvertsKvmsResetMpidr(ulong mpidr, int index) => Assert.Equal(index, TraceEvent.VcpuOf(mpidr));
}
