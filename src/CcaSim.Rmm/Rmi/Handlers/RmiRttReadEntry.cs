using CcaSim.Platform.Monitor;
using CcaSim.Rmm.Realms;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rtt;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    /// <summary>
    /// RMI_RTT_READ_ENTRY (rd, ipa, level) (§3.19): rd_*, level_bound (start..3), ipa_align, ipa_bound → INPUT.
    /// Never fails on the walk. x1 = level reached, x2 = state, x3 = desc, x4 = RIPAS.
    /// ASSIGNED DESTROYED reports its PA, as the spec says (TF-RMM rel0 reported 0; FIDELITY.md).
    /// </summary>
    private ulong RmiRttReadEntry(in SmcRegisters a, ref SmcRegisters r)
    {
        ulong ipa = a[2];
        long level = Level(a[3]);
        Realm? realm = FindRealm(a[1]);
        if (realm is null)
        {
            return ErrorInput;
        }

        if (level < realm.StartLevel || level > 3 || !S2Geometry.IsAligned(ipa, (int)level) || ipa >= realm.IpaSize)
        {
            return ErrorInput;
        }

        RttWalk walk = Walk(realm, ipa, (int)level);
        RttEntry e = walk.Entry;
        r[1] = (ulong)(long)walk.Level;
        (RmiRttEntryState state, ulong desc, Ripas ripas) = e.Hipas switch
        {
            Hipas.Unassigned => (RmiRttEntryState.Unassigned, 0UL, e.Ripas),
            Hipas.Assigned => (RmiRttEntryState.Assigned, e.Address, e.Ripas),
            Hipas.UnassignedNs => (RmiRttEntryState.Unassigned, 0UL, Ripas.Empty),
            Hipas.AssignedNs => (RmiRttEntryState.Assigned, EncodeNsDescriptor(realm, e), Ripas.Empty),
            _ => (RmiRttEntryState.Table, e.Address, Ripas.Empty),
        };
        r[2] = (ulong)state;
        r[3] = desc;
        r[4] = (ulong)ripas;
        return Success;
    }
}
