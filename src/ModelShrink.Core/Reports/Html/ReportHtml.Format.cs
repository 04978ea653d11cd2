using ModelShrink.Core.Reports;
using ModelShrink.Shared;
using System.Globalization;
using System.Text;
using ModelShrink.Core.Budgets;

namespace ModelShrink.Core.Reports.Html;

/// <summary>How text and numbers are written into the page: escaped, invariant, round-trip.</summary>
public static partial class ReportHtml
{
    /// <summary>Escapes text for HTML content and double- or single-quoted attribute values.</summary>
    public static string Esc(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }

        var s = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            switch (c)
            {
                case '&': s.Append("&amp;"); break;
                case '<': s.Append("&lt;"); break;
                case '>': s.Append("&gt;"); break;
                case '"': s.Append("&quot;"); break;
                case '\'': s.Append("&#39;"); break;
                case '\0': s.Append('\uFFFD'); break;
                default:
                    // Other C0 controls (but tab and line breaks) are not valid in HTML text.
                    s.Append(c < ' ' && c is not ('\t' or '\n' or '\r') ? '\uFFFD' : c);
                    break;
            }
        }

        return s.ToString();
    }

    /// <summary>A number as in report.json: the shortest round-trip form, invariant; "Infinity"/"NaN" when not finite.</summary>
    public static string Num(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>The element id suffix of each candidate name: lower case, [a-z0-9_-], made unique.</summary>
    public static IReadOnlyDictionary<string, string> Slugs(IEnumerable<string> names)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var used = new HashSet<string>(StringComparer.Ordinal) { "original" };
        foreach (var name in names)
        {
            var chars = name.ToLowerInvariant().Select(c => c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-' or '_' ? c : '-').ToArray();
            var slug = System.Text.RegularExpressions.Regex.Replace(new string(chars), "-{2,}", "-").Trim('-');
            slug = slug.Length == 0 ? "candidate" : slug;
            var unique = slug;
            for (var i = 2; !used.Add(unique); i++)
            {
                unique = $"{slug}-{i}";
            }

            result[name] = unique;
        }

        return result;
    }

    // An attribute with a leading space; nothing when the value is null.
    private static string Attr(string name, string? value) => value is null ? "" : $" {name}=\"{Esc(value)}\"";

    private static string Attr(string name, double? value) => value is { } v ? $" {name}=\"{Num(v)}\"" : "";

    // A drawing coordinate: two decimals are plenty.
    private static string Pos(string name, double value) => $" {name}=\"{value.ToString("0.##", CultureInfo.InvariantCulture)}\"";

    private static string Attr(string name, long value) => $" {name}=\"{value.ToString(CultureInfo.InvariantCulture)}\"";

    private static string Bytes(long bytes) => bytes.ToString("N0", CultureInfo.InvariantCulture) + " B";

    private static string Percent(double ratio) => (ratio * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    private static string Fixed(double value) => double.IsFinite(value) ? value.ToString("0.0000", CultureInfo.InvariantCulture) : Num(value);

    private static string Signed(double value) => (value > 0 ? "+" : "") + Fixed(value);

    private static string Short(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "\u2026";

    /// <summary>
    /// Each candidate's name as a chart shows it in at most <paramref name="max"/> characters, no two
    /// alike: the parts every name shares (" + "-separated, e.g. the pruning and precision of a
    /// reconstruction comparison) are left out and given once as <paramref name="common"/>; a name
    /// still too long is cut in the middle, so names that differ at their end stay apart; a clash
    /// left after that is told apart by the candidate's number.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ChartNames(IReadOnlyList<string> names, int max, out string common)
    {
        var parts = names.Select(n => n.Split(" + ")).ToArray();
        var shared = names.Count < 2 ? [] : parts[0].Where(p => parts.All(q => q.Contains(p))).ToArray();
        if (parts.Any(p => p.All(shared.Contains)))
        {
            shared = [];
        }

        common = string.Join(" + ", shared);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < names.Count; i++)
        {
            var text = string.Join(" + ", parts[i].Where(p => !shared.Contains(p)));
            result[names[i]] = text.Length <= max ? text : text[..((max - 1) / 2)] + "\u2026" + text[^(max - 1 - (max - 1) / 2)..];
        }

        var clashes = result.GroupBy(r => r.Value, StringComparer.Ordinal).Where(g => g.Count() > 1).SelectMany(g => g.Select(r => r.Key)).ToArray();
        foreach (var name in clashes)
        {
            var number = $"#{names.ToList().IndexOf(name) + 1} ";
            result[name] = number + Short(result[name], max - number.Length);
        }

        return result;
    }
}
