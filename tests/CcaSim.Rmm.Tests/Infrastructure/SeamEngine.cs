using CcaSim.Platform.Execution;

namespace CcaSim.Rmm.Tests.Infrastructure;

/// <summary>What the engine saw when the RMM ran a vCPU: PC, the exception to deliver, and the GIC state.</summary>
internal sealed record SeamRun(RealmVcpuContext Context, ulong Pc, RealmFault Pending, ulong GicHcr, ulong[] Lrs);

/// <summary>
/// A fake CPU engine for the seam tests: each run plays the next scripted step (which may change the context, as
/// instructions would, and returns the event), then idles with FIQ. It records every run and every notification
/// the owner sends (Stage2Changed, Flush, Release), and can act on Flush like an engine that cached registers.
/// </summary>
internal sealed class SeamEngine : IRealmEngine
{
    private readonly Queue<Func<RealmVcpuContext, RealmEvent>> _steps = new();

    public List<SeamRun> Runs { get; } = [];

    public List<(IRealmMemory Memory, ulong Ipa, ulong Size)> Stage2Changes { get; } = [];

    public List<RealmVcpuContext> Flushed { get; } = [];

    public List<RealmVcpuContext> ReleasedContexts { get; } = [];

    public List<IRealmMemory> ReleasedMemories { get; } = [];

    /// <summary>Runs on <see cref="Flush"/>: the state the engine held and now writes back.</summary>
    public Action<RealmVcpuContext>? OnFlush { get; set; }

    public void Then(Func<RealmVcpuContext, RealmEvent> step) => _steps.Enqueue(step);

    public void Then(RealmEvent ev) => _steps.Enqueue(_ => ev);

    public RealmEvent Run(RealmVcpuContext context, IRealmMemory memory)
    {
        Runs.Add(new SeamRun(context, context.Pc, context.PendingException, context.Gic.Hcr, [.. context.Gic.Lrs]));
        context.PendingException = RealmFault.None;
        return _steps.TryDequeue(out Func<RealmVcpuContext, RealmEvent>? step) ? step(context) : new RealmEvent(RealmEventKind.Fiq);
    }

    public void Stage2Changed(IRealmMemory memory, ulong ipa, ulong size) => Stage2Changes.Add((memory, ipa, size));

    public void Flush(RealmVcpuContext context)
    {
        Flushed.Add(context);
        OnFlush?.Invoke(context);
    }

    public void Release(RealmVcpuContext context) => ReleasedContexts.Add(context);

    public void Release(IRealmMemory memory) => ReleasedMemories.Add(memory);
}
