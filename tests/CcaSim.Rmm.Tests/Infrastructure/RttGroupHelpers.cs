using System.Globalization;
using System.Text;
using CcaSim.Rmm.Granules;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rtt;

namespace CcaSim.Rmm.Tests.Infrastructure;

/// <summary>
/// Shared set-up for the RTT command tests (group D: RTT_CREATE/DESTROY/FOLD, MAP/UNMAP_UNPROTECTED, READ_ENTRY).
/// Everything goes through SMCs; the only reads are RMI_RTT_READ_ENTRY and the RMM's granule-state diagnostics.
/// </summary>
public static class RttGroupHelpers
{
    /// <summary>First unprotected IPA of the default 48-bit realm.</summary>
    public const ulong Ns = 1UL << 47;

    public const ulong L1Span = 1UL << 30;
    public const ulong L2Span = 1UL << 21;
    public const ulong L3Span = 1UL << 12;

    /// <summary>MemAttr 0b101 and S2AP 0b11: a valid host attribute set for unprotected mappings.</summary>
    public const ulong NsAttrs = (0b101UL << 2) | (0b11UL << 6);

    /// <summary>An address outside the 16 MiB test pool.</summary>
    public const ulong OutsidePool = RmmTestHost.PoolBase + RmmTestHost.PoolSize;

    public static SmcResult RttCreate(this RmmTestHost host, ulong rd, ulong rtt, ulong ipa, long level) =>
        host.Smc(RmiFunctionId.RmiRttCreate, rd, rtt, ipa, (ulong)level);

    public static SmcResult RttDestroy(this RmmTestHost host, ulong rd, ulong ipa, long level) =>
        host.Smc(RmiFunctionId.RmiRttDestroy, rd, ipa, (ulong)level);

    public static SmcResult RttFold(this RmmTestHost host, ulong rd, ulong ipa, long level) =>
        host.Smc(RmiFunctionId.RmiRttFold, rd, ipa, (ulong)level);

    public static SmcResult MapNs(this RmmTestHost host, ulong rd, ulong ipa, long level, ulong desc) =>
        host.Smc(RmiFunctionId.RmiRttMapUnprotected, rd, ipa, (ulong)level, desc);

    public static SmcResult UnmapNs(this RmmTestHost host, ulong rd, ulong ipa, long level) =>
        host.Smc(RmiFunctionId.RmiRttUnmapUnprotected, rd, ipa, (ulong)level);

    public static SmcResult ReadEntryRaw(this RmmTestHost host, ulong rd, ulong ipa, long level) =>
        host.Smc(RmiFunctionId.RmiRttReadEntry, rd, ipa, (ulong)level);

    /// <summary>RTT_INIT_RIPAS over [base, top), asserting it covered all of it.</summary>
    public static void InitRipas(this RmmTestHost host, RealmHandle realm, ulong baseIpa, ulong top)
    {
        SmcResult r = host.Smc(RmiFunctionId.RmiRttInitRipas, realm.Rd, baseIpa, top);
        RmmTestHost.Expect(r, RmiStatus.Success);
        Assert.Equal(top, r.X1);
    }

