using CcaSim.Platform.Monitor;

namespace CcaSim.Kvm.Rmi;

/// <summary>
/// The host's RMI calls (the v12 series' rmi_cmds.h): one method per command, each a single SMC on the
/// platform conduit. Arguments are physical addresses of granules the host owns; the RMM's answer comes back
/// as status + index + outputs. Nothing here knows how the RMM is built.
/// </summary>
public sealed class RmiClient(SecureMonitor monitor)
{
    private readonly SecureMonitor _monitor = monitor;

    /// <summary>SMCs issued, for tests and benchmarks.</summary>
    public long Calls { get; private set; }

    public RmiResult Call(ulong fid, ulong x1 = 0, ulong x2 = 0, ulong x3 = 0, ulong x4 = 0, ulong x5 = 0)
    {
        SmcRegisters r = SmcRegisters.Create(fid, x1, x2, x3, x4, x5);
        _monitor.Smc(ref r);
        Calls++;
        return new RmiResult((RmiStatus)(byte)r[0], (int)((r[0] >> 8) & 0xFF), r[1], r[2], r[3], r[4]);
    }

    public RmiResult Version(ulong requested) => Call(RmiFid.Version, requested);

    public RmiResult Features(ulong index) => Call(RmiFid.Features, index);

    public RmiResult GranuleDelegate(ulong pa) => Call(RmiFid.GranuleDelegate, pa);

    public RmiResult GranuleUndelegate(ulong pa) => Call(RmiFid.GranuleUndelegate, pa);

    public RmiResult RealmCreate(ulong rd, ulong paramsPa) => Call(RmiFid.RealmCreate, rd, paramsPa);

    public RmiResult RealmActivate(ulong rd) => Call(RmiFid.RealmActivate, rd);

    public RmiResult RealmDestroy(ulong rd) => Call(RmiFid.RealmDestroy, rd);

    public RmiResult RecAuxCount(ulong rd) => Call(RmiFid.RecAuxCount, rd);

    public RmiResult RecCreate(ulong rd, ulong rec, ulong paramsPa) => Call(RmiFid.RecCreate, rd, rec, paramsPa);

    public RmiResult RecDestroy(ulong rec) => Call(RmiFid.RecDestroy, rec);

    public RmiResult RecEnter(ulong rec, ulong runPa) => Call(RmiFid.RecEnter, rec, runPa);

    public RmiResult PsciComplete(ulong callingRec, ulong targetRec, ulong status) => Call(RmiFid.PsciComplete, callingRec, targetRec, status);

    public RmiResult RttCreate(ulong rd, ulong rtt, ulong ipa, int level) => Call(RmiFid.RttCreate, rd, rtt, ipa, (ulong)level);

    /// <summary>RMI_RTT_DESTROY: X1 = the freed RTT's address, X2 = the next live IPA (top).</summary>
    public RmiResult RttDestroy(ulong rd, ulong ipa, int level) => Call(RmiFid.RttDestroy, rd, ipa, (ulong)level);

    public RmiResult RttFold(ulong rd, ulong ipa, int level) => Call(RmiFid.RttFold, rd, ipa, (ulong)level);

    public RmiResult RttReadEntry(ulong rd, ulong ipa, int level) => Call(RmiFid.RttReadEntry, rd, ipa, (ulong)level);

    public RmiResult RttMapUnprotected(ulong rd, ulong ipa, int level, ulong desc) => Call(RmiFid.RttMapUnprotected, rd, ipa, (ulong)level, desc);

    public RmiResult RttUnmapUnprotected(ulong rd, ulong ipa, int level) => Call(RmiFid.RttUnmapUnprotected, rd, ipa, (ulong)level);

    /// <summary>RMI_RTT_INIT_RIPAS: X1 = how far it got (top).</summary>
    public RmiResult RttInitRipas(ulong rd, ulong baseIpa, ulong topIpa) => Call(RmiFid.RttInitRipas, rd, baseIpa, topIpa);

    /// <summary>RMI_RTT_SET_RIPAS: X1 = how far it got (top).</summary>
    public RmiResult RttSetRipas(ulong rd, ulong rec, ulong baseIpa, ulong topIpa) => Call(RmiFid.RttSetRipas, rd, rec, baseIpa, topIpa);

    public RmiResult DataCreate(ulong rd, ulong data, ulong ipa, ulong src, ulong flags) => Call(RmiFid.DataCreate, rd, data, ipa, src, flags);

    public RmiResult DataCreateUnknown(ulong rd, ulong data, ulong ipa) => Call(RmiFid.DataCreateUnknown, rd, data, ipa);

    /// <summary>RMI_DATA_DESTROY: X1 = the data granule's address, X2 = the next live IPA (top).</summary>
    public RmiResult DataDestroy(ulong rd, ulong ipa) => Call(RmiFid.DataDestroy, rd, ipa);
}
