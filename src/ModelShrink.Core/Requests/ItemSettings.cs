using System.Globalization;
using ModelShrink.Core.Budgets;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Passes.Reconstruction;
using ModelShrink.Core.Text;
using ModelShrink.Core.Validation;
using ModelShrink.Core.Validation.Metrics;
using ModelShrink.Diagnostics;

namespace ModelShrink.Core.Requests;

/// <summary>The typed settings of one &lt;CompressModel&gt; item, parsed from its metadata.</summary>
/// <param name="OutputName">The base name of the outputs (<c>name.onnx</c>, <c>name.runtime.json</c>).</param>
/// <param name="Providers">The execution providers to emit variants for, in the order the app should try them.</param>
/// <param name="Job">What to do and check: compression, budgets, holdout validation.</param>
public sealed record ItemSettings(string OutputName, IReadOnlyList<ExecutionProvider> Providers, JobSettings Job)
{
    /// <summary>Every metadata name an item may carry (case-insensitive). Anything else is refused (MSH3001).</summary>
    public static readonly IReadOnlyList<string> KnownMetadata =
    [
        "Quantize", "OutputName", "Providers", "MaxSize", "MaxSizeRatio", "BudgetSeverity",
        "Holdout", "Metric", "MetricThreshold", "MetricOutput", "MaxAccuracyDrop", "MinAgreement", "MinCosine", "Calibration",
        "Reconstruct", "ReconstructData",
        "Prune", "PruneMode", "MaxLatencyRatio", "SearchTimeLimit",
    ];

    /// <summary>
    /// Parses an item's metadata; <paramref name="file"/> names the model in errors and relative
    /// paths (Holdout, Calibration) resolve against <paramref name="projectDirectory"/>.
    /// </summary>
    public static ItemSettings Parse(IReadOnlyDictionary<string, string> metadata, string source, string file, string projectDirectory)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in metadata)
        {
            if (!KnownMetadata.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                var near = KnownMetadata.FirstOrDefault(k => k.StartsWith(name[..Math.Min(3, name.Length)], StringComparison.OrdinalIgnoreCase));
                throw ModelShrinkException.Error(ErrorCodes.UnknownMetadata,
                    $"unknown metadata '{name}' on <CompressModel>{(near is null ? "" : $"; did you mean '{near}'?")} (known: {string.Join(", ", KnownMetadata)})",
                    file, name);
            }

            if (!string.IsNullOrWhiteSpace(value))
            {
                values[name] = value.Trim();
            }
        }

        var outputName = values.GetValueOrDefault("OutputName") ?? Path.GetFileNameWithoutExtension(source);
        if (outputName.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || outputName.Contains('/') || outputName.Contains('\\') || outputName is "." or "..")
        {
            throw Invalid(file, "OutputName", $"'{outputName}' is not a plain file name");
        }

        var quantize = ParseEnum<QuantizeMode>(values.GetValueOrDefault("Quantize") ?? nameof(QuantizeMode.None), file, "Quantize");
        if (!PipelineFactory.RequestableModes.Contains(quantize))
        {
            throw Invalid(file, "Quantize", $"'{quantize}' is not available yet; choose one of {string.Join(", ", PipelineFactory.RequestableModes)}");
        }

        long? maxSize = null;
        if (values.TryGetValue("MaxSize", out var maxSizeText))
        {
            maxSize = ByteSize.TryParse(maxSizeText, out var bytes)
                ? bytes
                : throw Invalid(file, "MaxSize", $"'{maxSizeText}' is not a size such as 20MB (units B, KB, MB, GB; 1 KB = 1024 B; no space)");
        }

        var severity = ParseEnum<BudgetSeverity>(values.GetValueOrDefault("BudgetSeverity") ?? nameof(BudgetSeverity.Error), file, "BudgetSeverity");
        var providers = (values.GetValueOrDefault("Providers") ?? "CPU")
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => ParseEnum<ExecutionProvider>(p, file, "Providers"))
            .Distinct()
            .ToArray();

        var holdout = values.GetValueOrDefault("Holdout") is { } holdoutText ? Path.GetFullPath(holdoutText, projectDirectory) : null;
        var reconstruct = ParseEnum<ReconstructMode>(values.GetValueOrDefault("Reconstruct") ?? nameof(ReconstructMode.None), file, "Reconstruct");
        var reconstructData = values.GetValueOrDefault("ReconstructData") is { } dataText ? Path.GetFullPath(dataText, projectDirectory) : holdout;
        if (reconstruct != ReconstructMode.None && reconstructData is null)
        {
            throw Invalid(file, "Reconstruct", $"Reconstruct={reconstruct} needs data to measure on: set Holdout or ReconstructData");
        }


        // Int8Static calibrates on Calibration, else on the holdout data (with a warning from the pass).
        var calibration = values.GetValueOrDefault("Calibration") is { } calibrationText ? Path.GetFullPath(calibrationText, projectDirectory) : null;
        var staticOptions = new Passes.Int8Static.Int8StaticOptions { CalibrationData = calibration ?? holdout, CalibrationFromHoldout = calibration is null && holdout is not null };
        var metric = values.GetValueOrDefault("Metric") is { } metricText ? ParseEnum<Metric>(metricText, file, "Metric") : (Metric?)null;
        var prune = Passes.Pruning.PruneModeText.FromSettings(values.GetValueOrDefault("Prune"), values.GetValueOrDefault("PruneMode"), "Prune", "PruneMode",
            (setting, problem) => Invalid(file, setting, problem));
        var job = new JobSettings(
            new CompressionOptions { Quantize = quantize, Prune = prune, Reconstruct = reconstruct, ReconstructData = reconstructData, Int8Static = staticOptions },
            new SizeBudget(maxSize, Fraction(values, "MaxSizeRatio", file, allowAboveOne: true), severity),
            new AccuracyBudget(Fraction(values, "MaxAccuracyDrop", file), Fraction(values, "MinAgreement", file), Fraction(values, "MinCosine", file), severity),
            holdout,
            new ValidationOptions(values.GetValueOrDefault("MetricOutput"), metric) { Threshold = Fraction(values, "MetricThreshold", file) ?? 0.5 })
        {
            MaxLatencyRatio = Fraction(values, "MaxLatencyRatio", file, allowAboveOne: true),
            SearchTimeLimit = Fraction(values, "SearchTimeLimit", file, allowAboveOne: true) is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
        };
        return new ItemSettings(outputName, providers, job);
    }

    private static double? Fraction(Dictionary<string, string> values, string setting, string file, bool allowAboveOne = false)
    {
        if (!values.TryGetValue(setting, out var text))
        {
            return null;
        }

        return double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) && value >= 0 && (allowAboveOne || value <= 1)
            ? value
            : throw Invalid(file, setting, $"'{text}' is not a number {(allowAboveOne ? "of 0 or more" : "from 0 to 1")} such as 0.01");
    }

    private static T ParseEnum<T>(string text, string file, string setting) where T : struct, Enum =>
        EnumNames.TryParse<T>(text, out var value) ? value : throw Invalid(file, setting, $"'{text}' is not one of {EnumNames.List<T>()}");

    private static ModelShrinkException Invalid(string file, string setting, string problem) =>
        ModelShrinkException.Error(ErrorCodes.InvalidMetadata, $"{setting}: {problem}", file, setting);
}
