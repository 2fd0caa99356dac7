using CcaSim.Platform.Monitor;
using CcaSim.Rmm.Realms;
using CcaSim.Rmm.Rtt;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    private const ulong MemAttrMask = 0x7UL << 2;
    private const ulong MemAttrReserved = 0x4UL << 2;
    private const ulong S2apMask = 0x3UL << 6;
    private const ulong Lpa2OaHighMask = 0x3UL << 8;

    /// <summary>
    /// RMI_RTT_MAP_UNPROTECTED (rd, ipa, level, desc) (§3.17): rd_*, level_bound (1..3), attr_valid, addr_align,
    /// addr_bound, ipa_align, ipa_bound (must be unprotected) → INPUT; rtt_walk → ERROR_RTT(level reached);
    /// rtte_state (not UNASSIGNED_NS) → ERROR_RTT(level). All INPUT failures are alike, so the order between them
    /// is the reference RMM's (level, rd, desc, ipa) — unobservable to the host.
    /// </summary>
    private ulong RmiRttMapUnprotected(in SmcRegisters a)
    {
        ulong ipa = a[2];
        long level = Level(a[3]);
        ulong desc = a[4];
        Realm? realm = FindRealm(a[1]);
        if (realm is null || level < 1 || level > 3)
        {
            return ErrorInput;
        }

        int lvl = (int)level;
        if (!TryDecodeNsDescriptor(realm, desc, lvl, out ulong oa))
        {
            return ErrorInput;
        }

        if (!S2Geometry.IsAligned(ipa, lvl) || realm.IsProtected(ipa) || ipa >= realm.IpaSize)
        {
            return ErrorInput;
        }

        RttWalk walk = Walk(realm, ipa, lvl);
        if (walk.Level != lvl)
        {
            return ErrorRtt(walk.Level);
        }

        if (walk.Entry.Hipas != Hipas.UnassignedNs)
        {
            return ErrorRtt(lvl);
        }

        walk.Table.Set(walk.Index, RttEntry.AssignedNs(oa, desc));
        return Success;
    }

    /// <summary>
    /// attr_valid, addr_align, addr_bound: a host descriptor holds only OA[47:L] (plus OA[51:48] in bits [49:48]
    /// and [9:8] with LPA2), MemAttr[4:2] other than the reserved 0b100, and S2AP[7:6].
    /// </summary>
    private static bool TryDecodeNsDescriptor(Realm realm, ulong desc, int level, out ulong oa)
    {
        ulong oaMask = ((1UL << (realm.Lpa2 ? 50 : 48)) - 1) & ~(S2Geometry.Span(level) - 1);
        ulong allowed = oaMask | MemAttrMask | S2apMask | (realm.Lpa2 ? Lpa2OaHighMask : 0);
        oa = (desc & oaMask) | (realm.Lpa2 ? ((desc & Lpa2OaHighMask) >> 8) << 50 : 0);
        return (desc & ~allowed) == 0 && (desc & MemAttrMask) != MemAttrReserved;
    }

    /// <summary>The host's view of an ASSIGNED_NS entry: OA in descriptor form, MemAttr and S2AP.</summary>
    private static ulong EncodeNsDescriptor(Realm realm, RttEntry entry)
    {
        ulong oa = entry.Address;
        ulong desc = oa & ((1UL << 50) - 1);
        if (realm.Lpa2)
        {
            desc |= ((oa >> 50) & 0x3) << 8;
        }

        return desc | entry.NsAttributes;
    }
}
