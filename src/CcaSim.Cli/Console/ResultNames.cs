using System.Globalization;
using System.Text;
using CcaSim.Rmm;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rsi;
using CcaSim.Rmm.Rtt;

namespace CcaSim.Cli.Console;

/// <summary>
/// Spec names for the numbers a transcript prints: RMI status with index (rmm-1.0.md §1), RSI status, PSCI
/// status (PSCI DEN0022 return codes), exit reasons (§4.3), and short decodes of success outputs (§2, §6, §7).
/// </summary>
internal static class ResultNames
{
    /// <summary>SMCCC "unknown function": every unrecognised FID returns -1 (rmm-1.0.md §1).</summary>
    public const ulong SmcUnknown = ulong.MaxValue;

    private static readonly Dictionary<ulong, string> s_rmiNames = Enum.GetValues<RmiFunctionId>().ToDictionary(id => (ulong)id, id => FunctionNames.SpecName(id));
    private static readonly Dictionary<ulong, string> s_rsiNames = Enum.GetValues<RsiFunctionId>().ToDictionary(id => (ulong)id, id => FunctionNames.SpecName(id));
    private static readonly Dictionary<ulong, string> s_psciNames = Enum.GetValues<PsciFunctionId>().ToDictionary(id => (ulong)id, id => FunctionNames.SpecName(id));

    /// <summary>The SVE hint (bit 16) is not part of the function number (rmm-1.0.md §1).</summary>
    private static ulong StripSveHint(ulong fid) => fid & ~(1UL << 16);

    public static string? RmiName(ulong fid) => s_rmiNames.GetValueOrDefault(StripSveHint(fid));

    /// <summary>A realm call's function number as the RMM decodes it: W0 without the SVE hint (Rsi/RealmCalls.cs).</summary>
    private static ulong RealmFunction(ulong x0) => StripSveHint((uint)x0);

    public static string? RealmCallName(ulong fid) =>
        s_rsiNames.GetValueOrDefault(RealmFunction(fid)) ?? s_psciNames.GetValueOrDefault(RealmFunction(fid));

    public static bool IsRsi(ulong fid) => s_rsiNames.ContainsKey(RealmFunction(fid));

    public static bool IsPsci(ulong fid) => s_psciNames.ContainsKey(RealmFunction(fid));

    /// <summary>RMI status of x0: SUCCESS, ERROR_INPUT, ..., ERROR_RTT(level); SMC_UNKNOWN for -1.</summary>
    public static string RmiStatusName(ulong fid, ulong x0)
    {
        if (x0 == SmcUnknown)
        {
            return "SMC_UNKNOWN";
        }

        if (x0 >> 16 != 0)
        {
            return $"0x{x0:x}";
        }

        RmiStatus status = RmiReturn.Status(x0);
        int index = RmiReturn.Index(x0);
        string name = status switch
        {
            RmiStatus.Success => "SUCCESS",
            RmiStatus.ErrorInput => "ERROR_INPUT",
            RmiStatus.ErrorRealm => "ERROR_REALM",
            RmiStatus.ErrorRec => "ERROR_REC",
            RmiStatus.ErrorRtt => "ERROR_RTT",
            _ => $"STATUS_{(byte)status}",
        };

        // The index means something for ERROR_RTT (a level) and ERROR_REALM from REC_ENTER (rmm-1.0.md §1).
        bool showIndex = index != 0 || status == RmiStatus.ErrorRtt
            || (status == RmiStatus.ErrorRealm && StripSveHint(fid) == (ulong)RmiFunctionId.RmiRecEnter);
        return showIndex ? $"{name}({index})" : name;
    }

    /// <summary>RSI status names (rmm-1.0.md §1); 1.0 packs no index.</summary>
    public static string RsiStatusName(ulong x0) => x0 switch
    {
        (ulong)RsiStatus.Success => "RSI_SUCCESS",
        (ulong)RsiStatus.ErrorInput => "RSI_ERROR_INPUT",
        (ulong)RsiStatus.ErrorState => "RSI_ERROR_STATE",
        (ulong)RsiStatus.Incomplete => "RSI_INCOMPLETE",
        (ulong)RsiStatus.ErrorUnknown => "RSI_ERROR_UNKNOWN",
        SmcUnknown => "SMC_UNKNOWN",
        _ => $"0x{x0:x}",
    };

    /// <summary>PSCI return codes (PSCI 1.1, DEN0022 §5.2.2), as the realm's x0 carries them.</summary>
    public static string PsciStatusName(ulong x0) => unchecked((long)x0) switch
    {
        0 => "SUCCESS",
        -1 => "NOT_SUPPORTED",
        -2 => "INVALID_PARAMETERS",
        -3 => "DENIED",
        -4 => "ALREADY_ON",
        -5 => "ON_PENDING",
        -6 => "INTERNAL_FAILURE",
        -7 => "NOT_PRESENT",
        -8 => "DISABLED",
        -9 => "INVALID_ADDRESS",
        _ => $"0x{x0:x}",
    };

    /// <summary>
    /// Whether a realm call's x0 is an error status: RSI statuses other than SUCCESS and INCOMPLETE (a token read
    /// in pieces is progress, §6), negative PSCI codes, and SMC_UNKNOWN. Version calls return a version, not a status.
    /// </summary>
    public static bool IsRealmError(ulong fid, ulong x0)
    {
        fid = RealmFunction(fid);
        if (IsRsi(fid))
        {
            return x0 is not ((ulong)RsiStatus.Success or (ulong)RsiStatus.Incomplete);
        }

        if (fid is (ulong)PsciFunctionId.PsciVersion or (ulong)PsciFunctionId.SmcccVersion)
        {
            return false;
        }

        return IsPsci(fid) ? unchecked((long)x0) < 0 : x0 == SmcUnknown;
    }

