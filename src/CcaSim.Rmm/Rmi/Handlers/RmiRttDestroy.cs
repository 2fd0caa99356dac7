using CcaSim.Platform.Monitor;
using CcaSim.Rmm.Granules;
using CcaSim.Rmm.Realms;
using CcaSim.Rmm.Rtt;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    /// <summary>
    /// RMI_RTT_DESTROY (rd, ipa, level) (§3.15): the shared checks, then rtt_live (the child has a live entry,
    /// ASSIGNED_NS included, as the spec defines live) → ERROR_RTT(level). x1 = RTT PA, x2 = top (also on ERROR_RTT).
    /// The parent becomes UNASSIGNED DESTROYED (protected) or UNASSIGNED_NS, whatever the table held.
    /// </summary>
    private ulong RmiRttDestroy(in SmcRegisters a, ref SmcRegisters r)
    {
        ulong ipa = a[2];
        ulong status = FindChildTable(in a, out Realm? realm, out RttWalk walk, out RttTable? child);
        if (realm is null || walk.Table is null)
        {
            return status;
        }

        if (child is null)
        {
            r[2] = NonLiveTop(walk, ipa);
            return status;
        }

        if (child.LiveCount != 0)
        {
            r[2] = NonLiveTop(walk, ipa);
            return ErrorRtt(child.Level);
        }

        walk.Table.Set(walk.Index, realm.IsProtected(ipa) ? RttEntry.Unassigned(Ripas.Destroyed) : RttEntry.UnassignedNs);

        // The table may still have held ASSIGNED_NS pages (§12: TF-RMM does not count them as live).
        NotifyStage2Changed(realm, child.BaseIpa, child.EndIpa - child.BaseIpa);
        _memory.ZeroGranule(child.Pa);
        _granules.Transition(child.Pa, GranuleState.Rtt, GranuleState.Delegated);
        r[1] = child.Pa;
        r[2] = NonLiveTop(walk, ipa);
        return Success;
    }
}
