using CcaSim.Platform.Monitor;
using CcaSim.Rmm.Realms;
using CcaSim.Rmm.Recs;
using CcaSim.Rmm.Rtt;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    /// <summary>
    /// RMI_RTT_SET_RIPAS (rd, rec, base, top) (§3.21). Order: size_valid → INPUT (TF-RMM checks it before looking
    /// up the RD and REC; the spec leaves it unordered against rd_*, rec_* and rec_owner); rd_*, rec_* → INPUT;
    /// REC running, rec_owner → ERROR_REC; base_bound (≠ the request's next address), top_bound (past the
    /// request's top) → INPUT; base_align → ERROR_RTT(level); top_gran_align → INPUT; no_progress →
    /// ERROR_RTT(level). Applies the pending request within one table; not measured.
    /// </summary>
    private ulong RmiRttSetRipas(in SmcRegisters a, ref SmcRegisters r)
    {
        ulong baseIpa = a[3];
        ulong top = a[4];
        if (top <= baseIpa)
        {
            return ErrorInput;
        }

        Realm? realm = FindRealm(a[1]);
        Rec? rec = FindRec(a[2]);
        if (realm is null || rec is null)
        {
            return ErrorInput;
        }

        if (rec.State == RecState.Running || rec.Realm != realm)
        {
            return ErrorRec;
        }

        RipasChangeRequest? request = rec.PendingRipas;
        if (request is null || baseIpa != request.Next || top > request.Top)
        {
            return ErrorInput;
        }

        RttWalk walk = Walk(realm, baseIpa, 3);
        if (!S2Geometry.IsAligned(baseIpa, walk.Level))
        {
            return ErrorRtt(walk.Level);
        }

        if (top % S2Geometry.Span(3) != 0)
        {
            return ErrorInput;
        }

        ulong addr = ApplyRipas(realm, walk, baseIpa, top, request);
        if (addr == baseIpa)
        {
            return ErrorRtt(walk.Level);
        }

        // Assigned pages changed between RAM (mapped) and EMPTY (an SEA), or became DESTROYED (a host fault).
        NotifyStage2Changed(realm, baseIpa, addr - baseIpa);
        request.Next = addr;
        r[1] = addr;
        return Success;
    }

    /// <summary>The entry after applying the request, or null where processing must stop (§3.21).</summary>
    private static RttEntry? ChangeRipas(RttEntry e, RipasChangeRequest request)
    {
        if (e.Hipas is not (Hipas.Unassigned or Hipas.Assigned))
        {
            return null;
        }

        if (e.Ripas == request.Value)
        {
            return e;
        }

        if (e.Ripas == Ripas.Destroyed && !request.ChangeDestroyed)
        {
            return null;
        }

        return e.Hipas == Hipas.Assigned ? RttEntry.Assigned(request.Value, e.Address) : RttEntry.Unassigned(request.Value);
    }
}
