using System.Globalization;
using System.Text;

namespace ModelShrink.Onnx.Diagnostics;

/// <summary>
/// Makes text from a model (names, op types, paths) safe to print on a terminal: control characters
/// (an escape sequence can rewrite the screen, a NUL or newline can split a line a tool parses) and
/// bidirectional overrides (which reorder what is shown) become visible <c>\xNN</c> / <c>\uNNNN</c> escapes.
/// </summary>
public static class PrintableText
{
    /// <summary><paramref name="text"/> with every control or bidi-override character escaped; unchanged when it has none.</summary>
    public static string Escape(string text)
    {
        if (!text.Any(NeedsEscape))
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            if (!NeedsEscape(c))
            {
                builder.Append(c);
            }
            else if (c <= '\u00FF')
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:X2}");
            }
            else
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            }
        }

        return builder.ToString();
    }

    private static bool NeedsEscape(char c) => char.IsControl(c) || c is (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069');
}
