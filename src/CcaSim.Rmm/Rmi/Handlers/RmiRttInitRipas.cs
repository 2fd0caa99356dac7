using CcaSim.Platform.Monitor;
using CcaSim.Rmm.Measurement;
using CcaSim.Rmm.Realms;
using CcaSim.Rmm.Recs;
using CcaSim.Rmm.Rtt;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    /// <summary>
    /// RMI_RTT_INIT_RIPAS (rd, base, top) (§3.20). Order: rd_*, size_valid, top_bound → INPUT; top_gran_align →
    /// INPUT (TF-RMM checks top's alignment with the other address checks, before the realm state; the spec orders
    /// it only before no_progress); realm_state → ERROR_REALM; base_align → ERROR_RTT(level), also for a base
    /// that is not 4 KiB aligned (TF-RMM answers ERROR_INPUT there, the spec orders realm_state before base_align
    /// and defines base_align by the walk level); rtte_state (first entry ASSIGNED) → ERROR_RTT(level);
    /// no_progress → ERROR_RTT(level).
    /// Within the one table the walk reaches, every UNASSIGNED EMPTY/RAM entry that fits below top becomes RAM
    /// and extends the RIM with one descriptor for exactly its span. x1 = where processing stopped.
    /// </summary>
    private ulong RmiRttInitRipas(in SmcRegisters a, ref SmcRegisters r)
    {
        ulong baseIpa = a[2];
        ulong top = a[3];
        Realm? realm = FindRealm(a[1]);
        if (realm is null || top <= baseIpa || top > realm.ParEnd || top % S2Geometry.Span(3) != 0)
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

        ulong addr = ApplyRipas(realm, walk, baseIpa, top, request: null);
        if (addr == baseIpa)
        {
            return ErrorRtt(walk.Level);
        }

        r[1] = addr;
        return Success;
    }

    /// <summary>
    /// Walks consecutive entries of the one table the walk reached, from <paramref name="baseIpa"/> while each
    /// entry fits below <paramref name="top"/>, and returns the first address not processed. A null
    /// <paramref name="request"/> is RTT_INIT_RIPAS (§3.20: UNASSIGNED EMPTY/RAM → RAM, one RIM descriptor per
    /// entry, already-RAM entries included); otherwise RTT_SET_RIPAS (§3.21, not measured).
    /// </summary>
    private static ulong ApplyRipas(Realm realm, in RttWalk walk, ulong baseIpa, ulong top, RipasChangeRequest? request)
    {
        ulong span = S2Geometry.Span(walk.Level);
        ulong addr = baseIpa;
        for (int i = walk.Index; i < S2Geometry.EntriesPerTable && addr + span <= top; i++, addr += span)
        {
            RttEntry e = walk.Table[i];
            RttEntry? changed = request is not null ? ChangeRipas(e, request)
                : e.Hipas == Hipas.Unassigned && e.Ripas != Ripas.Destroyed ? RttEntry.Unassigned(Ripas.Ram)
                : null;
            if (changed is null)
            {
                break;
            }

            walk.Table.Set(i, changed.Value);
            if (request is null)
            {
                Measurements.ExtendRipas(realm.HashAlgorithm, realm.Measurements[0], addr, addr + span);
            }
        }

        return addr;
    }
}
