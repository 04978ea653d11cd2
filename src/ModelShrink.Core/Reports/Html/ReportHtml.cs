using ModelShrink.Core.Reports;
using ModelShrink.Shared;
using System.Globalization;
using System.Text;
using ModelShrink.Core.Budgets;

namespace ModelShrink.Core.Reports.Html;

/// <summary>
/// <c>report.html</c>: one self-contained page (inline CSS, charts as inline SVG drawn here, no
/// script, no external resource; its Content-Security-Policy forbids both). Every text from the
/// run is HTML-escaped. Numbers are also on the elements as <c>data-*</c> attributes in the
/// invariant round-trip form report.json uses, with stable ids (<c>candidate-NAME</c>,
/// <c>size-bar-NAME</c>, <c>point-NAME</c>, ...; see docs/report-schema.md), so tools and tests
/// can read them back.
/// </summary>
public static partial class ReportHtml
{
    /// <summary>Renders <paramref name="report"/> as a complete HTML document.</summary>
    public static string Render(CompressionReport report)
    {
        var ids = Slugs(report.Candidates.Select(c => c.Name));
        var h = new StringBuilder(32 * 1024);
        h.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append("<meta name=\"generator\" content=\"ModelShrink ").Append(Esc(report.Environment.EngineVersion)).Append("\">\n")
            .Append("<title>ModelShrink report: ").Append(Esc(report.Model)).Append("</title>\n")
            .Append("<style>").Append(Css).Append("</style>\n</head>\n<body>\n");
        Header(h, report, ids);
        ShortfallSection(h, report, ids);
        SizeChart(h, report, ids);
        MetricChart(h, report, ids);
        SensitivityChart(h, report);
        CandidatesTable(h, report, ids);
        MetricsTable(h, report, ids);
        PassesTable(h, report, ids);
        SensitivityTable(h, report);
        BudgetsTable(h, report);
        DiagnosticsTable(h, report);
        EnvironmentTable(h, report);
        h.Append("</body>\n</html>\n");
        return h.ToString();
    }

    private static void Header(StringBuilder h, CompressionReport r, IReadOnlyDictionary<string, string> ids)
    {
        var chosen = r.ChosenCandidate();
        h.Append("<header id=\"verdict\" class=\"").Append(r.Verdict == CompressionReport.Passed ? "passed" : "failed").Append('"')
            .Append(Attr("data-verdict", r.Verdict)).Append(Attr("data-chosen", r.Chosen))
            .Append(Attr("data-original-bytes", r.OriginalBytes)).Append(Attr("data-schema-version", r.SchemaVersion))
            .Append(">\n<h1>ModelShrink report: <span id=\"model-name\">").Append(Esc(r.Model)).Append("</span></h1>\n");
        h.Append("<p id=\"verdict-text\" class=\"verdict\">");
        if (chosen is not null)
        {
            h.Append("<strong>Passed</strong>: <a href=\"#candidate-").Append(ids[chosen.Name]).Append("\">").Append(Esc(chosen.Name)).Append("</a> chosen, ")
                .Append(Esc(ByteSize.Format(r.OriginalBytes))).Append(" \u2192 ").Append(Esc(ByteSize.Format(chosen.Bytes)))
                .Append(" (").Append(Percent(chosen.SizeRatio)).Append(" of the original)");
            if (chosen.Metric is not null && chosen.MetricValue is { } value)
            {
                h.Append(", ").Append(Esc(chosen.Metric)).Append(' ').Append(Fixed(value))
                    .Append(chosen.Drop is { } drop ? $" (drop {Fixed(drop)})" : "");
            }
        }
        else
        {
            h.Append("<strong>Failed</strong>: no candidate is within the budgets");
            var broken = r.Candidates.SelectMany(c => c.BrokenBudgets).Distinct().ToArray();
            if (broken.Length > 0)
            {
                h.Append(" (broken: ").Append(Esc(string.Join(", ", broken))).Append(')');
            }
        }

        h.Append("</p>\n");
        if (r.Summary is { } summary)
        {
            h.Append("<p id=\"summary\" class=\"summary\">").Append(Esc(summary)).Append("</p>\n");
        }

        h.Append("<dl class=\"facts\">\n");
        Fact(h, "Original", $"{Bytes(r.OriginalBytes)} ({ByteSize.Format(r.OriginalBytes)})");
        Fact(h, "Output", r.Output ?? "not written");
        Fact(h, "Candidates tried", r.Candidates.Count.ToString(CultureInfo.InvariantCulture));
        if (r.Holdout is { } holdout)
        {
            Fact(h, "Holdout", $"{holdout.Data}; output '{holdout.Output}', {holdout.Samples} samples, metric {holdout.Metric}");
        }

        Fact(h, "Created", r.CreatedUtc);
        h.Append("</dl>\n</header>\n");
    }

