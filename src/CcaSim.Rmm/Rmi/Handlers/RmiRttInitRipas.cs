using CcaSim.Platform.Monitor;
using CcaSim.Rmm.Measurement;
using CcaSim.Rmm.Realms;
using CcaSim.Rmm.Rtt;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    /// <summary>
    /// RMI_RTT_INIT_RIPAS (rd, base, top) (§3.20), ACS order: rd_* → INPUT; size_valid → INPUT; top_bound →
    /// INPUT; realm_state → ERROR_REALM; base_align → ERROR_RTT(level); rtte_state (first entry ASSIGNED) →
    /// ERROR_RTT(level); top_gran_align → INPUT; no_progress → ERROR_RTT(level).
    /// Within the one table the walk reaches, every UNASSIGNED EMPTY/RAM entry that fits below top becomes RAM
    /// and extends the RIM with one descriptor for exactly its span. x1 = where processing stopped.
    /// </summary>
    private ulong RmiRttInitRipas(in SmcRegisters a, ref SmcRegisters r)
    {
        ulong baseIpa = a[2];
        ulong top = a[3];
        Realm? realm = FindRealm(a[1]);
        if (realm is null || top <= baseIpa || top > realm.ParEnd)
        {
            return ErrorInput;
        }

        if (realm.State != RealmState.New)
        {
            return ErrorRealm();
        }

        RttWalk walk = Walk(realm, baseIpa, 3);
        if (!S2Geometry.IsAligned(baseIpa, walk.Level) || walk.Entry.Hipas == Hipas.Assigned)
        {
            return ErrorRtt(walk.Level);
        }

        if (top % S2Geometry.Span(3) != 0)
        {
            return ErrorInput;
        }

        ulong span = S2Geometry.Span(walk.Level);
        ulong addr = baseIpa;
        for (int i = walk.Index; i < S2Geometry.EntriesPerTable && addr + span <= top; i++, addr += span)
        {
            RttEntry e = walk.Table[i];
            if (e.Hipas != Hipas.Unassigned || e.Ripas == Ripas.Destroyed)
            {
                break;
            }

            walk.Table.Set(i, RttEntry.Unassigned(Ripas.Ram));
            Measurements.ExtendRipas(realm.HashAlgorithm, realm.Measurements[0], addr, addr + span);
        }

        if (addr == baseIpa)
        {
            return ErrorRtt(walk.Level);
        }

        r[1] = addr;
        return Success;
    }
}
