using ModelShrink.Shared;
using ModelShrink.Onnx.Diagnostics;

namespace ModelShrink.Core.Budgets;

/// <summary>Whether a broken budget stops the build or only warns.</summary>
public enum BudgetSeverity
{
    /// <summary>A broken budget is an error: the item fails and its outputs are not placed.</summary>
    Error,

    /// <summary>A broken budget is reported as a warning; the outputs are placed.</summary>
    Warning,
}

/// <summary>The size limits of one model: absolute (MaxSize) and relative to the original (MaxSizeRatio).</summary>
public sealed record SizeBudget(long? MaxBytes, double? MaxRatio, BudgetSeverity Severity = BudgetSeverity.Error)
{
    /// <summary>The suffix of the settings these limits come from: empty for the budgets, "Warning" for the warning thresholds.</summary>
    public string Suffix { get; init; } = "";

    /// <summary>The warning thresholds MaxSizeWarning and MaxSizeRatioWarning: checked with severity Warning, named after their settings.</summary>
    public static SizeBudget WarningThresholds(long? maxBytes, double? maxRatio) => new(maxBytes, maxRatio, BudgetSeverity.Warning) { Suffix = "Warning" };

    private string MaxSizeName => "MaxSize" + Suffix;

    private string MaxSizeRatioName => "MaxSizeRatio" + Suffix;

    private string Level => Suffix.Length == 0 ? "budget" : "threshold";

    /// <summary>
    /// The diagnostics for a result of <paramref name="bytes"/> from an original of <paramref name="originalBytes"/>:
    /// the budget, the size reached and the gap; a broken budget (not a warning threshold) ends with the
    /// ways out: the budget that would hold, then <paramref name="smaller"/> (a mode, pruning; see <see cref="WaysOut"/>).
    /// </summary>
    public IEnumerable<Diagnostic> Check(long bytes, long originalBytes, string file, IEnumerable<string>? smaller = null)
    {
        var severity = Severity == BudgetSeverity.Error ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning;
        var others = (smaller ?? []).ToArray();
        if (MaxBytes is { } max && bytes > max)
        {
            var help = Suffix.Length == 0 ? WaysOut.Text(MaxSizeName, ByteSize.FormatAtLeast(bytes), others, Severity) : "";
            yield return new Diagnostic(ErrorCodes.MaxSizeExceeded,
                $"compressed model is {ByteSize.Format(bytes)}, over the {MaxSizeName} {Level} of {ByteSize.Format(max)} by {ByteSize.Format(bytes - max)}{help}", file, MaxSizeName, severity);
        }

        if (MaxRatio is { } ratio && originalBytes > 0 && bytes > ratio * originalBytes)
        {
            var reached = bytes / (double)originalBytes;
            var holds = (Math.Ceiling(reached * 1000) / 1000).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
            var help = Suffix.Length == 0 ? WaysOut.Text(MaxSizeRatioName, holds, others, Severity) : "";
            yield return new Diagnostic(ErrorCodes.MaxSizeRatioExceeded,
                $"compressed model is {reached:0.###} of the original ({ByteSize.Format(bytes)} of {ByteSize.Format(originalBytes)}), over the {MaxSizeRatioName} {Level} of {ratio:0.###} by {ByteSize.Format(bytes - (long)(ratio * originalBytes))}{help}",
                file, MaxSizeRatioName, severity);
        }
    }
}
