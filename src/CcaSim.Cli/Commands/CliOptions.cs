using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace CcaSim.Cli.Commands;

/// <summary>
/// Options whose bad values are reported as one line naming the option and the value (System.CommandLine's own
/// message names a CLR type), and boolean options that always take their value, so <c>--lpa2 0</c> never leaves
/// <c>0</c> behind as a positional argument.
/// </summary>
internal static class CliOptions
{
    public static Option<int?> Int(string name, string description) =>
        new(name) { Description = description, Arity = ArgumentArity.ExactlyOne, CustomParser = r => ParseInt(r) };

    public static Option<int> Int(string name, string description, int defaultValue) =>
        new(name) { Description = description, Arity = ArgumentArity.ExactlyOne, DefaultValueFactory = _ => defaultValue, CustomParser = r => ParseInt(r) ?? defaultValue };

    /// <summary>A switch that needs its value: true/false, 1/0, yes/no or on/off.</summary>
    public static Option<Toggle?> Bool(string name, string description) =>
        new(name) { Description = description + " (true|false)", Arity = ArgumentArity.ExactlyOne, CustomParser = r => ParseBool(r) };

    private static int? ParseInt(ArgumentResult r)
    {
        string value = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
        bool ok = value.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? int.TryParse(value.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int parsed) && value.Length > 2
            : int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out parsed);
        if (ok)
        {
            return parsed;
        }

        // A number too large for the option is named as such, not as "not a number".
        bool numeric = value.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? value.Length > 2 && value.Skip(2).All(char.IsAsciiHexDigit)
            : value.Length > (value.StartsWith('-') ? 1 : 0) && value.Skip(value.StartsWith('-') ? 1 : 0).All(char.IsAsciiDigit);
        r.AddError(numeric ? $"{NameOf(r)} '{value}' is out of range" : $"{NameOf(r)} '{value}' is not a number");
        return null;
    }

    private static Toggle? ParseBool(ArgumentResult r)
    {
        string value = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
        switch (value.ToLowerInvariant())
        {
            case "true" or "1" or "yes" or "on":
                return new Toggle(true);
            case "false" or "0" or "no" or "off":
                return new Toggle(false);
            default:
                r.AddError($"{NameOf(r)} '{value}' is not true or false");
                return null;
        }
    }

    private static string NameOf(ArgumentResult r) => r.Parent is OptionResult o ? o.Option.Name : r.Argument.Name;
}

/// <summary>
/// A boolean option value. Not <see cref="bool"/> itself: System.CommandLine lets a bool option take its value
/// only when the next word parses as one, so <c>--lpa2 0</c> would leave <c>0</c> to the script argument.
/// </summary>
internal readonly record struct Toggle(bool Value)
{
    public static implicit operator bool(Toggle toggle) => toggle.Value;

    public bool ToBoolean() => Value;
}
