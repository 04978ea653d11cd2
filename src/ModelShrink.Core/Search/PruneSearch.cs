using ModelShrink.Core.Plans;
using ModelShrink.Core.Budgets;
using ModelShrink.Core.Compression;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;

namespace ModelShrink.Core.Search;

/// <summary>
/// Prune=auto: a binary search over sparsities 0.05, then 0.1 to 0.9, for the highest one whose pruned model
/// still meets the accuracy budgets on the holdout data (accuracy falls with sparsity, so about
/// four trials settle it). Quantization is left out while searching (Auto quantization searches
/// afterwards, on the pruned model) and size budgets are judged on the final result only. A level
/// that misses the budget is retried with SparseGPT (layer-wise reconstruction) when reconstruction
/// data of its own is named; the level then counts as fitting, and the final run keeps it.
/// </summary>
public static class PruneSearch
{
    /// <summary>The sparsities tried, lowest first.</summary>
    public static readonly IReadOnlyList<double> Levels = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

    /// <summary>Finds the sparsity, then runs the whole job with it; the trials join the result's candidates.</summary>
    public static JobResult Run(string source, string output, JobSettings settings, string display, CancellationToken cancellation, IProgress<string>? progress)
    {
        var prune = settings.Compression.Prune!;
        if (settings.Holdout is null || !settings.Accuracy.IsSet)
        {
            throw ModelShrinkException.Error(ErrorCodes.InvalidMetadata,
                "Prune=auto needs holdout data and an accuracy budget (MaxAccuracyDrop, MinAgreement or MinCosine) to know how far pruning may go", display, "Prune");
        }

        var trial = settings.WithoutSizeBudgets() with
        {
            Compression = settings.Compression with { Quantize = settings.Compression.Quantize == QuantizeMode.Auto ? QuantizeMode.None : settings.Compression.Quantize },
            HintBetterSettings = false,
        };
        var tried = new List<CandidateOutcome>();
        var folder = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(output))!, $".modelshrink-prune-search-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        int low = -1, high = Levels.Count;
        var reconstruct = settings.Compression.Reconstruct;
        try
        {
            // Invariant: every level <= low fits, every level >= high does not.
            while (high - low > 1)
            {
                var middle = (low + high) / 2;
                var options = trial.Compression with { Prune = prune with { Auto = false, Sparsity = Levels[middle] } };
                var outcome = Trial(source, folder, trial, options, tried, display, cancellation, progress);
                if (!outcome.Fits && ReconstructionChoice.Layerwise(trial, options) is { } reconstructed)
                {
                    // SparseGPT at the same sparsity: closer to the original for (nearly) the same size.
                    outcome = Trial(source, folder, trial, reconstructed, tried, display, cancellation, progress);
                }

                if (outcome.Fits)
                {
                    low = middle;
                    reconstruct = outcome.Options.Reconstruct;
                }
                else
                {
                    high = middle;
                }
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }

        var chosen = low >= 0 ? prune with { Auto = false, Sparsity = Levels[low] } : null;
        var finalOptions = settings.Compression with { Prune = chosen, Reconstruct = reconstruct };
        var final = CompressionRun.Run(source, output, settings with { Compression = finalOptions }, display, cancellation, progress);
        var diagnostics = final.Diagnostics.ToList();
        if (chosen is null)
        {
            // The gap at the lowest level, and the ways out: the budget it would meet, or pruning off.
            var lowest = tried.Where(t => t.Options.Prune?.Sparsity == Levels[0] && t.Result.Validation is not null).MinBy(t => AccuracyBudget.Drop(t.Result.Validation!));
            var reached = lowest is null ? "" : $" (drop {AccuracyBudget.Drop(lowest.Result.Validation!):0.####} on {lowest.Result.Validation!.Metric})";
            var ways = NoFitAdvice.For(lowest is null ? [] : [lowest], settings with { Compression = settings.Compression with { Prune = prune } }, BudgetSeverity.Warning);
            diagnostics.Add(new Diagnostic(ErrorCodes.PruneSearchFoundNothing,
                $"Prune=auto: even sparsity {Levels[0]:0.0#} breaks the accuracy budget{reached}, so the model is not pruned{ways}", display, "Prune", DiagnosticSeverity.Warning));
        }

        // The final run is a candidate of its own (it alone was held to the size budgets): it takes the
        // place of the trial with the same label (the chosen level, unquantized under Auto), or joins them.
        var finalRuns = final.Candidates.Count > 0
            ? final.Candidates
            : [new CandidateOutcome(CandidateLabel.Of(finalOptions, reconstructionVaries: ReconstructionChoice.MayAdd(settings)), finalOptions, final)];
        var labels = finalRuns.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        return final with
        {
            Diagnostics = diagnostics,
            Candidates = [.. tried.Where(t => !labels.Contains(t.Name)), .. finalRuns],
            ChosenName = final.ChosenName ?? finalRuns[^1].Name,
            ChosenSparsity = chosen?.Sparsity ?? 0,
        };
    }

    private static CandidateOutcome Trial(string source, string folder, JobSettings trial, CompressionOptions options, List<CandidateOutcome> tried,
        string display, CancellationToken cancellation, IProgress<string>? progress)
    {
        var name = CandidateLabel.Of(options, reconstructionVaries: ReconstructionChoice.MayAdd(trial));
        progress?.Report($"pruning search: {name}");
        var outcome = CandidateOutcome.Run(name, source, Path.Combine(folder, "trial.onnx"), trial with { Compression = options }, display, cancellation, progress);
        tried.Add(outcome);
        return outcome;
    }
}
