using System.Globalization;
using ModelShrink.Core.Budgets;
using ModelShrink.Core.Compression;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;

namespace ModelShrink.Core.Search;

/// <summary>
/// The ways out of a search that found nothing within the budgets (MSH4103): for the smallest
/// candidates, the budgets that would let each through, set to the values it reached ("MaxSize=94.4KB
/// lets Fp16 (94.38KB) through"); then pruning when none ran, and BudgetSeverity=Warning.
/// </summary>
public static class NoFitAdvice
{
    /// <summary>How many candidates' relaxations are named.</summary>
    private const int Named = 2;

    /// <summary>The budget settings <paramref name="candidate"/> broke (with MaxLatencyRatio when it fit but ran slower).</summary>
    public static IReadOnlyList<string> Broken(CandidateOutcome candidate, double? maxLatencyRatio) =>
        candidate.Result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.Setting ?? "")
            .Concat(candidate.Fits && candidate.LatencyRatio > maxLatencyRatio ? ["MaxLatencyRatio"] : [])
            .Distinct()
            .ToArray();

    /// <summary>"; ways out: ..." for the candidates of a failed search; <paramref name="severity"/> (default: the budgets') decides whether BudgetSeverity=Warning is offered.</summary>
    public static string For(IReadOnlyList<CandidateOutcome> tried, JobSettings settings, BudgetSeverity? severity = null) =>
        WaysOut.Join(Ways(tried, settings), severity ?? settings.Size.Severity);

    /// <summary>
    /// The ways out of a failed search, without BudgetSeverity=Warning (see <see cref="WaysOut.List"/>): the budgets that let
    /// the smallest candidates through, then pruning when none ran and <paramref name="suggestPruning"/>.
    /// </summary>
    public static IReadOnlyList<string> Ways(IReadOnlyList<CandidateOutcome> tried, JobSettings settings, bool suggestPruning = true)
    {
        var ways = new List<string>();
        foreach (var candidate in tried.Where(t => t.Applies).OrderBy(t => t.Result.Compression.CompressedBytes))
        {
            if (Relaxations(candidate, Broken(candidate, settings.MaxLatencyRatio)) is { Count: > 0 } relax)
            {
                ways.Add($"{string.Join(" and ", relax)} lets {candidate.Name} ({ByteSize.Format(candidate.Result.Compression.CompressedBytes)}) through");
            }

            if (ways.Count == Named)
            {
                break;
            }
        }

        if (settings.Compression.Prune is null && suggestPruning)
        {
            ways.Add("Prune=auto (or a Prune sparsity) before the search");
        }

        return ways;
    }

    // Each broken setting set to the value the candidate reached; null when one of them has no such
    // value (non-finite outputs: no budget lets those through).
    private static List<string>? Relaxations(CandidateOutcome candidate, IReadOnlyList<string> broken)
    {
        var result = candidate.Result;
        var values = new List<string>();
        foreach (var setting in broken)
        {
            string? value = setting switch
            {
                "MaxSize" => ByteSize.FormatAtLeast(result.Compression.CompressedBytes),
                "MaxSizeRatio" => Up(result.Compression.CompressedBytes / (double)Math.Max(1, result.Compression.OriginalBytes), 1000),
                "MaxAccuracyDrop" when result.Validation is { } v => Up(AccuracyBudget.Drop(v), 10000),
                "MinAgreement" when result.Validation?.Values.Agreement is { } agreement => Down(agreement, 10000),
                "MinCosine" when result.Validation is { } v && double.IsFinite(v.Values.Cosine) => Down(v.Values.Cosine, 10000),
                "MaxLatencyRatio" when candidate.LatencyRatio is { } ratio => Up(ratio, 100),
                _ => null,
            };
            if (value is null)
            {
                return null;
            }

            values.Add($"{setting}={value}");
        }

        return values;
    }

    private static string Up(double value, double scale) => (Math.Ceiling(value * scale) / scale).ToString("0.####", CultureInfo.InvariantCulture);

    private static string Down(double value, double scale) => (Math.Floor(value * scale) / scale).ToString("0.####", CultureInfo.InvariantCulture);
}
