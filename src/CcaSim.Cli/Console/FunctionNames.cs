using System.Text;
using CcaSim.Rmm.Rmi;

namespace CcaSim.Cli.Console;

/// <summary>Spec names of SMC function ids accepted in scripts (<c>RMI_GRANULE_DELEGATE</c> …).</summary>
internal static class FunctionNames
{
    private static readonly Dictionary<string, uint> s_rmi = Build();
    private static readonly Dictionary<string, uint>.AlternateLookup<ReadOnlySpan<char>> s_rmiLookup = s_rmi.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>All RMI names, in function-id order.</summary>
    public static IEnumerable<string> RmiNames => s_rmi.OrderBy(kv => kv.Value).Select(kv => kv.Key);

    public static bool TryParseRmi(ReadOnlySpan<char> word, out uint fid) => s_rmiLookup.TryGetValue(word, out fid);

    /// <summary>RMI_GRANULE_DELEGATE for RmiFunctionId.RmiGranuleDelegate.</summary>
    public static string SpecName(RmiFunctionId id)
    {
        string name = id.ToString();
        var sb = new StringBuilder(name.Length + 8);
        for (int i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]))
            {
                sb.Append('_');
            }

            sb.Append(char.ToUpperInvariant(name[i]));
        }

        return sb.ToString();
    }

    private static Dictionary<string, uint> Build()
    {
        var d = new Dictionary<string, uint>(StringComparer.Ordinal);
        foreach (RmiFunctionId id in Enum.GetValues<RmiFunctionId>())
        {
            d[SpecName(id)] = (uint)id;
        }

        return d;
    }
}
