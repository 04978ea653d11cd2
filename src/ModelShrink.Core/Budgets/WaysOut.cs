using ModelShrink.Core.Passes.Pruning;
using ModelShrink.Core.Passes.Reconstruction;
using ModelShrink.Core.Plans;

namespace ModelShrink.Core.Budgets;

/// <summary>
/// The end of a broken budget's message: the cheapest ways out, in the order a developer would try
/// them. The budget that would hold (the setting set to the value reached), the layer-wise refit for
/// channels pruned without it, a mode or pruning that should reach the budget, and, for an error,
/// BudgetSeverity=Warning to place the result anyway.
/// </summary>
public static class WaysOut
{
    /// <summary>"; ways out: MaxSize=188KB, ..., or BudgetSeverity=Warning to place it anyway".</summary>
    /// <param name="setting">The broken setting.</param>
    /// <param name="holds">The value of <paramref name="setting"/> at which this result passes.</param>
    /// <param name="others">Other changes that should help (a mode, pruning), best first.</param>
    /// <param name="severity">Error adds BudgetSeverity=Warning.</param>
    public static string Text(string setting, string holds, IEnumerable<string> others, BudgetSeverity severity) =>
        Join([$"{setting}={holds}", .. others], severity);

    /// <summary>"; ways out: A, B, or BudgetSeverity=Warning to place it anyway" (the last only for an error); empty when there is none.</summary>
    public static string Join(IEnumerable<string> waysOut, BudgetSeverity severity)
    {
        var ways = List(waysOut, severity);
        return ways.Count == 0 ? "" : "; ways out: " + (ways.Count == 1 ? ways[0] : string.Join(", ", ways.Take(ways.Count - 1)) + ", or " + ways[^1]);
    }

    /// <summary>The ways out as a list (for the report's shortfall): <paramref name="waysOut"/>, then BudgetSeverity=Warning for an error.</summary>
    public static IReadOnlyList<string> List(IEnumerable<string> waysOut, BudgetSeverity severity) =>
        [.. waysOut, .. severity == BudgetSeverity.Error ? ["BudgetSeverity=Warning to place it anyway"] : Array.Empty<string>()];

    /// <summary>What makes a model smaller than a run with <paramref name="prune"/> did: a smaller mode (the size hint) and pruning when none ran.</summary>
    public static IEnumerable<string> Smaller(PruneOptions? prune, string? modeHint)
    {
        if (modeHint is not null)
        {
            yield return modeHint;
        }

        if (prune is null)
        {
            yield return "Prune=0.5 with PruneMode=channels (whole channels go)";
        }
    }

    /// <summary>
    /// What should lose less accuracy than <paramref name="mode"/> with <paramref name="pruning"/> and <paramref name="reconstruct"/>:
    /// the layer-wise refit when channels were pruned without it, a gentler mode, and less pruning when it pruned.
    /// </summary>
    public static IEnumerable<string> Gentler(QuantizeMode mode, PruneOptions? pruning, ReconstructMode reconstruct)
    {
        // First: it keeps the size the run reached and wins back what norms alone lost (ppocr-cls at 0.3: 51.6% -> 96.9%);
        // worded as MSH4108 words it.
        if (pruning is { Method: PruneMethod.Channels } && reconstruct != ReconstructMode.Layerwise)
        {
            yield return "Reconstruct=Layerwise (--reconstruct layerwise) with ReconstructData (--reconstruct-data) apart from the holdout "
                + "(the channels chosen on the data, the layers that read them refit)";
        }

        var gentler = mode switch
        {
            QuantizeMode.Int4 => "Quantize=Int8, or Auto (the sensitive layers stay float)",
            QuantizeMode.Int8 => "Quantize=Auto (the sensitive layers stay float), or Int8Static with Calibration data",
            QuantizeMode.Int8Static => "Quantize=Auto (the sensitive layers stay float), or CalibrationMethod=percentile",
            QuantizeMode.Fp16 => "Fp16BlockNodes or Fp16BlockOps for the layers float16 cannot hold",
            _ => null,
        };
        if (gentler is not null)
        {
            yield return gentler;
        }

        if (pruning is { } prune)
        {
            yield return prune.Auto ? "a MaxAccuracyDrop that Prune=auto's lowest sparsity meets" : $"a Prune sparsity below {prune.Sparsity:0.##} (or Prune=auto)";
        }
    }
}
