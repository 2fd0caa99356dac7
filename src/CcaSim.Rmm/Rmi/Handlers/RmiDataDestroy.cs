using CcaSim.Platform.Monitor;
using CcaSim.Rmm.Granules;
using CcaSim.Rmm.Realms;
using CcaSim.Rmm.Rtt;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    /// <summary>
    /// RMI_DATA_DESTROY (§3.12): rd_* → INPUT; ipa_align/ipa_bound → INPUT; rtt_walk → ERROR_RTT(level reached);
    /// rtte_state (not ASSIGNED) → ERROR_RTT(3). x1 = data PA, x2 = top (also on ERROR_RTT).
    /// RIPAS after: RAM → DESTROYED, EMPTY → EMPTY, DESTROYED → DESTROYED.
    /// </summary>
    private ulong RmiDataDestroy(in SmcRegisters a, ref SmcRegisters r)
    {
        ulong ipa = a[2];
        Realm? realm = FindRealm(a[1]);
        if (realm is null)
        {
            return ErrorInput;
        }

        if (!S2Geometry.IsAligned(ipa, 3) || !realm.IsProtected(ipa))
        {
            return ErrorInput;
        }

        RttWalk walk = Walk(realm, ipa, 3);
        RttEntry entry = walk.Entry;
        if (walk.Level != 3 || entry.Hipas != Hipas.Assigned)
        {
            r[2] = NonLiveTop(walk, ipa);
            return ErrorRtt(walk.Level);
        }

        ulong data = entry.Address;
        Ripas after = entry.Ripas == Ripas.Empty ? Ripas.Empty : Ripas.Destroyed;
        walk.Table.Set(walk.Index, RttEntry.Unassigned(after));
        NotifyStage2Changed(realm, ipa, S2Geometry.Span(3));
        _memory.ZeroGranule(data);
        _granules.Transition(data, GranuleState.Data, GranuleState.Delegated);
        r[1] = data;
        r[2] = NonLiveTop(walk, ipa);
        return Success;
    }
}
