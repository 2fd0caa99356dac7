using CcaSim.Platform.Execution;

namespace CcaSim.Platform.Tests.Execution;

/// <summary>The scripted engine follows the seam's conventions: PCs past SMC/WFx/HVC, full abort syndromes.</summary>
public sealed class ScriptedRealmTests
{
    private const ulong Pc = 0x8_0000;

    /// <summary>A stage 2 that maps nothing: every access is a fault for the owner.</summary>
    private sealed class NothingMapped : IRealmMemory
    {
        public bool TryRead(ulong ipa, Span<byte> destination) => false;

        public bool TryWrite(ulong ipa, ReadOnlySpan<byte> source) => false;

        public Stage2Page Lookup(ulong ipa) => new(Stage2PageKind.Unmapped);
    }

    private static (ScriptedRealm Script, RealmVcpuContext Context) New()
    {
        var script = new ScriptedRealm(new PhysicalInterrupts());
        var context = new RealmVcpuContext { Pc = Pc };
        return (script, context);
    }

    [Theory]
    [InlineData(RealmStepKind.Smc, RealmEventKind.Smc, 0UL)]
    [InlineData(RealmStepKind.Wfi, RealmEventKind.Wfi, (0x01UL << 26) | (1UL << 25))]
    [InlineData(RealmStepKind.Wfe, RealmEventKind.Wfe, (0x01UL << 26) | (1UL << 25) | 1)]
    [InlineData(RealmStepKind.Hvc, RealmEventKind.Hvc, (0x16UL << 26) | (1UL << 25))]
    public void Step_IsReportedWithThePcPastTheInstruction(RealmStepKind step, RealmEventKind kind, ulong syndrome)
    {
        var (script, ctx) = New();
        switch (step)
        {
            case RealmStepKind.Smc: script.Enqueue(0xC400_0190, 0x10000); break;
            case RealmStepKind.Wfi: script.EnqueueWfi(); break;
            case RealmStepKind.Wfe: script.EnqueueWfe(); break;
            default: script.EnqueueHvc(); break;
        }

        RealmEvent ev = script.Run(ctx, new NothingMapped());

        Assert.Equal(kind, ev.Kind);
        Assert.Equal(syndrome, ev.Syndrome);
        Assert.Equal(Pc + 4, ctx.Pc);
    }

    [Fact]
    public void Smc_WhenTheOwnerMovesThePcBackOntoIt_RunsAgain_AndCompletesOnceLeftPastIt()
    {
        var (script, ctx) = New();
        int completed = 0;
        script.CallCompleted += (_, _) => completed++;
        script.Enqueue(0xC400_0196, 0x1000);
        Assert.Equal(RealmEventKind.Smc, script.Run(ctx, new NothingMapped()).Kind);

        ctx.Pc = Pc;
        RealmEvent again = script.Run(ctx, new NothingMapped());

        Assert.Equal(RealmEventKind.Smc, again.Kind);
        Assert.Equal(0, completed);
        Assert.Equal(RealmEventKind.Fiq, script.Run(ctx, new NothingMapped()).Kind);
        Assert.Equal(1, completed);
    }

    [Theory]
    [InlineData(1, false, 5, 0x0000_0000UL)]
    [InlineData(4, true, 7, (1UL << 6))]
    [InlineData(8, false, 30, (1UL << 15))]
    public void DataAbort_CarriesTheSyndromeOfASingleRegisterLoadStore_AndThePcOnTheAccess(int size, bool write, int register, ulong wnrOrSf)
    {
        var (script, ctx) = New();
        if (write)
        {
            script.EnqueueWrite(0x4000_0010, size, register, 0x1234);
        }
        else
        {
            script.EnqueueRead(0x4000_0010, size, register);
        }

        RealmEvent ev = script.Run(ctx, new NothingMapped());

        ulong sas = (ulong)System.Numerics.BitOperations.Log2((uint)size);
        ulong expected = (0x24UL << 26) | (1UL << 25) | (1UL << 24) | (sas << 22) | ((ulong)register << 16) | wnrOrSf | 0x07;
        Assert.Equal(RealmEventKind.DataAbort, ev.Kind);
        Assert.Equal(expected, ev.Syndrome);
        Assert.Equal(0x4000_0010UL, ev.Va);
        Assert.True(ev.IsValidSyndrome);
        Assert.Equal(Pc, ctx.Pc);
    }
}
