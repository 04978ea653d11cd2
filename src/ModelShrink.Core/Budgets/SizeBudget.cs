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

    /// <summary>The diagnostics for a result of <paramref name="bytes"/> from an original of <paramref name="originalBytes"/>.</summary>
    public IEnumerable<Diagnostic> Check(long bytes, long originalBytes, string file, string? hint = null)
    {
        var severity = Severity == BudgetSeverity.Error ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning;
        var help = hint is null ? "" : $"; {hint}";
        if (MaxBytes is { } max && bytes > max)
        {
            yield return new Diagnostic(ErrorCodes.MaxSizeExceeded,
                $"compressed model is {ByteSize.Format(bytes)}, over the {MaxSizeName} {Level} of {ByteSize.Format(max)}{help}", file, MaxSizeName, severity);
        }

        if (MaxRatio is { } ratio && originalBytes > 0 && bytes > ratio * originalBytes)
        {
            yield return new Diagnostic(ErrorCodes.MaxSizeRatioExceeded,
                $"compressed model is {bytes / (double)originalBytes:0.###} of the original ({ByteSize.Format(bytes)} of {ByteSize.Format(originalBytes)}), over the {MaxSizeRatioName} {Level} of {ratio:0.###}{help}",
                file, MaxSizeRatioName, severity);
        }
    }
}
