using ModelShrink.Core.Plans;
using ModelShrink.Core.Budgets;
using ModelShrink.Core.Validation;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;

namespace ModelShrink.Core.Compression;

/// <summary>Everything one compression is checked against, besides what it does.</summary>
/// <param name="Compression">What to do to the model.</param>
/// <param name="Size">Size limits.</param>
/// <param name="Accuracy">Accuracy limits (need <paramref name="Holdout"/>).</param>
/// <param name="Holdout">Holdout data to validate the result on, or null.</param>
/// <param name="Validation">Which output and metric to score.</param>
public sealed record JobSettings(CompressionOptions Compression, SizeBudget Size, AccuracyBudget Accuracy, string? Holdout, ValidationOptions Validation)
{
    /// <summary>Run the configuration with every reconstruction and keep all three as candidates (a search above the job).</summary>
    public bool CompareReconstruct { get; init; }

    /// <summary>Quantize=Auto ends its search after this long and keeps the best candidate found so far; null: no limit.</summary>
    public TimeSpan? SearchTimeLimit { get; init; }

    /// <summary>The largest CPU latency a search's pick may have, as a ratio to the original's measured beside it; null: no limit (a pick is still never slower than the original when one that is not slower fits).</summary>
    public double? MaxLatencyRatio { get; init; }

    /// <summary>Warning thresholds for size (MaxSizeWarning, MaxSizeRatioWarning): a result over one is warned about, not refused.</summary>
    public SizeBudget SizeWarning { get; init; } = NoSizeWarning;

    /// <summary>Warning thresholds for accuracy (MaxAccuracyDropWarning, MinAgreementWarning, MinCosineWarning).</summary>
    public AccuracyBudget AccuracyWarning { get; init; } = NoAccuracyWarning;

    private static readonly SizeBudget NoSizeWarning = SizeBudget.WarningThresholds(null, null);

    private static readonly AccuracyBudget NoAccuracyWarning = AccuracyBudget.WarningThresholds(null, null, null);

    /// <summary>
    /// These settings with neither size budgets nor size warnings: for a run whose size is judged
    /// elsewhere (a GPU variant, held to the accuracy budgets only; a search's trial or probe).
    /// </summary>
    public JobSettings WithoutSizeBudgets() => this with { Size = new SizeBudget(null, null), SizeWarning = NoSizeWarning };

    /// <summary>These settings with neither accuracy budgets nor accuracy warnings: for a probe that only measures.</summary>
    public JobSettings WithoutAccuracyBudgets() => this with { Accuracy = new AccuracyBudget(null, null, null), AccuracyWarning = NoAccuracyWarning };

    /// <summary>Whether a plain run that loses too much names a better setting (MSH4107, MSH4108); off for a search's own candidates, whose search already looks further.</summary>
    public bool HintBetterSettings { get; init; } = true;
}

/// <summary>What a job produced and found.</summary>
/// <param name="Compression">The written model and what each pass did.</param>
/// <param name="Validation">The holdout comparison, when there was holdout data.</param>
/// <param name="Diagnostics">Warnings and budget failures.</param>
public sealed record JobResult(CompressionResult Compression, ValidationResult? Validation, IReadOnlyList<Diagnostic> Diagnostics)
{
    /// <summary>The mode that produced the output (the search's pick under Quantize=Auto).</summary>
    public QuantizeMode? Chosen { get; init; }

    /// <summary>The name of the candidate written, when the run names it itself (a comparison of reconstructions); else the report picks by <see cref="Chosen"/>.</summary>
    public string? ChosenName { get; init; }

    /// <summary>Every candidate the search tried, in order; empty without a search.</summary>
    public IReadOnlyList<CandidateOutcome> Candidates { get; init; } = [];

    /// <summary>Per-layer sensitivity the search measured (most sensitive first); empty when it measured none.</summary>
    public IReadOnlyList<Plans.LayerSensitivity> Sensitivity { get; init; } = [];

    /// <summary>The sparsity Prune=auto chose (0 when it pruned nothing); null without that search.</summary>
    public double? ChosenSparsity { get; init; }

    /// <summary>How many layers of each operator type the written model gives each precision (Quantize=Auto); empty otherwise.</summary>
    public IReadOnlyList<Plans.PlanTableRow> PlanTable { get; init; } = [];

    /// <summary>One sentence on why the search chose what it chose; null without a search.</summary>
    public string? Reason { get; init; }

    /// <summary>
    /// The run in one sentence, from its measured candidates and budgets: what was chosen and why the
    /// others were not, what a plain run did and that its budgets held, or what came closest when
    /// nothing was written (Search.RunSummary; set by Search.CompressionRun, null from a bare job).
    /// </summary>
    public string? Summary { get; init; }

    /// <summary>When the run wrote nothing: the candidate closest to the budgets, how far it missed each, and what to try; else null.</summary>
    public Budgets.Shortfall? Shortfall { get; init; }

