using CcaSim.Cpu.Arch;
using CcaSim.Platform.Execution;
using CcaSim.Platform.Tracing;

namespace CcaSim.Cpu.Tests.Tracing;

/// <summary>What the CPU engine reports to the platform's trace port: runs, interrupts taken, timer PPIs.</summary>
public sealed class EngineTraceTests
{
    private const ulong Load = Assembler.LoadAddress;

    private sealed class Recorder : ITraceSink
    {
        public List<TraceEvent> Events { get; } = [];

        public void Record(in TraceEvent e) => Events.Add(e);

        public TraceEvent[] Of(TraceEventKind kind) => [.. Events.Where(e => e.Kind == kind)];
    }

    [Fact]
    public void Run_EndingAtAnSmc_IsRecordedWithTheEnginesInstructionCountAndWhereItStopped()
    {
        var sink = new Recorder();
        using Machine m = new("mov x0, #1\nmov x1, #2\nsmc #0", trace: sink);
        m.Context.MpidrEl1 = 0x8000_0002;

        Assert.Equal(RealmEventKind.Smc, m.Run().Kind);

        // The count is the engine's own (translation blocks as the BLOCK hook sees them), run by run.
        TraceEvent run = Assert.Single(sink.Of(TraceEventKind.EngineRun));
        Assert.Equal(m.Engine.InstructionsExecuted(m.Context), run.Instructions);
        Assert.InRange(run.Instructions, 3UL, 4UL);
        Assert.Equal((ulong)RealmEventKind.Smc, run.Function);
        Assert.Equal(Load + 12, run.Pc);
        Assert.Equal(2, run.Vcpu);
        Assert.False(run.HasInstruction);
    }

    [Fact]
    public void Run_EndingInADataAbort_CarriesTheSyndromeIpaAndTheFaultingInstructionWord()
    {
        var sink = new Recorder();
        using Machine m = new($"mov x0, #0x{Machine.Mmio:x}\nldr x3, [x0]\nsmc #0", trace: sink);

        RealmEvent e = m.Run();

        TraceEvent run = Assert.Single(sink.Of(TraceEventKind.EngineRun));
        Assert.Equal(RealmEventKind.DataAbort, e.Kind);
        Assert.Equal(e.Syndrome, run.Esr);
        Assert.Equal(Machine.Mmio, run.Ipa);
        Assert.Equal(Load + 4, run.Pc);
        Assert.True(run.HasInstruction);
        Assert.Equal(0xF940_0003u, run.Instruction); // ldr x3, [x0]
    }

    [Fact]
    public void IccIar1Read_ThatAcknowledgesAnInterrupt_IsRecordedAsTheInterruptTaken()
    {
        var sink = new Recorder();
        using Machine m = new("mrs x5, S3_0_C12_C12_0\nsmc #0", trace: sink); // ICC_IAR1_EL1
        m.Context.Gic.Vmcr = GicCpuInterface.VmcrEng1 | (0xF0UL << GicCpuInterface.VmcrPmrShift) | (3UL << GicCpuInterface.VmcrBpr1Shift);
        m.Context.Gic.Hcr = GicCpuInterface.HcrEn;
        m.Context.Gic.NumListRegisters = 4;
        m.Context.Gic.Lrs[0] = 27 | (0xA0UL << GicCpuInterface.LrPriorityShift) | GicCpuInterface.LrPending | GicCpuInterface.LrGroup;

        Assert.Equal(RealmEventKind.Smc, m.Run().Kind);

        Assert.Equal(27UL, m.Context.X[5]);
        TraceEvent irq = Assert.Single(sink.Of(TraceEventKind.InterruptAcknowledged));
        Assert.Equal(27u, irq.Intid);
        Assert.Equal(Load, irq.Pc);
    }

    [Fact]
    public void IccIar1Read_ThatFindsNothingPending_IsNotAnInterrupt()
    {
        var sink = new Recorder();
        using Machine m = new("mrs x5, S3_0_C12_C12_0\nsmc #0", trace: sink);

        Assert.Equal(RealmEventKind.Smc, m.Run().Kind);

        Assert.Equal(1023UL, m.Context.X[5]);
        Assert.Empty(sink.Of(TraceEventKind.InterruptAcknowledged));
    }

    [Fact]
    public void VirtualTimerReachingItsDeadline_IsRecordedAsPpi27AtTheDeadline()
    {
        var sink = new Recorder();
        using Machine m = new("mrs x0, cntvct_el0\nadd x0, x0, #1000\nmsr cntv_cval_el0, x0\nmov x1, #1\nmsr cntv_ctl_el0, x1\n1: add x2, x2, #1\nb 1b", trace: sink);

        Assert.Equal(RealmEventKind.Irq, m.Run().Kind);

        TraceEvent timer = Assert.Single(sink.Of(TraceEventKind.TimerFired));
        Assert.Equal(27u, timer.Intid);
        Assert.True(timer.Time >= m.Context.CntvCval, $"at {timer.Time}, cval {m.Context.CntvCval}");
        Assert.Equal((ulong)RealmEventKind.Irq, Assert.Single(sink.Of(TraceEventKind.EngineRun)).Function);
    }

    [Fact]
    public void Run_WithoutASink_RunsAsBefore()
    {
        using Machine m = new("mov x0, #1\nmov x1, #2\nsmc #0");

        Assert.Equal(RealmEventKind.Smc, m.Run().Kind);

        Assert.Equal(Load + 12, m.Context.Pc);
        Assert.Equal(1UL, m.Context.X[0]);
        Assert.Equal(2UL, m.Context.X[1]);
    }
}
