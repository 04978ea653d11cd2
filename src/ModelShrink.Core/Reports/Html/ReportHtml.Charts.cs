using ModelShrink.Core.Reports;
using ModelShrink.Shared;
using System.Globalization;
using System.Text;
using ModelShrink.Core.Budgets;

namespace ModelShrink.Core.Reports.Html;

/// <summary>The page's charts, drawn as inline SVG, and their axis math.</summary>
public static partial class ReportHtml
{
    private const string Original = "#9aa0a6", Candidate = "#4e79a7", Chosen = "#2e7d32", Failed = "#c62828", BudgetColor = "#c62828", Inert = "#c8ccd0";
    private const int MaxSensitivityBars = 60;

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
        var shown = ChartNames(r.Candidates.Select(c => c.Name).ToArray(), 24, out var common);
        Bar("original", "original (source)", "original (source)", r.OriginalBytes, Original, "bar original");
        foreach (var c in r.Candidates)
        {
            var chosen = c.Name == r.Chosen;
            Bar(ids[c.Name], c.Name, shown[c.Name], c.Bytes, Color(c, chosen), chosen ? "bar candidate chosen" : !c.Applied ? "bar candidate inert" : c.Passed ? "bar candidate" : "bar candidate failed");
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

        h.Append("</svg>\n");
        CommonNote(h, common);
        h.Append("</section>\n");

        void Bar(string id, string name, string label, double bytes, string color, string cssClass)
        {
            var w = Math.Max(1, bytes / max * plot);
            h.Append("<g class=\"row\">")
                .Append("<text class=\"name\"").Append(Pos("x", left - 8)).Append(Pos("y", y + barHeight - 4)).Append(" text-anchor=\"end\">")
                .Append(Esc(label)).Append("<title>").Append(Esc(name)).Append("</title></text>")
                .Append("<rect id=\"size-bar-").Append(id).Append("\" class=\"").Append(cssClass).Append('"')
                .Append(Attr("data-name", name)).Append(Attr("data-bytes", bytes))
                .Append(Pos("x", left)).Append(Pos("y", y)).Append(Pos("width", w)).Append(Pos("height", barHeight))
                .Append(" fill=\"").Append(color).Append("\"/>")
                .Append("<text id=\"size-label-").Append(id).Append("\" class=\"value\"").Append(Pos("x", left + w + 6)).Append(Pos("y", y + barHeight - 4)).Append('>')
                .Append(Esc($"{Bytes((long)bytes)} ({ByteSize.Format((long)bytes)})")).Append("</text></g>\n");
            y += row;
        }
    }

    // What a chart left out of every candidate's name because all of them share it.
    private static void CommonNote(StringBuilder h, string common)
    {
        if (common.Length > 0)
        {
            h.Append("<p class=\"note chart-common\">").Append(Esc($"Every candidate: {common}.")).Append("</p>\n");
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
        var shown = ChartNames(points.Select(p => p.Name).ToArray(), 20, out var common);
        foreach (var c in points.OrderByDescending(p => p.Name == r.Chosen).ThenBy(p => p.Bytes))
        {
            var text = shown[c.Name] + (c.Name == r.Chosen ? " (chosen)" : "");
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
                    ? $"<text class=\"point-label\"{Pos("x", at.X)}{Pos("y", at.Y)}>{Esc(shown[c.Name] + (chosen ? " (chosen)" : ""))}</text>"
                    : "")
                .Append("<title>").Append(Esc($"{c.Name}: {Bytes(c.Bytes)}, {holdout.Metric} {Fixed(c.MetricValue!.Value)}")).Append("</title></g>\n");
        }

        h.Append("</svg>\n");
        CommonNote(h, common);
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

    // Chosen green, failed red, passed blue, a mode that changed nothing grey.
    private static string Color(ReportCandidate c, bool chosen) => chosen ? Chosen : !c.Applied ? Inert : c.Passed ? Candidate : Failed;

    private static string SvgOpen(string id, int width, int height, string label) =>
        $"<svg id=\"{id}\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"{Esc(label)}\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">\n";

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
}
