using System.Globalization;

namespace CcaSim.Cli.Console;

/// <summary>
/// Script text echoed in an <c>E</c> line, made visible: control characters (a CR rewrites the terminal line, ESC
/// starts an escape sequence) and invisible format or separator characters (a zero-width space or a BOM makes
/// <c>E unknown base</c> look like a valid command) are written as <c>\xNN</c> or <c>\uNNNN</c>.
/// </summary>
internal static class Printable
{
    public static bool NeedsEscape(char c) =>
        char.IsControl(c) || char.GetUnicodeCategory(c) is UnicodeCategory.Format or UnicodeCategory.LineSeparator
            or UnicodeCategory.ParagraphSeparator or UnicodeCategory.Surrogate;

    public static void Write(TextWriter output, ReadOnlySpan<char> text)
    {
        while (!text.IsEmpty)
        {
            int plain = 0;
            while (plain < text.Length && !NeedsEscape(text[plain]))
            {
                plain++;
            }

            output.Write(text[..plain]);
            if (plain == text.Length)
            {
                return;
            }

            char c = text[plain];
            output.Write(c < 0x100 ? string.Create(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}") : string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"));
            text = text[(plain + 1)..];
        }
    }

    public static string Of(string text)
    {
        if (!text.Any(NeedsEscape))
        {
            return text;
        }

        var w = new StringWriter(CultureInfo.InvariantCulture);
        Write(w, text);
        return w.ToString();
    }
}
