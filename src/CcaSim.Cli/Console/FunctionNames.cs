using System.Text;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rsi;

namespace CcaSim.Cli.Console;

/// <summary>Spec names of SMC function ids accepted in scripts (<c>RMI_GRANULE_DELEGATE</c> …).</summary>
internal static class FunctionNames
{
    private static readonly Dictionary<string, uint> s_rmi = Build<RmiFunctionId>();
    private static readonly Dictionary<string, uint>.AlternateLookup<ReadOnlySpan<char>> s_rmiLookup = s_rmi.GetAlternateLookup<ReadOnlySpan<char>>();
    private static readonly Dictionary<string, uint> s_realm = Build<RsiFunctionId>().Concat(Build<PsciFunctionId>()).ToDictionary(StringComparer.Ordinal);
    private static readonly Dictionary<string, uint>.AlternateLookup<ReadOnlySpan<char>> s_realmLookup = s_realm.GetAlternateLookup<ReadOnlySpan<char>>();

    private static readonly Dictionary<uint, string> s_names = s_rmi.Concat(s_realm).GroupBy(kv => kv.Value).ToDictionary(g => g.Key, g => g.OrderBy(kv => kv.Key, StringComparer.Ordinal).First().Key);

    /// <summary>The spec name of an RMI, RSI or PSCI/SMCCC function id (SVE hint bit 16 ignored), or its hex value.</summary>
    public static string NameOf(ulong fid)
    {
        uint id = (uint)fid & ~(1u << 16);
        return fid >> 32 == 0 && s_names.TryGetValue(id, out string? name) ? name : "0x" + fid.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>All RMI names, in function-id order.</summary>
    public static IEnumerable<string> RmiNames => s_rmi.OrderBy(kv => kv.Value).Select(kv => kv.Key);

    public static bool TryParseRmi(ReadOnlySpan<char> word, out uint fid) => s_rmiLookup.TryGetValue(word, out fid);

    /// <summary>Realm-side names: RSI_*, PSCI_* (64-bit variants end in _64) and SMCCC_VERSION.</summary>
    public static bool TryParseRealm(ReadOnlySpan<char> word, out uint fid) => s_realmLookup.TryGetValue(word, out fid);

    /// <summary>RMI_GRANULE_DELEGATE for RmiFunctionId.RmiGranuleDelegate; PSCI_CPU_ON_64 for PsciCpuOn64.</summary>
    public static string SpecName<T>(T id)
        where T : struct, Enum
    {
        string name = id.ToString();
        var sb = new StringBuilder(name.Length + 8);
        for (int i = 0; i < name.Length; i++)
        {
            if (i > 0 && (char.IsUpper(name[i]) || (char.IsDigit(name[i]) && !char.IsDigit(name[i - 1]))))
            {
                sb.Append('_');
            }

            sb.Append(char.ToUpperInvariant(name[i]));
        }

        return sb.ToString();
    }

    private static Dictionary<string, uint> Build<T>()
        where T : struct, Enum
    {
        var d = new Dictionary<string, uint>(StringComparer.Ordinal);
        foreach (T id in Enum.GetValues<T>())
        {
            d[SpecName(id)] = Convert.ToUInt32(id, System.Globalization.CultureInfo.InvariantCulture);
        }

        return d;
    }
}
