using ModelShrink.Shared;
using System.Globalization;
using System.Text;
using ModelShrink.Core.Budgets;

namespace ModelShrink.Core.Reports;

/// <summary>
/// <c>report.html</c>: one self-contained page (inline CSS, charts as inline SVG drawn here, no
/// script, no external resource; its Content-Security-Policy forbids both). Every text from the
/// run is HTML-escaped. Numbers are also on the elements as <c>data-*</c> attributes in the
/// invariant round-trip form report.json uses, with stable ids (<c>candidate-NAME</c>,
/// <c>size-bar-NAME</c>, <c>point-NAME</c>, ...; see docs/report-schema.md), so tools and tests
/// can read them back.
/// </summary>
public static class ReportHtml
{
    private const string Original = "#9aa0a6", Candidate = "#4e79a7", Chosen = "#2e7d32", Failed = "#c62828", BudgetColor = "#c62828", Inert = "#c8ccd0";
    private const int MaxSensitivityBars = 60;

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

        h.Append("</p>\n<dl class=\"facts\">\n");
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

    private static void Fact(StringBuilder h, string name, string value) =>
        h.Append("<dt>").Append(Esc(name)).Append("</dt><dd>").Append(Esc(value)).Append("</dd>\n");

    // Horizontal bars: the original, then each candidate, bytes labelled; size budgets as dashed lines.
    private static void SizeChart(StringBuilder h, CompressionReport r, IReadOnlyDictionary<string, string> ids)
    {
        h.Append("<section id=\"size-chart\">\n<h2>Size before/after</h2>\n");
        const int width = 760, left = 170, right = 190, row = 28, barHeight = 18;
        var plot = width - left - right;
        var budgets = SizeBudgetLines(r);
        var top = 14 + 13 * budgets.Count;
        var max = Math.Max(1, r.Candidates.Select(c => (double)c.Bytes).Append(r.OriginalBytes).Concat(budgets.Select(b => b.Bytes)).Max());
        var rows = 1 + r.Candidates.Count;
        var height = top + rows * row + 8;
        h.Append(SvgOpen("size-svg", width, height, "Size of the original and of each candidate"));
        var y = top;
        Bar("original", "original (source)", r.OriginalBytes, Original, "bar original");
        foreach (var c in r.Candidates)
        {
            var chosen = c.Name == r.Chosen;
            Bar(ids[c.Name], c.Name, c.Bytes, Color(c, chosen), chosen ? "bar candidate chosen" : !c.Applied ? "bar candidate inert" : c.Passed ? "bar candidate" : "bar candidate failed");
        }

        for (var i = 0; i < budgets.Count; i++)
        {
            var (id, label, bytes) = budgets[i];
            var x = left + bytes / max * plot;
            h.Append("<line id=\"").Append(id).Append("\" class=\"budget\"").Append(Attr("data-bytes", bytes))
                .Append(Pos("x1", x)).Append(Pos("x2", x)).Append(Pos("y1", 16 + 13 * i)).Append(Pos("y2", height - 4))
                .Append(" stroke=\"").Append(BudgetColor).Append("\" stroke-width=\"1.5\" stroke-dasharray=\"5 4\"/>")
                .Append("<text class=\"budget-label\"").Append(Pos("x", x + 4)).Append(Pos("y", 12 + 13 * i)).Append(" fill=\"").Append(BudgetColor).Append("\">")
                .Append(Esc(label)).Append("</text>\n");
        }

        h.Append("</svg>\n</section>\n");

        void Bar(string id, string name, double bytes, string color, string cssClass)
        {
            var w = Math.Max(1, bytes / max * plot);
            h.Append("<g class=\"row\">")
                .Append("<text class=\"name\"").Append(Pos("x", left - 8)).Append(Pos("y", y + barHeight - 4)).Append(" text-anchor=\"end\">")
                .Append(Esc(Short(name, 24))).Append("<title>").Append(Esc(name)).Append("</title></text>")
                .Append("<rect id=\"size-bar-").Append(id).Append("\" class=\"").Append(cssClass).Append('"')
                .Append(Attr("data-name", name)).Append(Attr("data-bytes", bytes))
                .Append(Pos("x", left)).Append(Pos("y", y)).Append(Pos("width", w)).Append(Pos("height", barHeight))
                .Append(" fill=\"").Append(color).Append("\"/>")
                .Append("<text id=\"size-label-").Append(id).Append("\" class=\"value\"").Append(Pos("x", left + w + 6)).Append(Pos("y", y + barHeight - 4)).Append('>')
                .Append(Esc($"{Bytes((long)bytes)} ({ByteSize.Format((long)bytes)})")).Append("</text></g>\n");
            y += row;
        }
    }

