using CcaSim.Platform.Monitor;
using CcaSim.Rmm.Granules;
using CcaSim.Rmm.Realms;
using CcaSim.Rmm.Rtt;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    /// <summary>
    /// RMI_RTT_FOLD (rd, ipa, level) (§3.16): the shared checks, then rtte_homo (child not homogeneous) →
    /// ERROR_RTT(level). An ASSIGNED fold of a level-1 table (a level-0 block) → ERROR_RTT(level − 1).
    /// x1 = the folded RTT's PA.
    /// </summary>
    private ulong RmiRttFold(in SmcRegisters a, ref SmcRegisters r)
    {
        ulong status = FindChildTable(in a, out Realm? realm, out RttWalk walk, out RttTable? child);
        if (child is null || realm is null)
        {
            return status;
        }

        RttEntry? folded = Fold(child);
        if (folded is null)
        {
            return ErrorRtt(child.Level);
        }

        // Blocks exist only at levels 1 and 2 (§10).
        if (folded.Value.Hipas is Hipas.Assigned or Hipas.AssignedNs && child.Level - 1 < 1)
        {
            return ErrorRtt(child.Level - 1);
        }

        // A fold keeps every translation (same output addresses, same RIPAS): no Stage2Changed.
        walk.Table.Set(walk.Index, folded.Value);
        _memory.ZeroGranule(child.Pa);
        _granules.Transition(child.Pa, GranuleState.Rtt, GranuleState.Delegated);
        r[1] = child.Pa;
        return Success;
    }

    /// <summary>The parent entry a homogeneous table folds into, or null if it is not homogeneous.</summary>
    private static RttEntry? Fold(RttTable child)
    {
        RttEntry first = child[0];
        ulong span = S2Geometry.Span(child.Level);
        switch (first.Hipas)
        {
            case Hipas.Unassigned:
            case Hipas.UnassignedNs:
                for (int i = 1; i < S2Geometry.EntriesPerTable; i++)
                {
                    if (child[i] != first)
                    {
                        return null;
                    }
                }

                return first;
            case Hipas.Assigned:
            case Hipas.AssignedNs:
                if (!S2Geometry.IsAligned(first.Address, child.Level - 1))
                {
                    return null;
                }

                for (int i = 1; i < S2Geometry.EntriesPerTable; i++)
                {
                    if (child[i] != first.WithAddress(first.Address + ((ulong)i * span)))
                    {
                        return null;
                    }
                }

                return first;
            default:
                return null;
        }
    }
}
