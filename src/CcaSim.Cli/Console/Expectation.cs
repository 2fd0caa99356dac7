namespace CcaSim.Cli.Console;

/// <summary>
/// The expected result a script line may carry after <c>=&gt;</c>: either the printed line's first words
/// (<c>=&gt; R 104</c>, <c>=&gt; V 5</c>, <c>=&gt; E gpf</c>; a prefix match, <c>*</c> matches any word) or a status name
/// (<c>=&gt; ERROR_RTT</c>, <c>=&gt; ERROR_RTT(1)</c>, <c>=&gt; RSI_ERROR_STATE</c>, <c>=&gt; DENIED</c>).
/// </summary>
internal sealed class Expectation
{
    /// <summary>The paragraph <c>ccasim rmm --help</c> shows for expectations, --explain and --strict.</summary>
    public const string HelpText =
        """
        Expected results: end a line with '=> WORDS' to state what it must print. WORDS are either the first
        words of the result line ('=> R 104', '=> V 5', '=> E gpf'; hex as printed, or 0x/gN values; '*' matches
        any word) or a status name ('=> ERROR_RTT', '=> ERROR_RTT(1)', '=> RSI_ERROR_STATE', '=> DENIED'; the
        RMI_/RSI_/PSCI_ prefix is optional, and a name without an index matches any index). An rsi line's
        expectation applies to the RSI line its call prints when it completes. A '#' after '=>' starts a comment.
        A result that does not match prints 'E expect LINE WORDS' after it (LINE is the script line number).
        --explain: annotate every result line with names: status and decoded outputs of R and RSI lines, fields
        of a REC run structure read with r64 (exit reason, esr class).
        --strict: exit 1 if any line printed an E line, or an smc or rsi result carried an error status its line
        did not expect (RSI_INCOMPLETE is not an error); the first offending script line is named on stderr.
        """;

    private readonly string[] _words;

    private Expectation(string text, string[] words)
    {
        Text = text;
        _words = words;
    }

    /// <summary>The expectation as written (after <c>=&gt;</c>, trimmed, without comment).</summary>
    public string Text { get; }

    /// <summary>
    /// Splits a trimmed script line at the first <c>=&gt;</c> that comes before any <c>#</c>: returns the command
    /// part (trimmed) and the expectation, or the line unchanged and null. An empty expectation is none.
    /// </summary>
    public static ReadOnlySpan<char> Split(ReadOnlySpan<char> line, out Expectation? expectation)
    {
        expectation = null;
        int arrow = line.IndexOf("=>", StringComparison.Ordinal);
        int hash = line.IndexOf('#');
        if (arrow < 0 || (hash >= 0 && hash < arrow))
        {
            return line;
        }

        ReadOnlySpan<char> rest = line[(arrow + 2)..];
        int comment = rest.IndexOf('#');
        if (comment >= 0)
        {
            rest = rest[..comment];
        }

        rest = rest.Trim();
        if (!rest.IsEmpty)
        {
            string text = rest.ToString();
            expectation = new Expectation(text, text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        }

        return line[..arrow].TrimEnd();
    }

    /// <summary>
    /// Whether a printed result line matches. <paramref name="status"/> is the line's status name as
    /// <see cref="ResultNames"/> spells it (null when the line carries none).
    /// </summary>
    public bool Matches(ReadOnlySpan<char> printed, string? status, ulong poolBase)
    {
        if (_words[0] is "R" or "RSI" or "V" or "D" or "B" or "E")
        {
            return MatchesWords(printed, poolBase);
        }

        return _words.Length == 1 && status is not null && MatchesStatus(_words[0], status);
    }

    private bool MatchesWords(ReadOnlySpan<char> printed, ulong poolBase)
    {
        int i = 0;
        foreach (Range r in printed.Split(' '))
        {
            if (i == _words.Length)
            {
                return true;
            }

            ReadOnlySpan<char> word = printed[r];
            if (word.IsEmpty)
            {
                continue;
            }

            if (!WordMatches(_words[i], word, poolBase))
            {
                return false;
            }

            i++;
        }

        return i == _words.Length;
    }

    private static bool WordMatches(string expected, ReadOnlySpan<char> printed, ulong poolBase)
    {
        if (expected == "*" || printed.Equals(expected, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        // Values written as a script writes them (0x…, gN+OFF, realm_pc) compare as numbers with the printed hex.
        bool scriptValue = expected.StartsWith("0x", StringComparison.OrdinalIgnoreCase) || expected == "realm_pc"
            || (expected.Length > 1 && expected[0] == 'g' && char.IsAsciiDigit(expected[1]));
        return scriptValue
            && ScriptValues.TryParseValue(expected, poolBase, out ulong want)
            && ulong.TryParse(printed, System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out ulong got)
            && want == got;
    }

    private static bool MatchesStatus(string expected, string status)
    {
        ReadOnlySpan<char> want = WithoutPrefix(expected);
        ReadOnlySpan<char> got = WithoutPrefix(status);
        if (want.Equals(got, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        // A name without an index matches the status at any index: ERROR_RTT matches ERROR_RTT(2).
        int paren = got.IndexOf('(');
        return want.IndexOf('(') < 0 && paren > 0 && want.Equals(got[..paren], StringComparison.OrdinalIgnoreCase);
    }

    private static ReadOnlySpan<char> WithoutPrefix(string name)
    {
        foreach (string prefix in (ReadOnlySpan<string>)["RMI_", "RSI_", "PSCI_"])
        {
            if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return name.AsSpan(prefix.Length);
            }
        }

        return name;
    }
}
