using System.Globalization;
using ModelShrink.Core.Budgets;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Validation.Metrics;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;

namespace ModelShrink.Core.Search;

/// <summary>
/// How far a candidate missed each budget it broke, from the numbers its job measured. The budgets
/// broken are the ones its diagnostics name (<see cref="NoFitAdvice.Broken"/>), so a search's trial
/// that was not held to a budget is not said to break it.
/// </summary>
public static class BudgetMisses
{
    /// <summary>The budget settings a broken-budget diagnostic can name.</summary>
    public static readonly IReadOnlyList<string> Budgets = ["MaxSize", "MaxSizeRatio", "MaxAccuracyDrop", "MinAgreement", "MinCosine", "MaxLatencyRatio"];

    /// <summary>Each error of <paramref name="candidate"/> as a miss: by how much it broke each budget.</summary>
    public static IReadOnlyList<BudgetMiss> Of(CandidateOutcome candidate, JobSettings settings) =>
        NoFitAdvice.Broken(candidate, settings.MaxLatencyRatio).Select(s => Miss(s, candidate, settings)).ToArray();

    /// <summary>The budgets <paramref name="candidate"/> broke at warning level (BudgetSeverity=Warning): placed anyway, but broken.</summary>
    public static IReadOnlyList<BudgetMiss> Warned(CandidateOutcome candidate, JobSettings settings) =>
        candidate.Result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Warning && Budgets.Contains(d.Setting))
            .Select(d => d.Setting!).Distinct().Select(s => Miss(s, candidate, settings)).ToArray();

    /// <summary>How far <paramref name="candidate"/> missed <paramref name="setting"/>; the setting alone when there is no number to give.</summary>
    public static BudgetMiss Miss(string setting, CandidateOutcome candidate, JobSettings settings)
    {
        var compression = candidate.Result.Compression;
        var v = candidate.Result.Validation;
        var share = v?.Metric.IsShare() == true;
        var miss = setting switch
        {
            "MaxSize" when settings.Size.MaxBytes is { } max =>
                Over(setting, max, compression.CompressedBytes, bytes => ByteSize.Format((long)Math.Round(bytes))),
            "MaxSizeRatio" when settings.Size.MaxRatio is { } max && compression.OriginalBytes > 0 =>
                Over(setting, max, compression.CompressedBytes / (double)compression.OriginalBytes, x => Number(x, "0.###")),
            "MaxAccuracyDrop" when settings.Accuracy.MaxDrop is { } max && v is not null =>
                Over(setting, max, AccuracyBudget.Drop(v), x => share ? Points(x) : Number(x, "0.####")),
            "MinAgreement" when settings.Accuracy.MinAgreement is { } min && v?.Values.Agreement is { } agreement =>
                Under(setting, min, agreement, Points),
            "MinCosine" when settings.Accuracy.MinCosine is { } min && v is not null =>
                Under(setting, min, v.Values.Cosine, x => Number(x, "0.######")),
            "MaxLatencyRatio" when settings.MaxLatencyRatio is { } max && candidate.LatencyRatio is { } ratio =>
                Over(setting, max, ratio, x => Number(x, "0.00") + "x"),
            _ => null,
        };
        return miss ?? new BudgetMiss(setting, null, null, null, setting);
    }

    private static BudgetMiss? Over(string setting, double limit, double reached, Func<double, string> format) =>
        double.IsFinite(reached) ? new BudgetMiss(setting, limit, reached, reached - limit, $"{setting} by {format(reached - limit)}") : null;

    private static BudgetMiss? Under(string setting, double limit, double reached, Func<double, string> format) =>
        double.IsFinite(reached) ? new BudgetMiss(setting, limit, reached, limit - reached, $"{setting} by {format(limit - reached)}") : null;

    /// <summary>A share (0-1) as percentage points: 0.021 is "2.1 pt".</summary>
    public static string Points(double share) => Number(share * 100, "0.0#") + " pt";

    private static string Number(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
