using CcaSim.Rmm.Realms;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    /// <summary>
    /// Tells the engine that pages of <paramref name="realm"/> in [<paramref name="ipa"/>, +<paramref name="size"/>)
    /// may no longer translate as before (unmapped, or their kind changed), so it drops any direct mapping of them
    /// (the seam's Stage2Changed). Only transitions away from a mapped page need it: an engine maps pages lazily on
    /// its own faults, so a page that becomes mapped (DATA_CREATE, RTT_MAP_UNPROTECTED) is found on the next access,
    /// and RTT_CREATE/RTT_FOLD rearrange tables without changing any translation. A realm whose stage 2 no engine
    /// has seen yet has nothing to forget.
    /// </summary>
    private void NotifyStage2Changed(Realm realm, ulong ipa, ulong size)
    {
        if (realm.Stage2 is { } stage2)
        {
            Engine.Stage2Changed(stage2, ipa, size);
        }
    }
}