    /// <summary>The status a realm call's result carries, by the call's family; null for version calls.</summary>
    public static string? RealmStatusName(ulong fid, ulong x0)
    {
        fid = RealmFunction(fid);
        if (IsRsi(fid))
        {
            return RsiStatusName(x0);
        }

        if (fid is (ulong)PsciFunctionId.PsciVersion or (ulong)PsciFunctionId.SmcccVersion)
        {
            return null;
        }

        if (fid is (ulong)PsciFunctionId.PsciAffinityInfo or (ulong)PsciFunctionId.PsciAffinityInfo64 && x0 is 1 or 2)
        {
            return x0 == 1 ? "OFF" : "ON_PENDING";
        }

        if (IsPsci(fid))
        {
            return fid is (ulong)PsciFunctionId.PsciAffinityInfo or (ulong)PsciFunctionId.PsciAffinityInfo64 && x0 == 0 ? "ON" : PsciStatusName(x0);
        }

        return x0 == SmcUnknown ? "SMC_UNKNOWN" : null;
    }

    /// <summary>Exit reason names as RmiRecExitReason spells them (rmm-1.0.md §4.3).</summary>
    public static string ExitReasonName(ulong reason) => reason switch
    {
        (ulong)RecExitReason.Sync => "SYNC",
        (ulong)RecExitReason.Irq => "IRQ",
        (ulong)RecExitReason.Fiq => "FIQ",
        (ulong)RecExitReason.Psci => "PSCI",
        (ulong)RecExitReason.RipasChange => "RIPAS_CHANGE",
        (ulong)RecExitReason.HostCall => "HOST_CALL",
        (ulong)RecExitReason.SError => "SERROR",
        _ => $"reason {reason}",
    };

    public static string RipasName(ulong ripas) => ripas switch
    {
        (ulong)Ripas.Empty => "EMPTY",
        (ulong)Ripas.Ram => "RAM",
        (ulong)Ripas.Destroyed => "DESTROYED",
        _ => $"ripas {ripas}",
    };

    /// <summary>ESR_EL2 exception class names (Arm ARM D24.2.40, ESR_ELx.EC) for the classes a realm exit can carry.</summary>
    public static string EsrClass(ulong esr)
    {
        ulong ec = (esr >> 26) & 0x3F;
        string name = ec switch
        {
            0x00 => "UNKNOWN",
            0x01 => "WFx",
            0x07 => "FP_ASIMD",
            0x15 => "SVC64",
            0x16 => "HVC64",
            0x17 => "SMC64",
            0x18 => "SYS64",
            0x19 => "SVE",
            0x20 => "IABT_LOW",
            0x21 => "IABT_CUR",
            0x22 => "PC_ALIGN",
            0x24 => "DABT_LOW",
            0x25 => "DABT_CUR",
            0x26 => "SP_ALIGN",
            0x2F => "SERROR",
            _ => "EC",
        };
        return string.Create(CultureInfo.InvariantCulture, $"EC 0x{ec:x} {name} ISS 0x{esr & 0x1FF_FFFF:x}");
    }

    /// <summary>A version word (major &lt;&lt; 16 | minor) as major.minor (rmm-1.0.md §1).</summary>
    public static string Version(ulong v) => string.Create(CultureInfo.InvariantCulture, $"{v >> 16}.{v & 0xFFFF}");

    /// <summary>RMI_FEATURES index 0 as its fields (rmm-1.0.md §4.4).</summary>
    public static string Features(ulong value)
    {
        FeatureRegister0 f = FeatureRegister0.Unpack(value);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"S2SZ {f.S2sz}");
        sb.Append(f.Lpa2 ? " LPA2" : string.Empty);
        sb.Append(f.SveEnabled ? string.Create(CultureInfo.InvariantCulture, $" SVE VL {f.SveVl}") : string.Empty);
        sb.Append(CultureInfo.InvariantCulture, $" BPS {f.NumBps} WPS {f.NumWps}");
        sb.Append(f.PmuEnabled ? string.Create(CultureInfo.InvariantCulture, $" PMU {f.PmuNumCtrs}") : string.Empty);
        sb.Append(f.HashSha256 ? " SHA256" : string.Empty);
        sb.Append(f.HashSha512 ? " SHA512" : string.Empty);
        sb.Append(CultureInfo.InvariantCulture, $" LRS {f.Gicv3NumLrs} MAX_RECS_ORDER {f.MaxRecsOrder}");
        return sb.ToString();
    }

    /// <summary>RMI_RTT_READ_ENTRY's x1..x4: walk level, state, descriptor and RIPAS (rmm-1.0.md §3.19).</summary>
    public static string RttEntry(ulong level, ulong state, ulong desc, ulong ripas)
    {
        string where = string.Create(CultureInfo.InvariantCulture, $"L{unchecked((long)level)}");
        return state switch
        {
            (ulong)RmiRttEntryState.Unassigned => $"{where} UNASSIGNED {RipasName(ripas)}",
            (ulong)RmiRttEntryState.Assigned when (desc & 0xFFF) == 0 => $"{where} ASSIGNED {RipasName(ripas)} pa=0x{desc:x}",
            (ulong)RmiRttEntryState.Assigned => $"{where} ASSIGNED desc=0x{desc:x}",
            (ulong)RmiRttEntryState.Table => $"{where} TABLE rtt=0x{desc:x}",
            _ => $"{where} state {state}",
        };
    }
}
