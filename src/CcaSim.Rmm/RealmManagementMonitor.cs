using System.Buffers.Binary;
using CcaSim.Platform.Execution;
using CcaSim.Platform.Memory;
using CcaSim.Platform.Monitor;
using CcaSim.Platform.Tracing;
using CcaSim.Rmm.Granules;
using CcaSim.Rmm.Realms;
using CcaSim.Rmm.Recs;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rtt;

namespace CcaSim.Rmm;

/// <summary>
/// The Realm Management Monitor (DEN0137 1.0-rel0). Its only host-facing surface is the SMC it registers with
/// the EL3 monitor: function id and x1..x5 in, x0..x4 out; structures are read from and written to
/// non-secure granules by physical address. One handler per RMI command lives in <c>Rmi/Handlers</c>.
/// </summary>
public sealed partial class RealmManagementMonitor : ISmcHandler
{
    private const uint RmiFidBase = 0xC400_0150;
    private const int RmiFidCount = 0x1A;

    private static readonly RmiHandler?[] s_handlers = BuildDispatchTable();

    private readonly RmmMonitorServices _el3;
    private readonly RealmWorldMemory _memory;
    private readonly GranuleTable _granules;
    private readonly bool[] _vmidInUse;
    private int _vmidsAllocated;
    private readonly Func<ulong, RttTable> _tableAt;
    private readonly PhysicalInterrupts _interrupts;
    private readonly TracePort _trace;

    private RealmManagementMonitor(SecureMonitor monitor, RmmConfig config, PhysicalInterrupts interrupts)
    {
        _interrupts = interrupts;
        Config = config;
        FeatureRegister0Value = config.Features.Pack();
        _el3 = monitor.RegisterRmm(this);
        _memory = _el3.Memory;
        _trace = _el3.Trace;
        _granules = new GranuleTable(_memory.Memory);
        _vmidInUse = new bool[1 << config.VmidBits];
        _tableAt = pa => (RttTable)_granules.OwnerOf(pa)!;
    }

    private delegate ulong RmiHandler(RealmManagementMonitor rmm, in SmcRegisters args, ref SmcRegisters ret);

    public RmmConfig Config { get; }

    /// <summary>The value RMI_FEATURES(0) returns.</summary>
    public ulong FeatureRegister0Value { get; }

    /// <summary>Number of auxiliary granules every REC needs (TF-RMM: MAX_REC_AUX_GRANULES).</summary>
    public const int RecAuxCount = RecParamsLayout.MaxAux;

    /// <summary>The engine that executes RECs on RMI_REC_ENTER (the realm-execution seam).</summary>
    public IRealmEngine Engine { get; set; } = IdleRealmEngine.Instance;

    /// <summary>
    /// Boots an RMM behind <paramref name="monitor"/>. The configuration must validate. <paramref name="interrupts"/>
    /// are the PE's physical interrupt lines, which the RMM polls while signing tokens (none pending if omitted).
    /// </summary>
    public static RealmManagementMonitor Boot(SecureMonitor monitor, RmmConfig? config = null, PhysicalInterrupts? interrupts = null)
    {
        ArgumentNullException.ThrowIfNull(monitor);
        config ??= new RmmConfig();
        string? problem = config.Validate();
        if (problem is not null)
        {
            throw new ArgumentException(problem, nameof(config));
        }

        return new RealmManagementMonitor(monitor, config, interrupts ?? new PhysicalInterrupts());
    }

    /// <summary>The RMI entry point: decodes the function id (bit 16, the SVE hint, ignored) and dispatches.</summary>
    public void HandleSmc(ref SmcRegisters registers)
    {
        uint offset = ((uint)registers[0] & ~(1u << 16)) - RmiFidBase;
        RmiHandler? handler = offset < RmiFidCount ? s_handlers[offset] : null;
        if (handler is null)
        {
            registers[0] = SecureMonitor.SmcUnknown;
            registers[1] = registers[2] = registers[3] = registers[4] = 0;
            return;
        }

        SmcRegisters args = registers;
        registers[1] = registers[2] = registers[3] = registers[4] = 0;
        registers[0] = handler(this, in args, ref registers);
    }

