using ModelShrink.Core.Compression;

namespace ModelShrink.Cli.Output;

/// <summary>The human-readable form of <c>modelshrink compress</c>.</summary>
public static class CompressionText
{
    /// <summary>Writes one summary line, the passes that ran, and any warnings.</summary>
    public static void Write(TextWriter w, CompressionResult r)
    {
        w.WriteLine($"{r.Input}: {SummaryText.Size(r.OriginalBytes)} -> {SummaryText.Size(r.CompressedBytes)} ({r.SizeRatio * 100:0.0}% of the original) written to {r.Output}");
        foreach (var pass in r.Passes)
        {
            var counters = string.Join(", ", pass.Result.Counters.Where(c => c.Value != 0).Select(c => $"{c.Key} {c.Value}"));
            w.WriteLine($"  {pass.Pass,-16} {(pass.Result.Modified ? counters : "no change")} ({pass.Elapsed.TotalMilliseconds:0} ms)");
        }

        foreach (var warning in r.Warnings)
        {
            w.WriteLine(warning);
        }
    }
}
