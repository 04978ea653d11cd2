using System.Globalization;
using ModelShrink.Core.Validation;
using ModelShrink.Core.Validation.Metrics;

namespace ModelShrink.Cli.Output;

/// <summary>The human-readable form of <c>modelshrink validate</c>.</summary>
public static class ValidationText
{
    /// <summary>Writes the headline metric, then every metric that applies.</summary>
    public static void Write(TextWriter w, ValidationResult r)
    {
        var v = r.Values;
        w.WriteLine($"{r.Metric}: {Format(r.Metric, r.Value)} on output '{r.Output}' over {v.Samples} samples ({r.Holdout})");
        foreach (var metric in Enum.GetValues<Metric>())
        {
            if (v.Get(metric) is { } value)
            {
                var baseline = v.Baseline(metric) is { } b ? $" (original {Format(metric, b)})" : "";
                w.WriteLine($"  {metric,-10} {Format(metric, value)}{baseline}");
            }
        }
    }

    private static string Format(Metric metric, double value) => metric switch
    {
        _ when metric.IsShare() => (value * 100).ToString("0.00", CultureInfo.InvariantCulture) + "%",
        Metric.Snr => double.IsPositiveInfinity(value) ? "inf dB" : value.ToString("0.0", CultureInfo.InvariantCulture) + " dB",
        _ => value.ToString("G6", CultureInfo.InvariantCulture),
    };
}