    /// <summary>The RMM's view of a granule's state (diagnostics and tests; the host learns it only through RMI results).</summary>
    public GranuleState GranuleStateOf(ulong pa) =>
        _granules.IsValidAddress(pa) ? _granules.StateOf(pa) : throw new ArgumentOutOfRangeException(nameof(pa));

    /// <summary>Number of granules in <paramref name="state"/>.</summary>
    public long GranuleCount(GranuleState state) => _granules.Count(state);

    /// <summary>Number of VMIDs currently allocated to realms.</summary>
    public int VmidsInUse => _vmidsAllocated;

    /// <summary>
    /// A simulator-only debugging view: reads a realm's memory as the realm sees it (through its stage 2).
    /// False if <paramref name="rd"/> is not an RD or any byte of the range is not mapped for the realm.
    /// </summary>
    public bool TryReadRealmMemory(ulong rd, ulong ipa, Span<byte> destination)
    {
        Realm? realm = FindRealm(rd);
        if (realm is null)
        {
            return false;
        }

        RealmStage2 stage2 = Stage2Of(realm);
        while (!destination.IsEmpty)
        {
            int n = (int)Math.Min((ulong)destination.Length, PhysicalMemory.GranuleSize - (ipa & (PhysicalMemory.GranuleSize - 1)));
            if (!stage2.TryRead(ipa, destination[..n]))
            {
                return false;
            }

            destination = destination[n..];
            ipa += (ulong)n;
        }

        return true;
    }

    /// <summary>Test access to a REC by its granule, for state the realm side would create (pending PSCI, RIPAS change).</summary>
    internal Rec? RecAt(ulong pa) => FindRec(pa);

    /// <summary>Test access to a realm by its RD granule.</summary>
    internal Realm? RealmAt(ulong rd) => FindRealm(rd);

    private static RmiHandler?[] BuildDispatchTable()
    {
        var table = new RmiHandler?[RmiFidCount];
        void Add(RmiFunctionId fid, RmiHandler h) => table[(uint)fid - RmiFidBase] = h;
        Add(RmiFunctionId.RmiVersion, static (m, in a, ref r) => RmiVersion(in a, ref r));
        Add(RmiFunctionId.RmiGranuleDelegate, static (m, in a, ref r) => m.RmiGranuleDelegate(in a));
        Add(RmiFunctionId.RmiGranuleUndelegate, static (m, in a, ref r) => m.RmiGranuleUndelegate(in a));
        Add(RmiFunctionId.RmiDataCreate, static (m, in a, ref r) => m.RmiDataCreate(in a, measured: true));
        Add(RmiFunctionId.RmiDataCreateUnknown, static (m, in a, ref r) => m.RmiDataCreate(in a, measured: false));
        Add(RmiFunctionId.RmiDataDestroy, static (m, in a, ref r) => m.RmiDataDestroy(in a, ref r));
        Add(RmiFunctionId.RmiRealmActivate, static (m, in a, ref r) => m.RmiRealmActivate(in a));
        Add(RmiFunctionId.RmiRealmCreate, static (m, in a, ref r) => m.RmiRealmCreate(in a));
        Add(RmiFunctionId.RmiRealmDestroy, static (m, in a, ref r) => m.RmiRealmDestroy(in a));
        Add(RmiFunctionId.RmiRecCreate, static (m, in a, ref r) => m.RmiRecCreate(in a));
        Add(RmiFunctionId.RmiRecDestroy, static (m, in a, ref r) => m.RmiRecDestroy(in a));
        Add(RmiFunctionId.RmiRecEnter, static (m, in a, ref r) => m.RmiRecEnter(in a));
        Add(RmiFunctionId.RmiRttCreate, static (m, in a, ref r) => m.RmiRttCreate(in a));
        Add(RmiFunctionId.RmiRttDestroy, static (m, in a, ref r) => m.RmiRttDestroy(in a, ref r));
        Add(RmiFunctionId.RmiRttMapUnprotected, static (m, in a, ref r) => m.RmiRttMapUnprotected(in a));
        Add(RmiFunctionId.RmiRttReadEntry, static (m, in a, ref r) => m.RmiRttReadEntry(in a, ref r));
        Add(RmiFunctionId.RmiRttUnmapUnprotected, static (m, in a, ref r) => m.RmiRttUnmapUnprotected(in a, ref r));
        Add(RmiFunctionId.RmiPsciComplete, static (m, in a, ref r) => m.RmiPsciComplete(in a));
        Add(RmiFunctionId.RmiFeatures, static (m, in a, ref r) => m.RmiFeatures(in a, ref r));
        Add(RmiFunctionId.RmiRttFold, static (m, in a, ref r) => m.RmiRttFold(in a, ref r));
        Add(RmiFunctionId.RmiRecAuxCount, static (m, in a, ref r) => m.RmiRecAuxCount(in a, ref r));
        Add(RmiFunctionId.RmiRttInitRipas, static (m, in a, ref r) => m.RmiRttInitRipas(in a, ref r));
        Add(RmiFunctionId.RmiRttSetRipas, static (m, in a, ref r) => m.RmiRttSetRipas(in a, ref r));
        return table;
    }

