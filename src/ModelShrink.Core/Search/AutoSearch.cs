using ModelShrink.Core.Budgets;
using ModelShrink.Core.Compression;
using ModelShrink.Diagnostics;

namespace ModelShrink.Core.Search;

/// <summary>
/// Quantize = Auto: tries the available modes from the smallest expected result to the largest
/// (int4, int8, fp16, none — as far as this engine has them), validating each on the holdout data
/// against every budget, and stops at the first that fits: with candidates in size order that is
/// the smallest one within the budgets. When none fits, the error names the best size and the
/// best metric reached and the budgets that failed.
/// </summary>
public static class AutoSearch
{
    /// <summary>The order candidates are tried in: most aggressive first.</summary>
    public static readonly IReadOnlyList<QuantizeMode> Order = [QuantizeMode.Int4, QuantizeMode.Int8, QuantizeMode.Fp16, QuantizeMode.None];

    /// <summary>
    /// Runs the search; the winner is written to <paramref name="output"/>. Every candidate tried is
    /// in the result's <see cref="JobResult.Candidates"/>.
    /// </summary>
    public static JobResult Run(string source, string output, JobSettings settings, string display, CancellationToken cancellation = default, IProgress<string>? progress = null)
    {
        var folder = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(output))!, $".modelshrink-search-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            var tried = new List<CandidateOutcome>();
            foreach (var mode in Order.Where(PipelineFactory.SupportedModes.Contains))
            {
                cancellation.ThrowIfCancellationRequested();
                var options = settings.Compression with { Quantize = mode };
                var candidateFile = Path.Combine(folder, $"{mode}.onnx".ToLowerInvariant());
                progress?.Report($"searching: candidate {tried.Count + 1}, {mode}");
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                var job = CompressionJob.Run(source, candidateFile, settings with { Compression = options }, display, cancellation, progress);
                var outcome = new CandidateOutcome(mode.ToString(), options, job) { Elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started) };
                tried.Add(outcome);
                if (outcome.Fits)
                {
                    File.Move(candidateFile, output, overwrite: true);
                    var warnings = job.Diagnostics.ToList();
                    if (settings.Holdout is null)
                    {
                        warnings.Add(new Diagnostic(ErrorCodes.SearchUnvalidated,
                            $"Quantize=Auto without holdout data chose {mode} by size alone; its accuracy was not measured", display, "Holdout", DiagnosticSeverity.Warning));
                    }

                    return job with
                    {
                        Compression = job.Compression with { Output = output },
                        Diagnostics = warnings,
                        Chosen = mode,
                        Candidates = tried,
                    };
                }
            }

            throw NoFit(tried, display);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static ModelShrinkException NoFit(IReadOnlyList<CandidateOutcome> tried, string display)
    {
        var smallest = tried.MinBy(t => t.Result.Compression.CompressedBytes)!;
        var best = tried.Where(t => t.Result.Validation is not null).MaxBy(t => -AccuracyBudget.Drop(t.Result.Validation!));
        var failed = tried.SelectMany(t => t.Result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.Setting)).Distinct();
        var metric = best is null ? "" : $"; best {best.Result.Validation!.Metric} {best.Result.Validation.Value:0.####} ({best.Name})";
        return ModelShrinkException.Error(ErrorCodes.SearchFoundNothing,
            $"no candidate fits the budgets: tried {string.Join(", ", tried.Select(t => t.Name))}; smallest {ByteSize.Format(smallest.Result.Compression.CompressedBytes)} ({smallest.Name}){metric}; failed: {string.Join(", ", failed)}",
            display, "Quantize");
    }
}
