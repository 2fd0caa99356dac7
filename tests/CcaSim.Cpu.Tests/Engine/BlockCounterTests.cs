using System.Runtime.InteropServices;
using CcaSim.Cpu.Engine;
using CcaSim.Platform.Execution;

namespace CcaSim.Cpu.Tests.Engine;

/// <summary>
/// The native BLOCK counter stub and the managed callback must count, and stop, identically: virtual time and
/// therefore every transcript depend on it.
/// </summary>
public class BlockCounterTests
{
    private const string SlicedLoop = "mov x0, #0\nldr x1, =300000\n1: add x0, x0, #1\ncmp x0, x1\nb.ne 1b\nsmc #0\n.ltorg";

    private const string TimerLoop =
        "mrs x0, cntvct_el0\nadd x0, x0, #1000\nmsr cntv_cval_el0, x0\nmov x1, #1\nmsr cntv_ctl_el0, x1\n1: add x2, x2, #1\nb 1b";

    // SVCs from EL0 go through the §10 gate, during which the managed callback must see every block.
    private const string El0Svcs = """
        adr x0, vectors
        msr vbar_el1, x0
        adr x1, el0
        msr elr_el1, x1
        msr spsr_el1, xzr
        mov x9, #0
        eret
        el0:
        add x9, x9, #1
        svc #0
        cmp x9, #50
        b.ne el0
        svc #1
        .balign 2048
        vectors:
        .skip 0x400
        mrs x10, esr_el1
        and x10, x10, #0xffff
        cbnz x10, 1f
        eret
        1: smc #0
        """;

    [Theory]
    [InlineData(SlicedLoop, 1000)]
    [InlineData(SlicedLoop, 37)]
    [InlineData(El0Svcs, 0)]
    public void Run_WithNativeCounter_GivesTheSameEventsTimesAndCountsAsManagedCallback(string source, int sliceTicks)
    {
        Assert.Equal(Trace(source, sliceTicks, nativeBlockCounter: false), Trace(source, sliceTicks, nativeBlockCounter: true));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Run_WhenVirtualTimerIsArmed_StopsAtTheSameInstructionOnEitherCounter(bool nativeBlockCounter)
    {
        using Machine reference = new(TimerLoop, nativeBlockCounter: false);
        using Machine m = new(TimerLoop, nativeBlockCounter);
        Assert.Equal(RealmEventKind.Irq, reference.Run().Kind);
        Assert.Equal(RealmEventKind.Irq, m.Run().Kind);
        Assert.Equal(reference.Context.X[2], m.Context.X[2]);
        Assert.Equal(reference.Clock.Now, m.Clock.Now);
        Assert.Equal(reference.Engine.InstructionsExecuted(reference.Context), m.Engine.InstructionsExecuted(m.Context));
        Assert.True(m.Clock.Now >= m.Context.CntvCval && m.Clock.Now <= m.Context.CntvCval + 2, $"now {m.Clock.Now} cval {m.Context.CntvCval}");
    }

    [Fact]
    public void Run_WithSmcFastPath_AnswersAcceptedCallsInlineAndExitsOnOthers()
    {
        const string source = "mov x0, #5\nmov x1, #9\nsmc #0\nmov x2, x0\nmov x3, x1\nsmc #0\nsmc #0";
        using Machine inline = new(source);
        FastPath fastPath = new();
        RealmEvent e = inline.Engine.Run(inline.Context, inline.Memory, fastPath);

        // The first SMC (x0 = 5) is answered inside the run; the second (x0 = 7, refused) is an ordinary Smc event.
        Assert.Equal(RealmEventKind.Smc, e.Kind);
        Assert.Equal(1, fastPath.Answered);
        Assert.Equal(7UL, inline.Context.X[2]);
        Assert.Equal(10UL, inline.Context.X[3]);
        Assert.Equal(Assembler.LoadAddress + 24, inline.Context.Pc);

        // The same program with the owner answering through events ends in the same state and virtual time.
        using Machine events = new(source);
        Assert.Equal(RealmEventKind.Smc, events.Run().Kind);
        events.Context.X[0] = 7;
        events.Context.X[1] = 10;
        Assert.Equal(RealmEventKind.Smc, events.Run().Kind);
        Assert.Equal(inline.Context.X.Take(4), events.Context.X.Take(4));
        Assert.Equal(inline.Context.Pc, events.Context.Pc);
        Assert.Equal(inline.Engine.InstructionsExecuted(inline.Context), events.Engine.InstructionsExecuted(events.Context));
    }

    [Fact]
    public void InstructionCounting_OnX64Linux_IsTheNativeStub()
    {
        string description = UnicornEngine.InstructionCounting;
        if (OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64)
        {
            Assert.Equal("native x86-64 BLOCK counter stub", description);
        }
        else
        {
            Assert.StartsWith("managed BLOCK callback (", description);
        }
    }

    private sealed class FastPath : IRealmSmcFastPath
    {
        public int Answered { get; private set; }

        public bool Handles(ulong x0) => x0 == 5;

        public void Answer(RealmVcpuContext context)
        {
            context.X[0] = 7;
            context.X[1]++;
            Answered++;
        }
    }

    private static List<(RealmEventKind Kind, ulong Pc, ulong X0, ulong X9, ulong Now, ulong Executed)> Trace(string source, int sliceTicks, bool nativeBlockCounter)
    {
        using Machine m = new(source, nativeBlockCounter);
        if (sliceTicks > 0)
        {
            m.Clock.SliceTicks = (ulong)sliceTicks;
        }

        List<(RealmEventKind, ulong, ulong, ulong, ulong, ulong)> events = [];
        RealmEvent e;
        do
        {
            m.Clock.BeginSlice();
            e = m.Run();
            events.Add((e.Kind, m.Context.Pc, m.Context.X[0], m.Context.X[9], m.Clock.Now, m.Engine.InstructionsExecuted(m.Context)));
        }
        while (e.Kind == RealmEventKind.Irq);
        Assert.Equal(RealmEventKind.Smc, e.Kind);
        Assert.True(m.Engine.InstructionsExecuted(m.Context) > 0);
        return events;
    }
}
