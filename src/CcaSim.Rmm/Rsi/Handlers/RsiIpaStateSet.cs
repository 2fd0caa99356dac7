using CcaSim.Rmm.Recs;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rsi;
using CcaSim.Rmm.Rtt;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    private const ulong RsiRipasResponseReject = 1;
    private const ulong RsiChangeDestroyed = 1;

    /// <summary>
    /// RSI_IPA_STATE_SET (base, top, ripas, flags) (§6, §5.5), errors in ACS order: base_align, top_align,
    /// size_valid, rgn_bound, ripas_valid → ERROR_INPUT. Otherwise the request is recorded in the REC and the REC
    /// exits with RIPAS_CHANGE; the host applies it with RMI_RTT_SET_RIPAS and the call completes on the next entry.
    /// </summary>
    private static bool RsiIpaStateSet(Rec rec)
    {
        ulong[] x = rec.Context.X;
        ulong baseIpa = x[1];
        ulong top = x[2];
        ulong ripas = x[3];
        if (baseIpa % S2Geometry.Span(3) != 0 || top % S2Geometry.Span(3) != 0 || top <= baseIpa || top > rec.Realm.ParEnd
            || ripas > (ulong)Ripas.Ram)
        {
            return Fail(rec);
        }

        // RsiRipasChangeFlags: CHANGE_DESTROYED is bit 0; the other bits are reserved (§5.5). TF-RMM rel0 compares
        // the whole register with 1, so reserved bits would turn it off there; the spec wins.
        rec.PendingRipas = new RipasChangeRequest
        {
            Base = baseIpa,
            Top = top,
            Next = baseIpa,
            Value = (Ripas)ripas,
            ChangeDestroyed = (x[4] & RsiChangeDestroyed) != 0,
        };
        rec.Exit.Reset(RecExitReason.RipasChange);
        rec.Exit.RipasBase = baseIpa;
        rec.Exit.RipasTop = top;
        rec.Exit.RipasValue = (byte)ripas;
        return true;
    }

    /// <summary>
    /// Entry step 4 (§3.10, §5.5): the realm's IPA_STATE_SET returns x1 = first address not changed and x2 =
    /// REJECT only if the host rejected, the request was for RAM and did not reach its top; then the request ends.
    /// </summary>
    private static void CompleteRipasChange(Rec rec, ulong enterFlags)
    {
        RipasChangeRequest? request = rec.PendingRipas;
        if (request is null)
        {
            return;
        }

        bool reject = (enterFlags & RecRunLayout.EnterFlagRipasResponse) != 0 && request.Value == Ripas.Ram && request.Next != request.Top;
        Complete(rec, RsiStatus.Success, request.Next, reject ? RsiRipasResponseReject : 0);
        rec.PendingRipas = null;
    }
}
