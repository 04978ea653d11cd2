using System.Net;
using System.Text.RegularExpressions;

namespace ModelShrink.Core.Tests.Reports;

/// <summary>One start tag of the serialized DOM: its name, attributes (entities decoded) and where it starts.</summary>
internal sealed record DomElement(string Tag, IReadOnlyDictionary<string, string> Attributes, int Start, int ContentStart)
{
    public string this[string attribute] =>
        Attributes.TryGetValue(attribute, out var value) ? value : throw new AssertFailedException($"<{Tag} id={Attributes.GetValueOrDefault("id")}> has no {attribute}");
}

/// <summary>
/// Reads the DOM a browser serialized (<c>--dump-dom</c>): start tags with their attributes, by id,
/// and the text of leaf elements. The browser did the HTML parsing; this only reads its output,
/// which is regular (attributes always double-quoted, quotes inside them as &amp;quot;).
/// </summary>
internal sealed partial class DumpedDom
{
    private readonly string html;

    public DumpedDom(string html)
    {
        this.html = html;
        foreach (Match tag in StartTag().Matches(html))
        {
            var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (Match a in Attribute().Matches(tag.Groups["attrs"].Value))
            {
                attributes[a.Groups["name"].Value] = WebUtility.HtmlDecode(a.Groups["value"].Success ? a.Groups["value"].Value : "");
            }

            Elements.Add(new DomElement(tag.Groups["tag"].Value.ToLowerInvariant(), attributes, tag.Index, tag.Index + tag.Length));
        }
    }

    /// <summary>Every start tag in document order.</summary>
    public List<DomElement> Elements { get; } = [];

    /// <summary>The element with <paramref name="id"/>; fails the test when there is none or more than one.</summary>
    public DomElement ById(string id)
    {
        var found = Elements.Where(e => e.Attributes.GetValueOrDefault("id") == id).ToArray();
        return found.Length == 1 ? found[0] : throw new AssertFailedException($"{found.Length} elements with id '{id}'");
    }

    /// <summary>The elements named <paramref name="tag"/>.</summary>
    public IEnumerable<DomElement> ByTag(string tag) => Elements.Where(e => e.Tag == tag);

    /// <summary>The text inside an element, tags removed and entities decoded (up to its first closing tag of the same name).</summary>
    public string Text(DomElement element)
    {
        var end = html.IndexOf($"</{element.Tag}>", element.ContentStart, StringComparison.OrdinalIgnoreCase);
        var inner = html[element.ContentStart..end];
        return WebUtility.HtmlDecode(Regex.Replace(inner, "<[^>]*>", ""));
    }

    [GeneratedRegex("""<(?<tag>[a-zA-Z][a-zA-Z0-9:-]*)(?<attrs>(?:\s+[^\s"'>/=]+(?:="[^"]*")?)*)\s*/?>""")]
    private static partial Regex StartTag();

    [GeneratedRegex("""(?<name>[^\s"'>/=]+)(?:="(?<value>[^"]*)")?""")]
    private static partial Regex Attribute();
}
