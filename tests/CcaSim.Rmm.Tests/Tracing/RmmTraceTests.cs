using CcaSim.Platform.Execution;
using CcaSim.Platform.Tracing;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rsi;
using CcaSim.Rmm.Tests.Infrastructure;

namespace CcaSim.Rmm.Tests.Tracing;

/// <summary>What the RMM reports to the platform's trace port: REC runs, RSI and PSCI calls (both SMC paths).</summary>
public sealed class RmmTraceTests
{
    private const ulong Unprotected = (1UL << 47) + 0x1234;
    private const ulong V10 = 0x1_0000;

    private sealed class Recorder : ITraceSink
    {
        public List<TraceEvent> Events { get; } = [];

        public void Record(in TraceEvent e) => Events.Add(e);

        public TraceEvent[] Of(TraceEventKind kind) => [.. Events.Where(e => e.Kind == kind)];
    }

    /// <summary>An engine that executes one SMC of RSI_VERSION(1.0), taking the fast path when it is offered and accepted, then idles (FIQ).</summary>
    private sealed class RsiVersionOnce(bool offerFastPath) : IRealmEngine
    {
        private bool _called;

        public RealmEvent Run(RealmVcpuContext context, IRealmMemory memory) => Run(context, memory, null);

        public RealmEvent Run(RealmVcpuContext context, IRealmMemory memory, IRealmSmcFastPath? fastPath)
        {
            if (_called)
            {
                return new RealmEvent(RealmEventKind.Fiq);
            }

            _called = true;
            context.X[0] = (ulong)RsiFunctionId.RsiVersion;
            context.X[1] = V10;
            context.Pc += 4;
            if (offerFastPath && fastPath is not null && fastPath.Handles(context.X[0]))
            {
                fastPath.Answer(context);
                return new RealmEvent(RealmEventKind.Fiq);
            }

            return new RealmEvent(RealmEventKind.Smc);
        }
    }

    private static (RealmSide Realm, Recorder Sink) Traced(params bool[] moreRecs)
    {
        var realm = new RealmSide(null, moreRecs);
        var sink = new Recorder();
        realm.Host.Platform.Trace.Sink = sink;
        return (realm, sink);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RsiCall_OnEitherSmcPath_IsRecordedWithItsArgumentsResultAndWhetherItWasInline(bool fastPath)
    {
        (RealmSide r, Recorder sink) = Traced();
        r.Host.Rmm.Engine = new RsiVersionOnce(fastPath);

        Assert.Equal(RecExitReason.Fiq, r.EnterReason());

        TraceEvent call = Assert.Single(sink.Of(TraceEventKind.RsiCall));
        Assert.Equal((ulong)RsiFunctionId.RsiVersion, call.Function);
        Assert.Equal(V10, call.Arg1);
        Assert.Equal((ulong)RsiStatus.Success, call.Result);
        Assert.Equal(fastPath, call.Inline);
        Assert.Equal(0, call.Vcpu);
    }

    [Fact]
    public void PsciCall_FromTheRealm_IsRecordedAsPsciWithItsResult()
    {
        (RealmSide r, Recorder sink) = Traced();

        r.CallInside((ulong)PsciFunctionId.PsciVersion);

        TraceEvent call = Assert.Single(sink.Of(TraceEventKind.PsciCall));
        Assert.Equal((ulong)PsciFunctionId.PsciVersion, call.Function);
        Assert.Equal(0x1_0001UL, call.Result);
        Assert.Empty(sink.Of(TraceEventKind.RsiCall));
    }

    [Fact]
    public void RsiCall_ThatExitsToTheHost_IsRecordedAsCompletingLater()
    {
        (RealmSide r, Recorder sink) = Traced();
        r.Call(RsiFunctionId.RsiHostCall, RealmSide.Ram);

        Assert.Equal(RecExitReason.HostCall, r.EnterReason());

        TraceEvent call = Assert.Single(sink.Of(TraceEventKind.RsiCall));
        Assert.Equal(call.Function, call.Result);
        Assert.Equal(RecExitReason.HostCall, (RecExitReason)Assert.Single(sink.Of(TraceEventKind.RecRun)).Function);
    }

    [Fact]
    public void RecRun_EndingInAnMmioAbort_IsRecordedWithTheExitReasonEsrAndTheFullIpa()
    {
        (RealmSide r, Recorder sink) = Traced();
        r.Script.EnqueueWrite(Unprotected, 4, 5, 1);

        Assert.Equal(RecExitReason.Sync, r.EnterReason());

        TraceEvent run = Assert.Single(sink.Of(TraceEventKind.RecRun));
        Assert.Equal((ulong)RecExitReason.Sync, run.Function);
        Assert.Equal(r.Exit.Esr, run.Esr);
        Assert.Equal(r.Exit.Far, run.Far);
        Assert.Equal(Unprotected, run.Ipa);
        Assert.Equal(0, run.Vcpu);
    }

    [Fact]
    public void RecRun_OfTheRecWithMpidr1_IsOnVcpu1()
    {
        (RealmSide r, Recorder sink) = Traced(true);

        r.EnterOk(rec: r.Recs[1].Pa);

        TraceEvent run = Assert.Single(sink.Of(TraceEventKind.RecRun));
        Assert.Equal(1, run.Vcpu);
        Assert.Equal((ulong)RecExitReason.Fiq, run.Function);
    }

    [Fact]
    public void RealmCalls_WithoutASink_AreAnsweredTheSame()
    {
        var r = new RealmSide();

        ulong[] x = r.CallInside(RsiFunctionId.RsiVersion, V10);

        Assert.Null(r.Host.Platform.Trace.Sink);
        Assert.Equal((ulong)RsiStatus.Success, x[0]);
    }
}