    /// <summary>The layers the search kept in float so the accuracy budget holds.</summary>
    public IReadOnlyList<string> KeptFloat { get; init; } = [];

    /// <summary>Whether an error-level diagnostic (a broken budget) means the output must not be used.</summary>
    public bool Failed => Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error);
}

/// <summary>
/// One compression of one plan: compress, validate on holdout data, check every budget. It knows
/// nothing of searches: they compose jobs (Search.CompressionRun picks a search or a job). The caller writes the output to a staging place and moves it into
/// view only when the result has not <see cref="JobResult.Failed"/>.
/// </summary>
public static class CompressionJob
{
    /// <summary>Runs the job; <paramref name="display"/> names the model in diagnostics; <paramref name="progress"/>, when given, hears of each step.</summary>
    public static JobResult Run(string source, string output, JobSettings settings, string display, CancellationToken cancellation = default, IProgress<string>? progress = null)
    {
        if (settings.Accuracy.IsSet && settings.Holdout is null)
        {
            throw ModelShrinkException.Error(ErrorCodes.InvalidMetadata,
                "an accuracy budget (MaxAccuracyDrop, MinAgreement, MinCosine) needs holdout data to measure against", display, "Holdout");
        }

        if (settings.CompareReconstruct || settings.Compression.Prune is { Auto: true } || settings.Compression.Quantize == QuantizeMode.Auto)
        {
            throw new InvalidOperationException("a search (Quantize=Auto, Prune=auto, --compare-reconstruct) runs above the job: call Search.CompressionRun");
        }

        var compression = Compressor.Run(source, output, settings.Compression, cancellation, progress);
        var diagnostics = new List<Diagnostic>(compression.Warnings);
        if (PipelineFactory.Reconstructs(settings.Compression) && ReconstructionData.OverlapsHoldout(settings.Compression.ReconstructData, settings.Holdout))
        {
            diagnostics.Add(new Diagnostic(ErrorCodes.ReconstructOnHoldout,
                $"Reconstruct={settings.Compression.Reconstruct} was fitted on the holdout data it is scored on, so the score is optimistic; name separate ReconstructData (--reconstruct-data)",
                display, "ReconstructData", DiagnosticSeverity.Warning));
        }

        var hint = Budgets.SizeHints.For(compression.OriginalBytes, compression.FloatWeightBytes, settings.Compression.Quantize, settings.Size.MaxBytes);
        var smaller = Budgets.WaysOut.Smaller(settings.Compression.Prune, hint).ToArray();
        diagnostics.AddRange(WithinWarnings(settings.Size.Check(compression.CompressedBytes, compression.OriginalBytes, display, smaller),
            settings.SizeWarning.Check(compression.CompressedBytes, compression.OriginalBytes, display, smaller)));
        ValidationResult? validation = null;
        if (settings.Holdout is not null)
        {
            validation = ModelComparer.Compare(source, output, settings.Holdout, settings.Validation, cancellation, progress);
            var gentler = Budgets.WaysOut.Gentler(settings.Compression.Quantize, settings.Compression.Prune, settings.Compression.Reconstruct).ToArray();
            diagnostics.AddRange(WithinWarnings(settings.Accuracy.Check(validation, display, gentler), settings.AccuracyWarning.Check(validation, display, gentler)));
            // Channel pruning without refit is the likelier cause of a collapse than the quantization beside it:
            // MSH4108 names the refit, and MSH4107 (which would blame the quantize mode and measure another one,
            // still pruned the same way) is not given as well.
            if (settings.HintBetterSettings
                && (ChannelRefitHint.For(settings, validation, diagnostics, display)
                    ?? AccuracyLossWarning.For(source, output, settings, validation, diagnostics, display, cancellation)) is { } betterSetting)
            {
                diagnostics.Add(betterSetting);
            }
        }

        if (settings.MaxLatencyRatio is { } maxLatency)
        {
            var ratio = Benchmarking.LatencyBenchmark.BesideOriginal(output, source, settings.Holdout).Ratio!.Value;
            if (ratio > maxLatency)
            {
                diagnostics.Add(new Diagnostic(ErrorCodes.LatencyRatioExceeded,
                    $"CPU latency is {ratio:0.00}x the original's (measured beside it, one thread), over the MaxLatencyRatio budget of {maxLatency:0.##}; Int8Static or Quantize=Auto may run faster",
                    display, "MaxLatencyRatio", settings.Accuracy.Severity == BudgetSeverity.Error ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning));
            }
        }

        return new JobResult(compression, validation, diagnostics) { Chosen = settings.Compression.Quantize };
    }

    // A budget broken says it all; its warning threshold speaks only for a result within the budget.
    private static IEnumerable<Diagnostic> WithinWarnings(IEnumerable<Diagnostic> broken, IEnumerable<Diagnostic> warned)
    {
        var errors = broken.ToArray();
        return errors.Concat(warned.Where(w => !errors.Any(e => e.Code == w.Code)));
    }
}
