using CcaSim.Platform.Monitor;
using CcaSim.Rmm.Realms;
using CcaSim.Rmm.Rtt;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    /// <summary>
    /// RMI_RTT_UNMAP_UNPROTECTED (rd, ipa, level) (§3.18): rd_*, level_bound (1..3), ipa_align, ipa_bound
    /// (must be unprotected) → INPUT; walk short of level, or entry not ASSIGNED_NS → ERROR_RTT(level reached).
    /// x1 = top, on success and on ERROR_RTT.
    /// </summary>
    private ulong RmiRttUnmapUnprotected(in SmcRegisters a, ref SmcRegisters r)
    {
        ulong ipa = a[2];
        long level = Level(a[3]);
        Realm? realm = FindRealm(a[1]);
        if (realm is null || level < 1 || level > 3)
        {
            return ErrorInput;
        }

        int lvl = (int)level;
        if (!S2Geometry.IsAligned(ipa, lvl) || realm.IsProtected(ipa) || ipa >= realm.IpaSize)
        {
            return ErrorInput;
        }

        RttWalk walk = Walk(realm, ipa, lvl);
        if (walk.Level != lvl || walk.Entry.Hipas != Hipas.AssignedNs)
        {
            r[1] = NonLiveTop(walk, ipa);
            return ErrorRtt(walk.Level);
        }

        walk.Table.Set(walk.Index, RttEntry.UnassignedNs);
        NotifyStage2Changed(realm, ipa, S2Geometry.Span(lvl));
        r[1] = NonLiveTop(walk, ipa);
        return Success;
    }
}