    private static List<(string Id, string Label, double Bytes)> SizeBudgetLines(CompressionReport r)
    {
        var lines = new List<(string, string, double)>();
        if (r.Budgets.MaxBytes is { } maxBytes)
        {
            lines.Add(("budget-size", $"MaxSize {ByteSize.Format(maxBytes)}", maxBytes));
        }

        if (r.Budgets.MaxSizeRatio is { } ratio && r.OriginalBytes > 0)
        {
            lines.Add(("budget-size-ratio", $"MaxSizeRatio {ratio.ToString("0.###", CultureInfo.InvariantCulture)}", ratio * r.OriginalBytes));
        }

        return lines;
    }

    // Scatter of the headline metric against size: every candidate, the original, the chosen one
    // highlighted, the accuracy budget as a horizontal line and size budgets as vertical ones.
    private static void MetricChart(StringBuilder h, CompressionReport r, IReadOnlyDictionary<string, string> ids)
    {
        var metricName = r.Holdout?.Metric ?? "Accuracy";
        h.Append("<section id=\"metric-chart\">\n<h2>").Append(Esc(metricName)).Append(" against size</h2>\n");
        var points = r.Candidates.Where(c => c.MetricValue is { } v && double.IsFinite(v)).ToArray();
        if (r.Holdout is null || points.Length == 0)
        {
            h.Append("<p class=\"note\" id=\"metric-chart-empty\">")
                .Append(r.Holdout is null ? "No holdout data was given, so no metric was measured." : "No candidate has a finite metric value to plot.")
                .Append("</p>\n</section>\n");
            return;
        }

        const int width = 760, height = 380, left = 78, right = 40, top = 24, bottom = 56;
        var holdout = r.Holdout;
        var sizeBudgets = SizeBudgetLines(r);
        var xs = points.Select(p => (double)p.Bytes).Append(r.OriginalBytes).Concat(sizeBudgets.Select(b => b.Bytes)).ToArray();
        var ys = points.Select(p => p.MetricValue!.Value).ToList();
        if (holdout.OriginalValue is { } ov && double.IsFinite(ov))
        {
            ys.Add(ov);
        }

        if (holdout.Threshold is { } th && double.IsFinite(th))
        {
            ys.Add(th);
        }

        // Size ticks are round in the unit they are shown in (KB = 1024 B).
        var unit = new[] { 1L << 30, 1L << 20, 1L << 10, 1 }.First(u => xs.Max() >= u || u == 1);
        var (x0, x1, xStep) = NiceRange(0, xs.Max() / unit);
        (x0, x1, xStep) = (x0 * unit, x1 * unit, xStep * unit);
        var (y0, y1, yStep) = NiceRange(ys.Min(), ys.Max());
        double X(double v) => left + (v - x0) / (x1 - x0) * (width - left - right);
        double Y(double v) => top + (y1 - v) / (y1 - y0) * (height - top - bottom);

        h.Append(SvgOpen("metric-svg", width, height, $"{metricName} against size for every candidate"));
        h.Append("<g class=\"axes\">");
        for (var t = x0; t <= x1 + xStep / 2; t += xStep)
        {
            h.Append("<line class=\"grid\"").Append(Pos("x1", X(t))).Append(Pos("x2", X(t))).Append(Pos("y1", top)).Append(Pos("y2", height - bottom)).Append("/>")
                .Append("<text class=\"tick\"").Append(Pos("x", X(t))).Append(Pos("y", height - bottom + 16)).Append(" text-anchor=\"middle\">")
                .Append(Esc(ByteSize.Format((long)Math.Round(t)))).Append("</text>");
        }

        for (var t = y0; t <= y1 + yStep / 2; t += yStep)
        {
            h.Append("<line class=\"grid\"").Append(Pos("x1", left)).Append(Pos("x2", width - right)).Append(Pos("y1", Y(t))).Append(Pos("y2", Y(t))).Append("/>")
                .Append("<text class=\"tick\"").Append(Pos("x", left - 6)).Append(Pos("y", Y(t) + 4)).Append(" text-anchor=\"end\">")
                .Append(Esc(Tick(t, yStep))).Append("</text>");
        }

        h.Append("<text class=\"axis-title\"").Append(Pos("x", (left + width - right) / 2.0)).Append(Pos("y", height - 14)).Append(" text-anchor=\"middle\">size on disk</text>")
            .Append("<text class=\"axis-title\" transform=\"rotate(-90)\"").Append(Pos("x", -(top + height - bottom) / 2.0)).Append(Pos("y", 18)).Append(" text-anchor=\"middle\">")
            .Append(Esc(holdout.Metric)).Append(holdout.HigherIsBetter ? " (higher is better)" : " (lower is better)").Append("</text></g>\n");

        if (holdout.Threshold is { } threshold && double.IsFinite(threshold))
        {
            h.Append("<line id=\"budget-metric\" class=\"budget\"").Append(Attr("data-metric", threshold))
                .Append(Pos("x1", left)).Append(Pos("x2", width - right)).Append(Pos("y1", Y(threshold))).Append(Pos("y2", Y(threshold)))
                .Append(" stroke=\"").Append(BudgetColor).Append("\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>")
                .Append("<text class=\"budget-label\"").Append(Pos("x", width - right - 4)).Append(Pos("y", Y(threshold) + (holdout.HigherIsBetter ? 14 : -6)))
                .Append(" text-anchor=\"end\" fill=\"").Append(BudgetColor).Append("\">")
                .Append(Esc($"budget: {holdout.Metric} {(holdout.HigherIsBetter ? "\u2265" : "\u2264")} {Fixed(threshold)}")).Append("</text>\n");
        }

        for (var i = 0; i < sizeBudgets.Count; i++)
        {
            var (id, label, bytes) = sizeBudgets[i];
            h.Append("<line id=\"").Append(id).Append("-x\" class=\"budget\"").Append(Attr("data-bytes", bytes))
                .Append(Pos("x1", X(bytes))).Append(Pos("x2", X(bytes))).Append(Pos("y1", top)).Append(Pos("y2", height - bottom))
                .Append(" stroke=\"").Append(BudgetColor).Append("\" stroke-width=\"1.5\" stroke-dasharray=\"5 4\"/>")
                .Append("<text class=\"budget-label\"").Append(Pos("x", X(bytes) + 4)).Append(Pos("y", top + 12 + 13 * i)).Append(" fill=\"").Append(BudgetColor).Append("\">")
                .Append(Esc(label)).Append("</text>\n");
        }

        if (holdout.OriginalValue is { } original && double.IsFinite(original))
        {
            double px = X(r.OriginalBytes), py = Y(original);
            h.Append("<g class=\"point original\"><rect id=\"point-original\"").Append(Attr("data-bytes", r.OriginalBytes)).Append(Attr("data-metric", original))
                .Append(Pos("x", px - 6)).Append(Pos("y", py - 6)).Append(" width=\"12\" height=\"12\" fill=\"white\" stroke=\"").Append(Original).Append("\" stroke-width=\"2\"/>")
                .Append("<text class=\"point-label\"").Append(Pos("x", px - 10)).Append(Pos("y", py - 10)).Append(" text-anchor=\"end\">original</text>")
                .Append("<title>").Append(Esc($"original: {Bytes(r.OriginalBytes)}, {holdout.Metric} {Fixed(original)}")).Append("</title></g>\n");
        }

        // Labels go right of their point, else above or below it, else nowhere (the tooltip and the
        // tables still name it): the chosen point's first, then left to right.
        var labels = new List<(double X, double Y, double W)>();
        if (holdout.OriginalValue is { } ov2 && double.IsFinite(ov2))
        {
            labels.Add((X(r.OriginalBytes) - 10 - 8 * 6.5, Y(ov2) - 10, 8 * 6.5));
        }

        var placed = new Dictionary<string, (double X, double Y)>(StringComparer.Ordinal);
        foreach (var c in points.OrderByDescending(p => p.Name == r.Chosen).ThenBy(p => p.Bytes))
        {
            var text = Short(c.Name, 20) + (c.Name == r.Chosen ? " (chosen)" : "");
            var w = text.Length * 6.5;
            double px = X(c.Bytes), py = Y(c.MetricValue!.Value);
            foreach (var (dx, dy) in new[] { (12.0, 4.0), (-6.0, -12.0), (-6.0, 20.0), (-6.0, -26.0), (-6.0, 34.0) })
            {
                var (lx, ly) = (px + dx, py + dy);
                var fits = lx + w <= width - 2 && ly - 10 >= 0 && ly <= height - bottom + 12
                    && labels.All(l => lx + w < l.X || l.X + l.W < lx || ly + 2 < l.Y - 10 || l.Y + 2 < ly - 10)
                    && points.All(p => p == c || Math.Abs(X(p.Bytes) - Math.Clamp(X(p.Bytes), lx, lx + w)) > 7 || Math.Abs(Y(p.MetricValue!.Value) - Math.Clamp(Y(p.MetricValue!.Value), ly - 10, ly + 2)) > 7);
                if (fits)
                {
                    labels.Add((lx, ly, w));
                    placed[c.Name] = (lx, ly);
                    break;
                }
            }
        }

        // The chosen point last, so it is drawn on top.
        foreach (var c in points.OrderBy(p => p.Name == r.Chosen))
        {
            var chosen = c.Name == r.Chosen;
            double px = X(c.Bytes), py = Y(c.MetricValue!.Value);
            h.Append("<g class=\"point").Append(chosen ? " chosen" : "").Append("\"><circle id=\"point-").Append(ids[c.Name]).Append('"')
                .Append(Attr("data-name", c.Name)).Append(Attr("data-bytes", c.Bytes)).Append(Attr("data-metric", c.MetricValue!.Value))
                .Append(Attr("data-chosen", chosen ? "true" : "false"))
                .Append(Pos("cx", px)).Append(Pos("cy", py)).Append(Pos("r", chosen ? 9 : 6))
                .Append(" fill=\"").Append(Color(c, chosen)).Append('"')
                .Append(chosen ? " stroke=\"#111\" stroke-width=\"2.5\"" : " stroke=\"white\" stroke-width=\"1\"").Append("/>")
                .Append(placed.TryGetValue(c.Name, out var at)
                    ? $"<text class=\"point-label\"{Pos("x", at.X)}{Pos("y", at.Y)}>{Esc(Short(c.Name, 20) + (chosen ? " (chosen)" : ""))}</text>"
                    : "")
                .Append("<title>").Append(Esc($"{c.Name}: {Bytes(c.Bytes)}, {holdout.Metric} {Fixed(c.MetricValue!.Value)}")).Append("</title></g>\n");
        }

        h.Append("</svg>\n");
        var skipped = r.Candidates.Where(c => c.MetricValue is { } v && !double.IsFinite(v)).Select(c => c.Name).ToArray();
        if (skipped.Length > 0)
        {
            h.Append("<p class=\"note\">Not plotted (metric not finite): ").Append(Esc(string.Join(", ", skipped))).Append("</p>\n");
        }

        h.Append("</section>\n");
    }

    private static void SensitivityChart(StringBuilder h, CompressionReport r)
    {
        if (r.Sensitivity.Count == 0)
        {
            return;
        }

        h.Append("<section id=\"sensitivity-chart\">\n<h2>Per-layer sensitivity</h2>\n");
        if (r.SensitivityMethod is { } method)
        {
            h.Append("<p class=\"note\">").Append(Esc($"Method: {method}. Change of the headline metric per layer.")).Append("</p>\n");
        }

        var rows = r.Sensitivity.Select((s, i) => (Row: s, Index: i)).Where(x => double.IsFinite(x.Row.Delta))
            .OrderByDescending(x => Math.Abs(x.Row.Delta)).Take(MaxSensitivityBars).OrderBy(x => x.Index).ToArray();
        const int width = 760, left = 230, right = 110, row = 20, top = 8;
        var lo = Math.Min(0, rows.Select(x => x.Row.Delta).DefaultIfEmpty(0).Min());
        var hi = Math.Max(0, rows.Select(x => x.Row.Delta).DefaultIfEmpty(0).Max());
        if (hi - lo <= 0)
        {
            hi = lo + 1;
        }

        double X(double v) => left + (v - lo) / (hi - lo) * (width - left - right);
        var height = top + rows.Length * row + 10;
        h.Append(SvgOpen("sensitivity-svg", width, height, "Change of the headline metric per layer"));
        h.Append("<line class=\"zero\"").Append(Pos("x1", X(0))).Append(Pos("x2", X(0))).Append(Pos("y1", 0)).Append(Pos("y2", height)).Append("/>\n");
        var y = top;
        foreach (var (s, i) in rows)
        {
            double a = X(Math.Min(0, s.Delta)), b = X(Math.Max(0, s.Delta));
            h.Append("<g class=\"row\"><text class=\"name\"").Append(Pos("x", left - 8)).Append(Pos("y", y + 13)).Append(" text-anchor=\"end\">")
                .Append(Esc(Short($"{s.Layer} ({s.OpType})", 34))).Append("<title>").Append(Esc($"{s.Layer} ({s.OpType})")).Append("</title></text>")
                .Append("<rect id=\"sensitivity-bar-").Append(i.ToString(CultureInfo.InvariantCulture)).Append("\" class=\"bar\"")
                .Append(Attr("data-layer", s.Layer)).Append(Attr("data-op-type", s.OpType)).Append(Attr("data-metric", s.Metric)).Append(Attr("data-delta", s.Delta))
                .Append(Pos("x", a)).Append(Pos("y", y + 2)).Append(Pos("width", Math.Max(1, b - a))).Append(Pos("height", row - 6))
                .Append(" fill=\"").Append(s.Delta < 0 ? Failed : Candidate).Append("\"/>")
                .Append("<text class=\"value\"").Append(Pos("x", width - right + 6)).Append(Pos("y", y + 13)).Append('>').Append(Esc(Signed(s.Delta))).Append("</text></g>\n");
            y += row;
        }

        h.Append("</svg>\n");
        if (r.Sensitivity.Count > rows.Length)
        {
            h.Append("<p class=\"note\">").Append(Esc($"The chart shows the {rows.Length} layers with the largest change; the table lists all {r.Sensitivity.Count}.")).Append("</p>\n");
        }

        h.Append("</section>\n");
    }

    private static void CandidatesTable(StringBuilder h, CompressionReport r, IReadOnlyDictionary<string, string> ids)
    {
        h.Append("<section id=\"candidates\">\n<h2>Candidates</h2>\n<table>\n<thead><tr><th>candidate</th><th>mode</th><th>bytes</th><th>size</th><th>ratio</th>")
            .Append("<th>metric</th><th>value</th><th>drop</th><th>passed</th><th>broken budgets</th><th>time (ms)</th></tr></thead>\n<tbody>\n");
        foreach (var c in r.Candidates)
        {
            var chosen = c.Name == r.Chosen;
            h.Append("<tr id=\"candidate-").Append(ids[c.Name]).Append("\" class=\"").Append(chosen ? "chosen" : c.Passed ? "passed" : "failed").Append('"')
                .Append(Attr("data-name", c.Name)).Append(Attr("data-mode", c.Mode)).Append(Attr("data-bytes", c.Bytes)).Append(Attr("data-size-ratio", c.SizeRatio))
                .Append(Attr("data-metric-name", c.Metric)).Append(Attr("data-metric", c.MetricValue)).Append(Attr("data-drop", c.Drop))
                .Append(Attr("data-passed", c.Passed ? "true" : "false")).Append(Attr("data-applied", c.Applied ? "true" : "false")).Append(Attr("data-chosen", chosen ? "true" : "false"))
                .Append(Attr("data-broken-budgets", string.Join(",", c.BrokenBudgets))).Append(Attr("data-elapsed-ms", c.ElapsedMs)).Append('>')
                .Append("<td class=\"text\">").Append(Esc(c.Name)).Append(chosen ? " <span class=\"badge\">chosen</span>" : "").Append("</td>")
                .Append("<td class=\"text\">").Append(Esc(c.Mode)).Append("</td>");
            Cell(h, "bytes", c.Bytes, Bytes(c.Bytes));
            h.Append("<td>").Append(Esc(ByteSize.Format(c.Bytes))).Append("</td>");
            Cell(h, "sizeRatio", c.SizeRatio, c.SizeRatio.ToString("0.0000", CultureInfo.InvariantCulture));
            h.Append("<td class=\"text\">").Append(Esc(c.Metric ?? "\u2014")).Append("</td>");
            Cell(h, "metricValue", c.MetricValue, c.MetricValue is { } v ? Fixed(v) : "\u2014");
            Cell(h, "drop", c.Drop, c.Drop is { } d ? Fixed(d) : "\u2014");
            h.Append("<td class=\"text\">").Append(c.Passed ? "yes" : "no").Append(c.Applied ? "" : " (changed nothing)").Append("</td>")
                .Append("<td class=\"text\">").Append(Esc(c.BrokenBudgets.Count == 0 ? "none" : string.Join(", ", c.BrokenBudgets))).Append("</td>");
            Cell(h, "elapsedMs", c.ElapsedMs, c.ElapsedMs.ToString("0", CultureInfo.InvariantCulture));
            h.Append("</tr>\n");
        }

        h.Append("</tbody>\n</table>\n</section>\n");
    }

    private static void MetricsTable(StringBuilder h, CompressionReport r, IReadOnlyDictionary<string, string> ids)
    {
        if (r.Candidates.All(c => c.Metrics is null))
        {
            return;
        }

        h.Append("<section id=\"metrics\">\n<h2>Every metric</h2>\n<table>\n<thead><tr><th>candidate</th><th>samples</th><th>accuracy</th><th>original accuracy</th>")
            .Append("<th>agreement</th><th>top-k</th><th>original top-k</th><th>cosine</th><th>max abs</th><th>rmse</th><th>snr (dB)</th></tr></thead>\n<tbody>\n");
        foreach (var c in r.Candidates.Where(c => c.Metrics is not null))
        {
            var m = c.Metrics!;
            h.Append("<tr id=\"metrics-").Append(ids[c.Name]).Append('"').Append(Attr("data-name", c.Name)).Append("><td class=\"text\">").Append(Esc(c.Name)).Append("</td>");
            Cell(h, "samples", m.Samples, m.Samples.ToString(CultureInfo.InvariantCulture));
            Metric(h, "accuracy", m.Accuracy);
            Metric(h, "originalAccuracy", m.OriginalAccuracy);
            Metric(h, "agreement", m.Agreement);
            Metric(h, "topK", m.TopK);
            Metric(h, "originalTopK", m.OriginalTopK);
            Metric(h, "cosine", m.Cosine);
            Metric(h, "maxAbs", m.MaxAbs);
            Metric(h, "rmse", m.Rmse);
            Metric(h, "snr", m.Snr);
            h.Append("</tr>\n");
        }

        h.Append("</tbody>\n</table>\n</section>\n");

        static void Metric(StringBuilder h, string field, double? value) =>
            Cell(h, field, value, value is { } v ? (double.IsFinite(v) ? v.ToString("0.######", CultureInfo.InvariantCulture) : Num(v)) : "\u2014");
    }

    private static void PassesTable(StringBuilder h, CompressionReport r, IReadOnlyDictionary<string, string> ids)
    {
        h.Append("<section id=\"passes\">\n<h2>Passes</h2>\n<table>\n<thead><tr><th>candidate</th><th>pass</th><th>changed</th><th>counters</th><th>time (ms)</th></tr></thead>\n<tbody>\n");
        foreach (var c in r.Candidates)
        {
            for (var i = 0; i < c.Passes.Count; i++)
            {
                var p = c.Passes[i];
                var counters = string.Join(", ", p.Counters.Select(k => $"{k.Key} {k.Value.ToString(CultureInfo.InvariantCulture)}"));
                h.Append("<tr id=\"pass-").Append(ids[c.Name]).Append('-').Append(i.ToString(CultureInfo.InvariantCulture)).Append("\" class=\"pass\"")
                    .Append(Attr("data-candidate", c.Name)).Append(Attr("data-pass", p.Name)).Append(Attr("data-modified", p.Modified ? "true" : "false"))
                    .Append(Attr("data-elapsed-ms", p.ElapsedMs)).Append('>')
                    .Append("<td class=\"text\">").Append(Esc(c.Name)).Append("</td><td class=\"text\">").Append(Esc(p.Name)).Append("</td>")
                    .Append("<td class=\"text\">").Append(p.Modified ? "yes" : "no").Append("</td>")
                    .Append("<td class=\"text\">").Append(Esc(counters.Length == 0 ? "\u2014" : counters)).Append("</td>");
                Cell(h, "elapsedMs", p.ElapsedMs, p.ElapsedMs.ToString("0.0", CultureInfo.InvariantCulture));
                h.Append("</tr>\n");
            }
        }

        h.Append("</tbody>\n</table>\n</section>\n");
    }

    private static void SensitivityTable(StringBuilder h, CompressionReport r)
    {
        if (r.Sensitivity.Count == 0)
        {
            return;
        }

        h.Append("<section id=\"sensitivity\">\n<h2>Sensitivity by layer</h2>\n<table>\n<thead><tr><th>layer</th><th>op</th><th>metric</th><th>delta</th></tr></thead>\n<tbody>\n");
        for (var i = 0; i < r.Sensitivity.Count; i++)
        {
            var s = r.Sensitivity[i];
            h.Append("<tr id=\"sensitivity-").Append(i.ToString(CultureInfo.InvariantCulture)).Append('"')
                .Append(Attr("data-layer", s.Layer)).Append(Attr("data-op-type", s.OpType)).Append(Attr("data-metric", s.Metric)).Append(Attr("data-delta", s.Delta)).Append('>')
                .Append("<td class=\"text\">").Append(Esc(s.Layer)).Append("</td><td class=\"text\">").Append(Esc(s.OpType)).Append("</td>");
            Cell(h, "metric", s.Metric, Fixed(s.Metric));
            Cell(h, "delta", s.Delta, Signed(s.Delta));
            h.Append("</tr>\n");
        }

        h.Append("</tbody>\n</table>\n</section>\n");
    }

    private static void BudgetsTable(StringBuilder h, CompressionReport r)
    {
        var b = r.Budgets;
        h.Append("<section id=\"budgets\">\n<h2>Budgets</h2>\n<table>\n<tbody>\n");
        Row("MaxSize", "maxBytes", b.MaxBytes, b.MaxBytes is { } m ? $"{Bytes(m)} ({ByteSize.Format(m)})" : null);
        Row("MaxSizeRatio", "maxSizeRatio", b.MaxSizeRatio, b.MaxSizeRatio?.ToString("0.####", CultureInfo.InvariantCulture));
        Row("MaxAccuracyDrop", "maxAccuracyDrop", b.MaxAccuracyDrop, b.MaxAccuracyDrop?.ToString("0.####", CultureInfo.InvariantCulture));
        Row("MinAgreement", "minAgreement", b.MinAgreement, b.MinAgreement?.ToString("0.####", CultureInfo.InvariantCulture));
        Row("MinCosine", "minCosine", b.MinCosine, b.MinCosine?.ToString("0.#########", CultureInfo.InvariantCulture));
        h.Append("<tr id=\"budget-severity\"").Append(Attr("data-value", b.Severity)).Append("><th>severity</th><td class=\"text\">").Append(Esc(b.Severity)).Append("</td></tr>\n");
        h.Append("</tbody>\n</table>\n</section>\n");

        void Row(string name, string field, double? value, string? text)
        {
            h.Append("<tr id=\"budget-").Append(field).Append('"').Append(Attr("data-value", value)).Append("><th>").Append(name).Append("</th><td>")
                .Append(Esc(text ?? "not set")).Append("</td></tr>\n");
        }
    }

    private static void DiagnosticsTable(StringBuilder h, CompressionReport r)
    {
        h.Append("<section id=\"diagnostics\">\n<h2>Diagnostics</h2>\n");
        if (r.Diagnostics.Count == 0)
        {
            h.Append("<p class=\"note\">None.</p>\n</section>\n");
            return;
        }

        h.Append("<table>\n<thead><tr><th>code</th><th>severity</th><th>candidate</th><th>message</th><th>setting</th></tr></thead>\n<tbody>\n");
        foreach (var d in r.Diagnostics)
        {
            h.Append("<tr class=\"diagnostic ").Append(d.Severity == "error" ? "error" : "warning").Append('"')
                .Append(Attr("data-code", d.Code)).Append(Attr("data-severity", d.Severity)).Append(Attr("data-candidate", d.Candidate)).Append('>')
                .Append("<td class=\"text\">").Append(Esc(d.Code)).Append("</td><td class=\"text\">").Append(Esc(d.Severity)).Append("</td>")
                .Append("<td class=\"text\">").Append(Esc(d.Candidate ?? "\u2014")).Append("</td><td class=\"text message\">").Append(Esc(d.Message)).Append("</td>")
                .Append("<td class=\"text\">").Append(Esc(d.Setting ?? "")).Append("</td></tr>\n");
        }

        h.Append("</tbody>\n</table>\n</section>\n");
    }

    private static void EnvironmentTable(StringBuilder h, CompressionReport r)
    {
        var e = r.Environment;
        h.Append("<section id=\"environment\">\n<h2>Environment</h2>\n<table>\n<tbody>\n");
        Row("engineVersion", "ModelShrink", e.EngineVersion);
        Row("onnxRuntimeVersion", "ONNX Runtime", e.OnnxRuntimeVersion);
        Row("processorCount", "processors", e.ProcessorCount.ToString(CultureInfo.InvariantCulture));
        Row("os", "OS", e.Os);
        Row("runtime", ".NET", e.Runtime);
        Row("schemaVersion", "report schema", r.SchemaVersion.ToString(CultureInfo.InvariantCulture));
        h.Append("</tbody>\n</table>\n</section>\n");

        void Row(string field, string name, string value) =>
            h.Append("<tr id=\"env-").Append(field).Append('"').Append(Attr("data-value", value)).Append("><th>").Append(Esc(name)).Append("</th><td class=\"text\">")
                .Append(Esc(value)).Append("</td></tr>\n");
    }

    // Chosen green, failed red, passed blue, a mode that changed nothing grey.
    private static string Color(ReportCandidate c, bool chosen) => chosen ? Chosen : !c.Applied ? Inert : c.Passed ? Candidate : Failed;

    private static void Cell(StringBuilder h, string field, double? value, string text) =>
        h.Append("<td").Append(Attr("data-field", field)).Append(Attr("data-value", value)).Append('>').Append(Esc(text)).Append("</td>");

    private static string SvgOpen(string id, int width, int height, string label) =>
        $"<svg id=\"{id}\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"{Esc(label)}\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">\n";

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

    private static string Tick(double value, double step)
    {
        var decimals = 0;
        while (decimals < 8 && Math.Abs(Math.Round(step, decimals) - step) > step * 1e-6)
        {
            decimals++;
        }

        return value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }

    // An axis range covering [lo, hi] with 4-6 round ticks; a flat range is widened around its value.
    private static (double Lo, double Hi, double Step) NiceRange(double lo, double hi)
    {
        if (hi - lo < 1e-12)
        {
            var pad = Math.Max(Math.Abs(hi) * 0.01, 1e-3);
            lo -= pad;
            hi += pad;
        }
        else
        {
            var pad = (hi - lo) * 0.08;
            lo = lo == 0 ? 0 : lo - pad;
            hi += pad;
        }

        var raw = (hi - lo) / 5;
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var step = new[] { 1.0, 2, 2.5, 5, 10 }.Select(f => f * magnitude).First(s => s >= raw);
        return (Math.Floor(lo / step) * step, Math.Ceiling(hi / step) * step, step);
    }

    private const string Css = """

        :root { color-scheme: light; }
        body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; margin: 0 auto; max-width: 1040px; padding: 16px 24px 48px; }
        h1 { font-size: 22px; margin: 0 0 6px; word-break: break-all; }
        h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
        header { border-radius: 6px; padding: 12px 16px; border: 1px solid #d0d7de; border-left-width: 6px; }
        header.passed { border-left-color: #2e7d32; background: #f1f8f1; }
        header.failed { border-left-color: #c62828; background: #fdf1f1; }
        .verdict { font-size: 16px; margin: 4px 0 8px; }
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
