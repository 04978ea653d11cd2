using ModelShrink.Core.Compression;

namespace ModelShrink.Cli.Output;

/// <summary>The human-readable form of <c>modelshrink compress</c>.</summary>
public static class CompressionText
{
    /// <summary>
    /// Writes the run's one-sentence summary (what was chosen and why), the size line, the passes that
    /// ran, the candidates (one row each, labels padded to the longest) and the holdout result.
    /// </summary>
    public static void Write(TextWriter w, JobResult job)
    {
        var r = job.Compression;
        if (job.Summary is { } summary)
        {
            w.WriteLine(summary);
        }

        var verdict = job.Failed ? "NOT written (a budget is broken)" : $"written to {r.Output}";
        w.WriteLine($"{r.Input}: {SummaryText.Size(r.OriginalBytes)} -> {SummaryText.Size(r.CompressedBytes)} ({r.SizeRatio * 100:0.0}% of the original), {verdict}");
        foreach (var pass in r.Passes)
        {
            var counters = string.Join(", ", pass.Result.Counters.Where(c => c.Value != 0).Select(c => $"{c.Key} {c.Value}"));
            w.WriteLine($"  {pass.Pass,-20} {(counters.Length > 0 ? counters : pass.Result.Modified ? "changed" : "no change")} ({pass.Elapsed.TotalMilliseconds:0} ms)");
        }

        if (job.Candidates.Count > 0)
        {
            if (job.KeptFloat.Count > 0)
            {
                w.WriteLine($"  kept float: {string.Join(", ", job.KeptFloat)}");
            }

            foreach (var row in job.PlanTable)
            {
                w.WriteLine($"  plan {row.OpType,-15} int4 {row.Int4,4}  int8 {row.Int8,4}  fp16 {row.Fp16,4}  float {row.Float,4}");
            }

            // The label column is as wide as the longest label, so no label runs into the size column.
            var width = job.Candidates.Max(c => c.Name.Length);
            w.WriteLine($"  {"candidate".PadRight(width)}  {"size",10}  result");
            foreach (var candidate in job.Candidates)
            {
                var metric = candidate.Result.Validation is { } v ? $", {v.Metric} {v.Value:0.####}{(job.ChosenName is null ? "" : $", cosine {v.Values.Cosine:0.#####}, rmse {v.Values.Rmse:0.####}")}" : "";
                var outcome = candidate.Name == job.ChosenName && !job.Failed ? "chosen" : !candidate.Applies ? "changes nothing" : candidate.Fits ? "fits" : "breaks a budget";
                var latency = candidate.LatencyRatio is { } ratio ? $", latency {ratio:0.00}x" : "";
                w.WriteLine($"  {candidate.Name.PadRight(width)}  {SummaryText.Size(candidate.Result.Compression.CompressedBytes),10}{metric}{latency}: {outcome}");
            }
        }

        if (job.Validation is { } validation)
        {
            ValidationText.Write(w, validation);
        }
    }
}
