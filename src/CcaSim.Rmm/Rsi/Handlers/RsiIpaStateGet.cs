using CcaSim.Rmm.Recs;
using CcaSim.Rmm.Rsi;
using CcaSim.Rmm.Rtt;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    /// <summary>
    /// RSI_IPA_STATE_GET (base, top) (§6), errors in ACS order: base_align, end_align, size_valid, rgn_bound →
    /// ERROR_INPUT. Scans the one last-level table reached at base (as TF-RMM does) while entries have the RIPAS
    /// of the first: x1 = min(top, end of that run), x2 = the RIPAS.
    /// </summary>
    private bool RsiIpaStateGet(Rec rec)
    {
        ulong baseIpa = rec.Context.X[1];
        ulong top = rec.Context.X[2];
        Realms.Realm realm = rec.Realm;
        if (baseIpa % S2Geometry.Span(3) != 0 || top % S2Geometry.Span(3) != 0 || top <= baseIpa || top > realm.ParEnd)
        {
            return Fail(rec);
        }

        RttWalk walk = Walk(realm, baseIpa, 3);
        Ripas ripas = walk.Entry.Ripas;
        int i = walk.Index + 1;
        while (i < S2Geometry.EntriesPerTable && walk.Table.EntryIpa(i) < top && walk.Table[i].Ripas == ripas
            && walk.Table[i].Hipas is Hipas.Assigned or Hipas.Unassigned)
        {
            i++;
        }

        return Complete(rec, RsiStatus.Success, Math.Min(top, walk.Table.EntryIpa(i)), (ulong)ripas);
    }
}
