using ModelShrink.Core.Validation;
using ModelShrink.Core.Validation.Metrics;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;

namespace ModelShrink.Core.Budgets;

/// <summary>
/// The accuracy limits of one model, checked on the holdout result: MaxAccuracyDrop (in absolute
/// points of the headline metric, e.g. 0.01 = one percentage point below the original; for
/// Agreement and Cosine the original scores 1), MinAgreement and MinCosine.
/// </summary>
public sealed record AccuracyBudget(double? MaxDrop, double? MinAgreement, double? MinCosine, BudgetSeverity Severity = BudgetSeverity.Error)
{
    /// <summary>The settings whose diagnostics say an accuracy limit was broken.</summary>
    public static readonly IReadOnlyList<string> Settings = ["MaxAccuracyDrop", "MinAgreement", "MinCosine"];

    /// <summary>
    /// The suffix of the settings these limits come from: empty for the budgets, "Warning" for the
    /// warning thresholds (MaxAccuracyDropWarning, ...), which are checked with severity Warning.
    /// </summary>
    public string Suffix { get; init; } = "";

    /// <summary>The warning thresholds MaxAccuracyDropWarning, MinAgreementWarning and MinCosineWarning: checked with severity Warning, named after their settings.</summary>
    public static AccuracyBudget WarningThresholds(double? maxDrop, double? minAgreement, double? minCosine) =>
        new(maxDrop, minAgreement, minCosine, BudgetSeverity.Warning) { Suffix = "Warning" };

    private string MaxAccuracyDropName => "MaxAccuracyDrop" + Suffix;

    private string MinAgreementName => "MinAgreement" + Suffix;

    private string MinCosineName => "MinCosine" + Suffix;

    private string Level => Suffix.Length == 0 ? "budget" : "threshold";

    /// <summary>Whether any limit is set.</summary>
    public bool IsSet => MaxDrop is not null || MinAgreement is not null || MinCosine is not null;

    /// <summary>How far the candidate fell from the original on the headline metric (positive = worse).</summary>
    public static double Drop(ValidationResult result)
    {
        var baseline = result.Values.Baseline(result.Metric) ?? (result.Metric.HigherIsBetter() ? (result.Metric == Metric.Snr ? double.PositiveInfinity : 1) : 0);
        return result.Metric.HigherIsBetter() ? baseline - result.Value : result.Value - baseline;
    }

    /// <summary>
    /// The diagnostics for <paramref name="result"/>: the budget, the value reached and the gap; a broken
    /// budget (not a warning threshold) ends with the ways out: the budget that would hold, then
    /// <paramref name="gentler"/> (a mode, less pruning; see <see cref="WaysOut"/>).
    /// </summary>
    public IEnumerable<Diagnostic> Check(ValidationResult result, string file, IEnumerable<string>? gentler = null)
    {
        var others = (gentler ?? []).ToArray();
        string Help(string setting, double holds, bool up) => Suffix.Length == 0
            ? WaysOut.Text(setting, (up ? Math.Ceiling(holds * 10000) / 10000 : Math.Floor(holds * 10000) / 10000).ToString("0.####", System.Globalization.CultureInfo.InvariantCulture), others, Severity)
            : "";
        var severity = Severity == BudgetSeverity.Error ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning;
        if (NonFinite(result, file, IsSet ? severity : DiagnosticSeverity.Warning) is { } nonFinite)
        {
            yield return nonFinite;
        }

        // Written as "not within" so that a NaN metric (which compares false) breaks the budget.
        if (MaxDrop is { } maxDrop && result.Metric != Metric.Snr && !(Drop(result) <= maxDrop + 1e-12))
        {
            yield return new Diagnostic(ErrorCodes.AccuracyDropExceeded,
                $"{result.Metric} is {Describe(result.Metric, result.Value)} against the original's {Describe(result.Metric, result.Value + (result.Metric.HigherIsBetter() ? Drop(result) : -Drop(result)))}: a drop of {Drop(result):0.####}, over the {MaxAccuracyDropName} {Level} of {maxDrop:0.####} by {Drop(result) - maxDrop:0.####} (output '{result.Output}', {result.Values.Samples} samples){Help(MaxAccuracyDropName, Drop(result), up: true)}",
                file, MaxAccuracyDropName, severity);
        }

        if (MinAgreement is { } minAgreement && (result.Values.Agreement ?? 0) < minAgreement)
        {
            yield return new Diagnostic(ErrorCodes.AgreementBelowMinimum,
                result.Values.Agreement is { } agreement
                    ? $"top-1 agreement with the original is {Percent(agreement)}, under the {MinAgreementName} {Level} of {Percent(minAgreement)} by {(minAgreement - agreement) * 100:0.00} points (output '{result.Output}', {result.Values.Samples} samples){Help(MinAgreementName, agreement, up: false)}"
                    : $"output '{result.Output}' has no class axis, so MinAgreement cannot be checked; use MinCosine",
                file, MinAgreementName, severity);
        }

        if (MinCosine is { } minCosine && !(result.Values.Cosine >= minCosine))
        {
            yield return new Diagnostic(ErrorCodes.CosineBelowMinimum,
                $"cosine similarity with the original is {result.Values.Cosine:0.#########}, under the {MinCosineName} {Level} of {minCosine:0.#########} by {minCosine - result.Values.Cosine:0.#########} (output '{result.Output}'){(double.IsFinite(result.Values.Cosine) ? Help(MinCosineName, result.Values.Cosine, up: false) : "")}",
                file, MinCosineName, severity);
        }
    }

    /// <summary>
    /// MSH4008 when the candidate gave NaN or infinite values where the original's were finite (the
    /// comparer refuses a non-finite original itself), at <paramref name="severity"/>; else null.
    /// </summary>
    public static Diagnostic? NonFinite(ValidationResult result, string file, DiagnosticSeverity severity) =>
        result.Values.CandidateNonFinite == 0 ? null : new Diagnostic(ErrorCodes.CandidateOutputNotFinite,
            $"the compressed model gives {result.Values.CandidateNonFinite} NaN or infinite values for output '{result.Output}' on the holdout data, where the original's are finite",
            file, "Holdout", severity);

    private static string Describe(Metric metric, double value) =>
        metric.IsShare() ? Percent(value) : value.ToString("0.######", System.Globalization.CultureInfo.InvariantCulture);

    private static string Percent(double value) => (value * 100).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) + "%";
}