    // A failed run: how far the closest candidate missed each budget, and what to try.
    private static void ShortfallSection(StringBuilder h, CompressionReport r, IReadOnlyDictionary<string, string> ids)
    {
        if (r.Shortfall is not { } s)
        {
            return;
        }

        h.Append("<section id=\"shortfall\"").Append(Attr("data-candidate", s.Candidate)).Append(">\n<h2>How far over budget</h2>\n<p>The closest candidate, ");
        h.Append(ids.TryGetValue(s.Candidate, out var id) ? $"<a href=\"#candidate-{id}\">{Esc(s.Candidate)}</a>" : Esc(s.Candidate))
            .Append(" (").Append(Esc(ByteSize.Format(s.Bytes))).Append("), missed:</p>\n");
        h.Append("<table id=\"shortfall-table\">\n<tr><th>Budget</th><th>Limit</th><th>Reached</th><th>Missed by</th></tr>\n");
        foreach (var miss in s.Missed)
        {
            var by = miss.Text.StartsWith(miss.Setting + " by ", StringComparison.Ordinal) ? miss.Text[(miss.Setting.Length + 4)..] : "\u2014";
            h.Append("<tr class=\"miss\"").Append(Attr("data-setting", miss.Setting)).Append(Attr("data-limit", miss.Limit)).Append(Attr("data-reached", miss.Reached)).Append(Attr("data-over", miss.Over)).Append('>')
                .Append("<td class=\"text\">").Append(Esc(miss.Setting)).Append("</td><td>").Append(Esc(Budget(miss.Setting, miss.Limit))).Append("</td><td>")
                .Append(Esc(Budget(miss.Setting, miss.Reached))).Append("</td><td>").Append(Esc(by)).Append("</td></tr>\n");
        }

        h.Append("</table>\n<h3>What to try</h3>\n<ul id=\"ways-out\">\n");
        foreach (var way in s.WaysOut)
        {
            h.Append("<li>").Append(Esc(way)).Append("</li>\n");
        }

        h.Append("</ul>\n</section>\n");
    }

    // A budget's value in its unit: bytes as "46.32KB", the rest as numbers.
    private static string Budget(string setting, double? value) => value is not { } v ? "\u2014"
        : setting == "MaxSize" ? ByteSize.Format((long)v)
        : v.ToString("0.######", CultureInfo.InvariantCulture);

    private static void Fact(StringBuilder h, string name, string value) =>
        h.Append("<dt>").Append(Esc(name)).Append("</dt><dd>").Append(Esc(value)).Append("</dd>\n");

    private const string Css = """

        :root { color-scheme: light; }
        body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; margin: 0 auto; max-width: 1040px; padding: 16px 24px 48px; }
        h1 { font-size: 22px; margin: 0 0 6px; word-break: break-all; }
        h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
        header { border-radius: 6px; padding: 12px 16px; border: 1px solid #d0d7de; border-left-width: 6px; }
        header.passed { border-left-color: #2e7d32; background: #f1f8f1; }
        header.failed { border-left-color: #c62828; background: #fdf1f1; }
        .verdict { font-size: 16px; margin: 4px 0 8px; }
        .summary { margin: 0 0 8px; }
        h3 { font-size: 15px; margin: 16px 0 6px; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; }
        dl.facts dt { color: #57606a; }
        dl.facts dd { margin: 0; word-break: break-all; }
        svg { max-width: 100%; height: auto; font: 12px system-ui, sans-serif; }
        svg .grid { stroke: #eaeef2; }
        svg .zero { stroke: #57606a; }
        svg .tick, svg .value { fill: #57606a; }
        svg .axis-title { fill: #1f2328; font-weight: 600; }
        svg .budget-label { font-size: 11px; }
        table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
        th, td { border-bottom: 1px solid #eaeef2; padding: 4px 8px; text-align: right; vertical-align: top; }
        th { background: #f6f8fa; font-weight: 600; }
        td.text, th:first-child { text-align: left; }
        td.message { white-space: normal; word-break: break-word; }
        tr.chosen td { background: #f1f8f1; }
        tr.failed td, tr.diagnostic.error td { color: #a40e26; }
        .badge { background: #2e7d32; color: white; border-radius: 8px; padding: 0 6px; font-size: 11px; }
        .note { color: #57606a; }
        """;
}
