using System.Buffers.Binary;
using CcaSim.Platform.Execution;
using CcaSim.Rmm.Realms;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rsi;

namespace CcaSim.Rmm.Tests.Infrastructure;

/// <summary>A realm call that completed: the call and x0..x8 as the realm saw them.</summary>
internal sealed record CompletedCall(RealmCall Call, ulong[] X)
{
    public RsiStatus Status => (RsiStatus)X[0];
}

/// <summary>The exit half of RmiRecRun (rmm-1.0.md §4.3) as the host reads it.</summary>
internal sealed record RecExitView(RecExitReason Reason, ulong Esr, ulong Far, ulong Hpfar, ulong[] Gprs, ulong RipasBase, ulong RipasTop, byte RipasValue, ulong Imm);

/// <summary>What the engine was handed when the RMM ran a vCPU: its PC and registers at that moment.</summary>
internal sealed record EngineRun(RealmVcpuContext Context, ulong Pc, ulong[] X);

/// <summary>
/// Wraps a <see cref="ScriptedRealm"/>, recording every run (which vCPU, its PC and registers as the RMM handed
/// them over) so a test can see where a vCPU starts (PSCI CPU_ON) and whether an entry ran the realm at all.
/// </summary>
internal sealed class RecordingEngine(ScriptedRealm inner) : IRealmEngine
{
    public List<EngineRun> Runs { get; } = [];

    public RealmEvent Run(RealmVcpuContext context, IRealmMemory memory)
    {
        Runs.Add(new EngineRun(context, context.Pc, [.. context.X]));
        return inner.Run(context, memory);
    }
}

/// <summary>
/// The realm side of a test (group F): an ACTIVE 48-bit SHA-256 realm (start level 0, RTTs down to level 3 at IPA 0)
/// whose vCPUs run a <see cref="ScriptedRealm"/>. Its IPA space, as the tests use it:
/// <list type="bullet">
/// <item>[0, 0x1000): UNASSIGNED EMPTY;</item>
/// <item>[<see cref="Ram"/>, +<see cref="RamPages"/> pages): ASSIGNED RAM (DATA_CREATE_UNKNOWN after INIT_RIPAS);</item>
/// <item>[<see cref="UnmappedRam"/>, <see cref="RipasEnd"/>): UNASSIGNED RAM (level 3): not mapped;</item>
/// <item>[<see cref="RipasEnd"/>, 0x20_0000): UNASSIGNED EMPTY (level 3);</item>
/// <item>[<see cref="BlockRam"/>, +2 MiB): a level-2 UNASSIGNED RAM entry: not mapped, the walk stops at level 2;</item>
/// <item>from 0x40_0000: UNASSIGNED EMPTY at level 2 and above.</item>
/// </list>
/// REC 0 is runnable; further RECs (MPIDR = index) are created runnable or not as asked.
/// </summary>
internal sealed class RealmSide
{
    public const ulong Ram = 0x1000;
    public const int RamPages = 6;
    public const ulong UnmappedRam = 0x8000;
    public const ulong RipasEnd = 0xA000;
    public const ulong EmptyPage = 0x10000;
    public const ulong BlockRam = 0x20_0000;
    public const ulong L3TableEnd = 0x20_0000;
    public const ulong Unprotected = 1UL << 47;
    public const ulong IpaEnd = 1UL << 48;
    public const ulong RecPc = 0x8_0000;

    /// <summary>Junk a test puts in the argument registers it does not use, to see what a call preserves.</summary>
    public const ulong Junk = 0x0BAD_0000_0000_0000;

    public RealmSide(RealmParams? p = null, params bool[] moreRecsRunnable)
        : this(new RmmTestHost(), p, moreRecsRunnable)
    {
    }

    /// <summary>The same realm, one REC, on an RMM built with <paramref name="config"/> (e.g. more list registers).</summary>
    public RealmSide(RmmConfig config)
        : this(new RmmTestHost(config), null, [])
    {
    }

