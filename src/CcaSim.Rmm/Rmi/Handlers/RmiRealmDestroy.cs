using CcaSim.Platform.Monitor;
using CcaSim.Rmm.Granules;
using CcaSim.Rmm.Realms;
using CcaSim.Rmm.Rtt;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    /// <summary>
    /// RMI_REALM_DESTROY (§3.6): rd_* → ERROR_INPUT; realm_live (a REC exists, or a root RTT has a live
    /// entry) → ERROR_REALM. Scrubs roots and RD back to DELEGATED and frees the VMID.
    /// </summary>
    private ulong RmiRealmDestroy(in SmcRegisters a)
    {
        ulong rd = a[1];
        Realm? realm = FindRealm(rd);
        if (realm is null)
        {
            return ErrorInput;
        }

        if (realm.LiveRecs != 0 || Array.Exists(realm.Roots, t => t.LiveCount != 0))
        {
            return ErrorRealm();
        }

        foreach (RttTable root in realm.Roots)
        {
            _memory.ZeroGranule(root.Pa);
            _granules.Transition(root.Pa, GranuleState.Rtt, GranuleState.Delegated);
        }

        if (realm.Stage2 is { } stage2)
        {
            Engine.Release(stage2);
            realm.Stage2 = null;
        }

        _vmidInUse[realm.Vmid] = false;
        _vmidsAllocated--;
        _memory.ZeroGranule(rd);
        _granules.Transition(rd, GranuleState.Rd, GranuleState.Delegated);
        return Success;
    }
}
