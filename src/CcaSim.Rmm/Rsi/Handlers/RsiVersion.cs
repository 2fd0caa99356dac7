using CcaSim.Rmm.Recs;
using CcaSim.Rmm.Rsi;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    /// <summary>The RSI ABI version this RMM implements: 1.0.</summary>
    public const ulong RsiAbiVersion = 0x1_0000;

    /// <summary>RSI_VERSION (§6): SUCCESS only for 1.0; x1 = lower, x2 = higher implemented revision.</summary>
    private static bool RsiVersion(Rec rec) =>
        Complete(rec, rec.Context.X[1] == RsiAbiVersion ? RsiStatus.Success : RsiStatus.ErrorInput, RsiAbiVersion, RsiAbiVersion);

    /// <summary>RSI_FEATURES (§6): no optional features in 1.0, every index reads as zero.</summary>
    private static bool RsiFeatures(Rec rec) => Complete(rec, RsiStatus.Success, 0);
}
