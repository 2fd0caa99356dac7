using CcaSim.Platform.Memory;
using CcaSim.Platform.Tracing;

namespace CcaSim.Platform.Monitor;

/// <summary>
/// The EL3 monitor: the SMC conduit from the normal world, and the only owner of GPT changes.
/// RMI function ids (SMCCC standard secure service, numbers 0x150..0x18F) are routed to the registered RMM;
/// anything else returns SMC_UNKNOWN, as TF-A does for an unregistered service.
/// </summary>
public sealed class SecureMonitor
{
    /// <summary>SMCCC "not supported" value for x0.</summary>
    public const ulong SmcUnknown = ulong.MaxValue;

    private const uint SveHintBit = 1u << 16;
    private const uint RmiFirst = 0xC400_0150;
    private const uint RmiLast = 0xC400_018F;

    private readonly PhysicalMemory _memory;
    private readonly GranuleProtectionTable _gpt;
    private readonly TracePort _trace;
    private ISmcHandler? _rmm;

    internal SecureMonitor(PhysicalMemory memory, GranuleProtectionTable gpt, TracePort trace)
    {
        _memory = memory;
        _gpt = gpt;
        _trace = trace;
    }

    /// <summary>Number of SMCs taken from the normal world.</summary>
    public long SmcCount { get; private set; }

    /// <summary>
    /// Registers the RMM (done once, at boot, as TF-A's RMMD does) and returns the services EL3 gives it:
    /// its view of memory and the granule transition calls.
    /// </summary>
    public RmmMonitorServices RegisterRmm(ISmcHandler rmm)
    {
        ArgumentNullException.ThrowIfNull(rmm);
        if (_rmm is not null)
        {
            throw new InvalidOperationException("an RMM is already registered with this monitor");
        }

        _rmm = rmm;
        return new RmmMonitorServices(this, new RealmWorldMemory(_memory, _gpt), _trace);
    }

    /// <summary>An SMC from the normal world (the host kernel).</summary>
    public void Smc(ref SmcRegisters registers)
    {
        SmcCount++;
        uint fid = (uint)registers[0] & ~SveHintBit;
        if (registers[0] >> 32 == 0 && fid >= RmiFirst && fid <= RmiLast && _rmm is not null)
        {
            if (_trace.Sink is not null)
            {
                TracedRmiCall(ref registers);
                return;
            }

            _rmm.HandleSmc(ref registers);
            return;
        }

        registers[0] = SmcUnknown;
    }

    /// <summary>
    /// An RMI call with tracing on: what an EL3 trace of the SMC conduit shows, the call (fid, x1..x3) and the status
    /// it returned, stamped with the virtual time it began and how long it took. Kept apart so the untraced path stays
    /// a single null check.
    /// </summary>
    private void TracedRmiCall(ref SmcRegisters registers)
    {
        ulong start = _trace.Clock.Now;
        (ulong fid, ulong x1, ulong x2, ulong x3) = (registers[0], registers[1], registers[2], registers[3]);
        _rmm!.HandleSmc(ref registers);
        _trace.Sink?.Record(new TraceEvent
        {
            Kind = TraceEventKind.RmiCall,
            Vcpu = TraceEvent.Host,
            Time = start,
            Duration = _trace.Clock.Now - start,
            Function = fid,
            Arg1 = x1,
            Arg2 = x2,
            Arg3 = x3,
            Result = registers[0],
        });
    }

    /// <summary>Convenience form of <see cref="Smc(ref SmcRegisters)"/> for callers that build the registers inline.</summary>
    public SmcRegisters Smc(ulong fid, ulong x1 = 0, ulong x2 = 0, ulong x3 = 0, ulong x4 = 0, ulong x5 = 0, ulong x6 = 0)
    {
        SmcRegisters r = SmcRegisters.Create(fid, x1, x2, x3, x4, x5, x6);
        Smc(ref r);
        return r;
    }

    /// <summary>GTSI delegate: NS → Realm. Fails unless the granule is in the pool and Non-secure.</summary>
    internal bool TransitionToRealm(ulong pa) => Transition(pa, Pas.NonSecure, Pas.Realm);

    /// <summary>GTSI undelegate: Realm → NS. Fails unless the granule is in the pool and Realm.</summary>
    internal bool TransitionToNonSecure(ulong pa) => Transition(pa, Pas.Realm, Pas.NonSecure);

    private bool Transition(ulong pa, Pas from, Pas to)
    {
        if (pa % PhysicalMemory.GranuleSize != 0 || !_memory.Contains(pa, PhysicalMemory.GranuleSize))
        {
            return false;
        }

        ulong index = _memory.GranuleIndex(pa);
        if (_gpt.Get(index) != from)
        {
            return false;
        }

        _gpt.Set(index, to);
        return true;
    }
}

/// <summary>What EL3 offers the RMM: Realm-world memory and the GPT transition calls (RMM_GTSI_DELEGATE/UNDELEGATE).</summary>
public sealed class RmmMonitorServices
{
    private readonly SecureMonitor _monitor;

    internal RmmMonitorServices(SecureMonitor monitor, RealmWorldMemory memory, TracePort trace)
    {
        _monitor = monitor;
        Memory = memory;
        Trace = trace;
    }

    public RealmWorldMemory Memory { get; }

    /// <summary>The platform's trace port, where the RMM reports REC runs and realm calls.</summary>
    public TracePort Trace { get; }

    /// <summary>Moves a Non-secure granule to the Realm PAS; false if it is not Non-secure.</summary>
    public bool GranuleDelegate(ulong pa) => _monitor.TransitionToRealm(pa);

    /// <summary>Moves a Realm granule back to the Non-secure PAS; false if it is not Realm.</summary>
    public bool GranuleUndelegate(ulong pa) => _monitor.TransitionToNonSecure(pa);
}