    private RealmSide(RmmTestHost host, RealmParams? p, bool[] moreRecsRunnable)
    {
        Host = host;
        p ??= new RealmParams();
        if (p.Rpv.All(b => b == 0))
        {
            for (int i = 0; i < p.Rpv.Length; i++)
            {
                p.Rpv[i] = (byte)(0xC0 + i);
            }
        }

        Realm = Host.CreateRealm(p);
        Host.CreateRtts(Realm, 0, 3);
        Expect(Host.Smc(RmiFunctionId.RmiRttInitRipas, Realm.Rd, Ram, RipasEnd), RmiStatus.Success);
        for (int i = 0; i < RamPages; i++)
        {
            Expect(Host.Smc(RmiFunctionId.RmiDataCreateUnknown, Realm.Rd, Host.Delegated(), Ram + ((ulong)i * 0x1000)), RmiStatus.Success);
        }

        Expect(Host.Smc(RmiFunctionId.RmiRttInitRipas, Realm.Rd, BlockRam, BlockRam + 0x20_0000), RmiStatus.Success);
        Recs.Add(RecGroupHelpers.CreateRec(Host, Realm, mpidr: 0, runnable: true, pc: RecPc));
        for (int i = 0; i < moreRecsRunnable.Length; i++)
        {
            Recs.Add(RecGroupHelpers.CreateRec(Host, Realm, mpidr: (ulong)(i + 1), runnable: moreRecsRunnable[i], pc: RecPc));
        }

        Expect(Host.Smc(RmiFunctionId.RmiRealmActivate, Realm.Rd), RmiStatus.Success);
        Run = Host.NsGranule();
        Script = new ScriptedRealm(Host.Platform.Interrupts);
        Script.CallCompleted += (call, x) => Completed.Add(new CompletedCall(call, x));
        Script.StepCompleted += (step, x, fault) => Steps.Add((step, x, fault));
        Engine = new RecordingEngine(Script);
        Host.Rmm.Engine = Engine;
    }

    public RmmTestHost Host { get; }

    public RealmHandle Realm { get; }

    public List<CreatedRec> Recs { get; } = [];

    /// <summary>REC 0's granule.</summary>
    public ulong Rec => Recs[0].Pa;

    /// <summary>The RmiRecRun granule every entry uses.</summary>
    public ulong Run { get; }

    public ScriptedRealm Script { get; }

    public RecordingEngine Engine { get; }

    /// <summary>Every realm call that completed, in order.</summary>
    public List<CompletedCall> Completed { get; } = [];

    /// <summary>Every realm step (calls, data accesses, WFx, HVC) that completed, with the exception it took.</summary>
    public List<(RealmStep Step, ulong[] X, RealmFault Fault)> Steps { get; } = [];

    public Realm RealmState => Host.Rmm.RealmAt(Realm.Rd)!;

    public bool IrqPending
    {
        get => Host.Platform.Interrupts.IrqPending;
        set => Host.Platform.Interrupts.IrqPending = value;
    }

    /// <summary>Queues a realm SMC.</summary>
    public void Call(ulong fid, params ulong[] args) => Script.Enqueue(fid, args);

    public void Call(RsiFunctionId fid, params ulong[] args) => Script.Enqueue((ulong)fid, args);

    /// <summary>RMI_REC_ENTER with the given entry flags and gprs (the rest of the entry half zero).</summary>
    public SmcResult Enter(ulong? rec = null, ulong flags = 0, ulong[]? gprs = null)
    {
        byte[] entry = new byte[RecRunLayout.Exit];
        BinaryPrimitives.WriteUInt64LittleEndian(entry.AsSpan(RecRunLayout.EnterFlags), flags);
        for (int i = 0; gprs is not null && i < gprs.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(entry.AsSpan(RecRunLayout.EnterGprs + (8 * i)), gprs[i]);
        }

        Host.Host.Write(Run, entry);
        return Host.Smc(RmiFunctionId.RmiRecEnter, rec ?? Rec, Run);
    }

    /// <summary>RMI_REC_ENTER, asserting SUCCESS; returns the exit.</summary>
    public RecExitView EnterOk(ulong? rec = null, ulong flags = 0, ulong[]? gprs = null)
    {
        Expect(Enter(rec, flags, gprs), RmiStatus.Success);
        return Exit;
    }

    /// <summary>RMI_REC_ENTER of REC 0 with entry flags and gprs[0], asserting SUCCESS; returns the exit reason.</summary>
    public RecExitReason EnterReason(ulong flags = 0, ulong gpr0 = 0) => EnterOk(flags: flags, gprs: [gpr0]).Reason;

    /// <summary>
    /// Queues one call, enters REC 0 and asserts the call completed inside that entry and the realm then idled
    /// (FIQ exit): the call returned to the realm without an exit. Returns x0..x8.
    /// </summary>
    public ulong[] CallInside(ulong fid, params ulong[] args)
    {
        int before = Completed.Count;
        Call(fid, args);
        RecExitView exit = EnterOk();
        Assert.Equal(RecExitReason.Fiq, exit.Reason);
        Assert.Equal(before + 1, Completed.Count);
        Assert.Equal(fid, Completed[^1].Call.FunctionId);
        return Completed[^1].X;
    }

