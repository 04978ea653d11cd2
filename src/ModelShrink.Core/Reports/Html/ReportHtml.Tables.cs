using ModelShrink.Core.Reports;
using ModelShrink.Shared;
using System.Globalization;
using System.Text;
using ModelShrink.Core.Budgets;

namespace ModelShrink.Core.Reports.Html;

/// <summary>The page's tables.</summary>
public static partial class ReportHtml
{
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

    private static void Cell(StringBuilder h, string field, double? value, string text) =>
        h.Append("<td").Append(Attr("data-field", field)).Append(Attr("data-value", value)).Append('>').Append(Esc(text)).Append("</td>");
}
