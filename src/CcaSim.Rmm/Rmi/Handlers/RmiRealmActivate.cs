using CcaSim.Platform.Monitor;
using CcaSim.Rmm.Realms;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    /// <summary>RMI_REALM_ACTIVATE (§3.5): rd_* → ERROR_INPUT; realm_state (not NEW) → ERROR_REALM.</summary>
    private ulong RmiRealmActivate(in SmcRegisters a)
    {
        Realm? realm = FindRealm(a[1]);
        if (realm is null)
        {
            return ErrorInput;
        }

        if (realm.State != RealmState.New)
        {
            return ErrorRealm();
        }

        realm.TransitionTo(RealmState.Active);
        return Success;
    }
}