    /// <summary>DATA_CREATE_UNKNOWN of a fresh delegated granule at <paramref name="ipa"/>; returns the granule.</summary>
    public static ulong AssignUnknown(this RmmTestHost host, RealmHandle realm, ulong ipa)
    {
        ulong data = host.Delegated();
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiDataCreateUnknown, realm.Rd, data, ipa), RmiStatus.Success);
        return data;
    }

    /// <summary>
    /// Makes the level-3 table covering the 2 MiB-aligned <paramref name="ipa"/> exist with all 512 entries
    /// UNASSIGNED with <paramref name="ripas"/> (RAM via INIT_RIPAS, DESTROYED via RTT_DESTROY and re-create).
    /// </summary>
    public static void PrepareUnassignedL3(this RmmTestHost host, RealmHandle realm, ulong ipa, Ripas ripas)
    {
        host.CreateRtts(realm, ipa, 3);
        switch (ripas)
        {
            case Ripas.Ram:
                host.InitRipas(realm, ipa, ipa + L2Span);
                break;
            case Ripas.Destroyed:
                RmmTestHost.Expect(host.RttDestroy(realm.Rd, ipa, 3), RmiStatus.Success);
                RmmTestHost.Expect(host.RttCreate(realm.Rd, host.Delegated(), ipa, 3), RmiStatus.Success);
                break;
        }
    }

    /// <summary>
    /// Fills the (existing) level-3 table at <paramref name="ipa"/> with 512 ASSIGNED pages via DATA_CREATE_UNKNOWN
    /// (RIPAS kept from the UNASSIGNED entries), using the consecutive granules from <paramref name="dataBase"/>
    /// in the order given by <paramref name="order"/> (identity if null).
    /// </summary>
    public static void AssignL3(this RmmTestHost host, RealmHandle realm, ulong ipa, ulong dataBase, Func<int, int>? order = null)
    {
        for (int i = 0; i < 512; i++)
        {
            ulong data = dataBase + ((ulong)(order?.Invoke(i) ?? i) * L3Span);
            RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiDataCreateUnknown, realm.Rd, data, ipa + ((ulong)i * L3Span)), RmiStatus.Success);
        }
    }

    /// <summary>Creates the level-3 table at <paramref name="ipa"/> and fills it with 512 contiguous, 2 MiB-aligned pages.</summary>
    public static ulong AssignedL3(this RmmTestHost host, RealmHandle realm, ulong ipa, Ripas ripas)
    {
        host.PrepareUnassignedL3(realm, ipa, ripas);
        ulong dataBase = host.DelegatedRun(512, L2Span);
        host.AssignL3(realm, ipa, dataBase);
        return dataBase;
    }

    /// <summary>Maps all 512 entries of the unprotected table of <paramref name="level"/> at <paramref name="ipa"/>.</summary>
    public static void MapAllNs(this RmmTestHost host, RealmHandle realm, ulong ipa, int level, ulong oaBase, ulong attrs, Func<int, ulong>? attrsOf = null)
    {
        ulong span = RmmTestHost.Span(level);
        for (int i = 0; i < 512; i++)
        {
            ulong desc = (oaBase + ((ulong)i * span)) | (attrsOf?.Invoke(i) ?? attrs);
            RmmTestHost.Expect(host.MapNs(realm.Rd, ipa + ((ulong)i * span), level, desc), RmiStatus.Success);
        }
    }

    /// <summary>
    /// A printable picture of the state a failing command must leave alone: the count of granules in every state,
    /// the states of <paramref name="granules"/> and RTT_READ_ENTRY of every probe.
    /// </summary>
    public static string Picture(this RmmTestHost host, RealmHandle realm, IEnumerable<ulong> granules, IEnumerable<(ulong Ipa, int Level)> probes)
    {
        var sb = new StringBuilder();
        foreach (GranuleState s in Enum.GetValues<GranuleState>())
        {
            sb.Append(CultureInfo.InvariantCulture, $"{s}={host.Rmm.GranuleCount(s)} ");
        }

        sb.AppendLine();
        foreach (ulong g in granules)
        {
            bool valid = g % RmmTestHost.GranuleSize == 0 && host.Platform.Memory.Contains(g);
            sb.AppendLine(CultureInfo.InvariantCulture, $"0x{g:x}: {(valid ? host.StateOf(g).ToString() : "-")}");
        }

        foreach ((ulong ipa, int level) in probes)
        {
            (int l, RmiRttEntryState st, ulong desc, ulong ripas) = host.ReadEntry(realm, ipa, level);
            sb.AppendLine(CultureInfo.InvariantCulture, $"[0x{ipa:x} L{level}] walk L{l} {st} desc 0x{desc:x} ripas {ripas}");
        }

        return sb.ToString();
    }

    /// <summary>Asserts RTT_READ_ENTRY returns exactly (level, state, desc, ripas).</summary>
    public static void AssertEntry(this RmmTestHost host, RealmHandle realm, ulong ipa, int level, int walkLevel, RmiRttEntryState state, ulong desc, Ripas ripas)
    {
        (int l, RmiRttEntryState st, ulong d, ulong r) = host.ReadEntry(realm, ipa, level);
        Assert.Equal((walkLevel, state, desc, (ulong)ripas), (l, st, d, r));
    }
}