    private static ulong Success => RmiReturn.Pack(RmiStatus.Success);

    private static ulong ErrorInput => RmiReturn.Pack(RmiStatus.ErrorInput);

    private static ulong ErrorRealm(int index = 0) => RmiReturn.Pack(RmiStatus.ErrorRealm, index);

    private static ulong ErrorRec => RmiReturn.Pack(RmiStatus.ErrorRec);

    private static ulong ErrorRtt(int level) => RmiReturn.Pack(RmiStatus.ErrorRtt, level);

    /// <summary>rd_align, rd_bound, rd_state: the RD, or null.</summary>
    private Realm? FindRealm(ulong rd) => _granules.Is(rd, GranuleState.Rd) ? (Realm)_granules.OwnerOf(rd)! : null;

    /// <summary>rec_align, rec_bound, rec_gran_state: the REC, or null.</summary>
    private Rec? FindRec(ulong rec) => _granules.Is(rec, GranuleState.Rec) ? (Rec)_granules.OwnerOf(rec)! : null;

    private bool IsDelegated(ulong pa) => _granules.Is(pa, GranuleState.Delegated);

    /// <summary>
    /// X_align, X_bound, X_pas for a non-secure input granule: it must be a granule the host owns and the
    /// granule protection check must let the Realm world read it as Non-secure.
    /// </summary>
    private bool IsNsGranule(ulong pa) =>
        _granules.Is(pa, GranuleState.Undelegated) && _memory.Check(pa, PhysicalMemory.GranuleSize) == MemoryAccessStatus.Ok;

    /// <summary>Reads a whole NS granule the caller validated with <see cref="IsNsGranule"/>.</summary>
    private ReadOnlySpan<byte> ReadNs(ulong pa) => _memory.ReadGranule(pa);

    private RttWalk Walk(Realm realm, ulong ipa, int level) => realm.Walk(ipa, level, _tableAt);

    private RttTable TableAt(ulong pa) => _tableAt(pa);

    /// <summary>
    /// "Top of the non-live region" (rmm-1.0.md §3.13, B3.76 RttSkipNonLiveEntries): the walk's IPA if its entry is
    /// live, else the first IPA past the run of non-live entries that follows in the same table. Not capped at
    /// 2^s2sz: a root RTT that spans more than the IPA space still has all its entries (C1.28), so a walk ending
    /// in an empty root reports the end of that table.
    /// </summary>
    private static ulong NonLiveTop(in RttWalk walk, ulong ipa)
    {
        RttTable table = walk.Table;
        if (table[walk.Index].IsLive)
        {
            return ipa;
        }

        int entries = S2Geometry.EntriesAt(table.Level);
        int i = walk.Index + 1;
        if (table.LiveCount != 0)
        {
            while (i < entries && !table[i].IsLive)
            {
                i++;
            }
        }
        else
        {
            i = entries;
        }

        return table.EntryIpa(i);
    }

    /// <summary>Levels arrive in a 64-bit register and are signed (level −1 with LPA2).</summary>
    private static long Level(ulong register) => (long)register;

    private static ulong U64(ReadOnlySpan<byte> s, int offset) => BinaryPrimitives.ReadUInt64LittleEndian(s[offset..]);
}