    public ulong[] CallInside(RsiFunctionId fid, params ulong[] args) => CallInside((ulong)fid, args);

    /// <summary>The last completed call.</summary>
    public CompletedCall Last => Completed[^1];

    /// <summary>The exit half of the run granule.</summary>
    public RecExitView Exit
    {
        get
        {
            ulong gprs0 = Run + RecRunLayout.ExitGprs;
            return new RecExitView(
                (RecExitReason)Host.Read64(Run + RecRunLayout.ExitReason),
                Host.Read64(Run + RecRunLayout.ExitEsr),
                Host.Read64(Run + RecRunLayout.ExitFar),
                Host.Read64(Run + RecRunLayout.ExitHpfar),
                [.. Enumerable.Range(0, RecRunLayout.NumGprs).Select(i => Host.Read64(gprs0 + (ulong)(8 * i)))],
                Host.Read64(Run + RecRunLayout.ExitRipasBase),
                Host.Read64(Run + RecRunLayout.ExitRipasTop),
                (byte)Host.Read64(Run + RecRunLayout.ExitRipasValue),
                Host.Read64(Run + RecRunLayout.ExitImm));
        }
    }

    /// <summary>Realm memory as the realm sees it (simulator-only view).</summary>
    public byte[] ReadRealm(ulong ipa, int length)
    {
        byte[] bytes = new byte[length];
        Assert.True(Host.Rmm.TryReadRealmMemory(Realm.Rd, ipa, bytes), $"IPA 0x{ipa:x} not mapped");
        return bytes;
    }

    /// <summary>Writes realm memory through the realm's stage 2, as the realm's own stores would.</summary>
    public void WriteRealm(ulong ipa, ReadOnlySpan<byte> bytes)
    {
        if (RealmState.Stage2 is null)
        {
            // The stage-2 view is built on the first entry; an entry with nothing queued just exits with FIQ.
            Assert.Equal(0, Script.Pending);
            EnterOk();
        }

        Assert.True(RealmState.Stage2!.TryWrite(ipa, bytes), $"IPA 0x{ipa:x} not mapped");
    }

    /// <summary>The RMI view of the level-3 entry at <paramref name="ipa"/>.</summary>
    public (int Level, RmiRttEntryState State, ulong Desc, ulong Ripas) Entry(ulong ipa) => Host.ReadEntry(Realm, ipa, 3);

    /// <summary>Maps a fresh granule at an UNASSIGNED protected IPA (RIPAS preserved).</summary>
    public ulong Map(ulong ipa)
    {
        ulong data = Host.Delegated();
        Expect(Host.Smc(RmiFunctionId.RmiDataCreateUnknown, Realm.Rd, data, ipa), RmiStatus.Success);
        return data;
    }

    /// <summary>RMI_DATA_DESTROY at an ASSIGNED IPA (RAM → DESTROYED, EMPTY → EMPTY).</summary>
    public void Unmap(ulong ipa) => Expect(Host.Smc(RmiFunctionId.RmiDataDestroy, Realm.Rd, ipa), RmiStatus.Success);

    public static void Expect(SmcResult r, RmiStatus status, int index = 0) => RmmTestHost.Expect(r, status, index);

    /// <summary>ESR of an emulated stage-2 data abort: EC 0x24, translation fault at <paramref name="level"/> (§5.6).</summary>
    public static ulong TranslationFaultEsr(int level) => (0x24UL << 26) | (0x04UL + (ulong)level);

    /// <summary>Asserts a SYNC exit emulating a stage-2 translation fault at <paramref name="ipa"/> (§5.6).</summary>
    public static void AssertStage2Fault(RecExitView exit, ulong ipa, int level)
    {
        Assert.Equal(RecExitReason.Sync, exit.Reason);
        Assert.Equal(TranslationFaultEsr(level), exit.Esr);
        Assert.Equal(0UL, exit.Far);
        Assert.Equal((ipa >> 8) & ~0xFUL, exit.Hpfar);
        Assert.All(exit.Gprs, g => Assert.Equal(0UL, g));
    }

    /// <summary>Ten argument registers x1..x10: the given ones first, then junk that names its register.</summary>
    public static ulong[] Args(params ulong[] given) =>
        [.. given, .. Enumerable.Range(given.Length + 1, 10 - given.Length).Select(i => Junk + (ulong)i)];
}
