using ModelShrink.Shared;
using ModelShrink.Core.Plans;
using ModelShrink.Core.Budgets;
using ModelShrink.Core.Validation;
using ModelShrink.Core.Validation.Metrics;
using ModelShrink.Onnx.Diagnostics;

namespace ModelShrink.Core.Compression;

/// <summary>
/// MSH4107: a plain mode that loses more than its accuracy budget on the holdout (or, without a
/// budget, more than <see cref="CollapseDrop"/>) says so and names a better setting: for int8 with
/// one scale per tensor, the per-channel result, measured; otherwise Quantize=Auto, which searches
/// per-layer plans within the budget. A build step that silently collapses a model is worse than one
/// that fails.
/// </summary>
public static class AccuracyLossWarning
{
    /// <summary>Without an accuracy budget, a drop of the headline metric above this (5 points) is called out.</summary>
    public const double CollapseDrop = 0.05;

    /// <summary>The warning for a plain job's result, or null when the loss is within bounds.</summary>
    public static Diagnostic? For(string source, string output, JobSettings settings, ValidationResult validation, IReadOnlyList<Diagnostic> diagnostics, string display, CancellationToken cancellation)
    {
        var options = settings.Compression;
        if (options.Plan is not null || options.Quantize == QuantizeMode.None || Loss(settings, validation, diagnostics) is not { } loss)
        {
            return null;
        }

        var (drop, broken) = loss;
        var lost = $"{options.Quantize} {(options.Quantize == QuantizeMode.Int8 && !options.Int8.PerChannel ? "with one scale per tensor " : "")}lost {drop * 100:0.#} points of {validation.Metric} on the holdout{(broken ? ", over the budget" : "")}";
        return new Diagnostic(ErrorCodes.AccuracyLossHint, $"{lost}; {Better(source, output, settings, display, cancellation)}", display, "Quantize", DiagnosticSeverity.Warning);
    }

    /// <summary>
    /// What a result lost that calls for a better setting: the drop of the headline metric, and whether an
    /// accuracy budget broke; null when no budget broke and, without a budget, the share metric dropped
    /// <see cref="CollapseDrop"/> or less (or the metric is not a share, whose drop has no common scale).
    /// </summary>
    internal static (double Drop, bool Broken)? Loss(JobSettings settings, ValidationResult validation, IReadOnlyList<Diagnostic> diagnostics)
    {
        var drop = AccuracyBudget.Drop(validation);
        var broken = diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error && AccuracyBudget.Settings.Contains(d.Setting));
        var collapsed = !settings.Accuracy.IsSet && validation.Metric.IsShare() && drop > CollapseDrop;
        return broken || collapsed ? (drop, broken) : null;
    }

    private static string Better(string source, string output, JobSettings settings, string display, CancellationToken cancellation)
    {
        const string auto = "Quantize=Auto (--quantize auto) searches per-layer plans within the budget";
        var options = settings.Compression;
        if (options.Quantize != QuantizeMode.Int8 || options.Int8.PerChannel)
        {
            return auto;
        }

        // Measured: the same run with one scale per output channel.
        var file = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(output))!, $".modelshrink-per-channel-{Guid.NewGuid():N}.onnx");
        try
        {
            var perChannel = settings.WithoutSizeBudgets().WithoutAccuracyBudgets() with { Compression = options with { Int8 = options.Int8 with { PerChannel = true } }, MaxLatencyRatio = null, HintBetterSettings = false };
            var result = CompressionJob.Run(source, file, perChannel, display, cancellation);
            return $"with one scale per channel (--per-channel true, the default) it loses {AccuracyBudget.Drop(result.Validation!) * 100:0.#} points at {ByteSize.Format(result.Compression.CompressedBytes)}; or {auto}";
        }
        finally
        {
            File.Delete(file);
        }
    }
}
