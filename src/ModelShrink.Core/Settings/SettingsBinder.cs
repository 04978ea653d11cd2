using ModelShrink.Core.Plans;
using ModelShrink.Core.Budgets;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Passes.Reconstruction;
using ModelShrink.Core.Providers;
using ModelShrink.Core.Validation;
using ModelShrink.Core.Validation.Metrics;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Shared.Settings;
using Catalog = ModelShrink.Shared.Settings.SettingCatalog;

namespace ModelShrink.Core.Settings;

/// <summary>
/// Turns the settings a user gave (metadata or command line) into what the engine runs: the one
/// place where values are parsed, defaulted and checked against each other.
/// </summary>
public static class SettingsBinder
{
    /// <summary>The job an item or a <c>compress</c> command asks for.</summary>
    public static JobSettings Job(SettingValues values)
    {
        var quantize = values.Choice<QuantizeMode>(Catalog.Quantize);
        if (!PipelineFactory.RequestableModes.Contains(quantize))
        {
            throw values.Invalid(Catalog.Quantize, $"'{quantize}' is not available yet; choose one of {string.Join(", ", PipelineFactory.RequestableModes)}");
        }

        var holdout = values.Path(Catalog.Holdout);
        var reconstruct = values.Choice<ReconstructMode>(Catalog.Reconstruct);
        var reconstructData = values.Path(Catalog.ReconstructData) ?? holdout;
        if (reconstruct != ReconstructMode.None && reconstructData is null)
        {
            throw values.Invalid(Catalog.Reconstruct, $"'{reconstruct}' needs data to measure on: set {values.Display(Catalog.ReconstructData)} or {values.Display(Catalog.Holdout)}");
        }

        var compareReconstruct = values.Switch(Catalog.CompareReconstruct);
        if (compareReconstruct && (quantize == QuantizeMode.Auto || string.Equals(values.Text(Catalog.Prune), "auto", StringComparison.OrdinalIgnoreCase)))
        {
            throw values.Invalid(Catalog.CompareReconstruct,
                $"comparing reconstructions needs one configuration; {values.Display(Catalog.Quantize)} Auto and {values.Display(Catalog.Prune)} auto search for one (their reports list their own candidates)");
        }

        if (compareReconstruct && holdout is null)
        {
            throw ModelShrinkException.Error(ErrorCodes.ReconstructNeedsData,
                $"{values.Display(Catalog.CompareReconstruct)}: comparing reconstructions measures each on holdout data: give {values.Display(Catalog.Holdout)} (and {values.Display(Catalog.ReconstructData)} to fit on other data)",
                values.File, values.Display(Catalog.CompareReconstruct));
        }

        var compression = new CompressionOptions
        {
            Quantize = quantize,
            Cleanup = PassSettings.Cleanup(values),
            Fp16 = PassSettings.Fp16(values),
            Int8 = PassSettings.Int8(values),
            Int4 = PassSettings.Int4(values),
            Int8Static = PassSettings.Int8Static(values, holdout),
            Reconstruct = reconstruct,
            ReconstructData = reconstructData,
            Layerwise = PassSettings.Layerwise(values),
            Prune = PassSettings.Prune(values),
        };
        var severity = values.Choice<BudgetSeverity>(Catalog.BudgetSeverity);
        return new JobSettings(
            compression,
            new SizeBudget(values.Size(Catalog.MaxSize), values.Number(Catalog.MaxSizeRatio), severity),
            new AccuracyBudget(values.Fraction(Catalog.MaxAccuracyDrop), values.Fraction(Catalog.MinAgreement), values.Fraction(Catalog.MinCosine), severity),
            holdout,
            Validation(values))
        {
            CompareReconstruct = compareReconstruct,
            MaxLatencyRatio = values.Number(Catalog.MaxLatencyRatio),
            SizeWarning = SizeBudget.WarningThresholds(values.Size(Catalog.MaxSizeWarning), values.Number(Catalog.MaxSizeRatioWarning)),
            AccuracyWarning = AccuracyBudget.WarningThresholds(values.Fraction(Catalog.MaxAccuracyDropWarning), values.Fraction(Catalog.MinAgreementWarning), values.Fraction(Catalog.MinCosineWarning)),
            SearchTimeLimit = values.Number(Catalog.SearchTimeLimit) is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
        };
    }

    /// <summary>How a candidate is scored: the metric, its threshold and the output it reads.</summary>
    public static ValidationOptions Validation(SettingValues values) =>
        new(values.Text(Catalog.MetricOutput), values.OptionalChoice<Metric>(Catalog.Metric)) { Threshold = values.Fraction(Catalog.MetricThreshold)!.Value };

    /// <summary>An item's settings: its job, output name and providers; <paramref name="source"/> is the model, whose name is the default output name.</summary>
    public static ItemSettings Item(SettingValues values, string source)
    {
        var outputName = values.Text(Catalog.OutputName) ?? Path.GetFileNameWithoutExtension(source);
        if (outputName.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || outputName.Contains('/') || outputName.Contains('\\') || outputName is "." or "..")
        {
            throw values.Invalid(Catalog.OutputName, $"'{outputName}' is not a plain file name");
        }

        return new ItemSettings(outputName, Providers(values), Job(values));
    }

    /// <summary>The execution providers to write variants for, in the order given (CPU when none is named).</summary>
    public static IReadOnlyList<ExecutionProvider> Providers(SettingValues values) =>
        values.List(Catalog.Providers)
            .Select(p => Text.EnumNames.TryParse<ExecutionProvider>(p, out var provider)
                ? provider
                : throw values.Invalid(Catalog.Providers, $"'{p}' is not one of {string.Join(", ", Catalog.Providers.Choices)}"))
            .Distinct()
            .ToArray();

    /// <summary>Refuses a name that is no setting of <paramref name="surface"/>, suggesting the nearest (MSH3001 for metadata).</summary>
    public static void CheckKnown(string name, SettingSurface surface, string? file)
    {
        var known = Catalog.All.Where(s => s.On(surface)).Select(s => s.Name).ToArray();
        if (known.Contains(name, StringComparer.OrdinalIgnoreCase)
            || (surface == SettingSurface.Item && Catalog.StandardItemMetadata.Contains(name, StringComparer.OrdinalIgnoreCase)))
        {
            return;
        }

        var near = Text.NearestName.For(name, known);
        throw ModelShrinkException.Error(ErrorCodes.UnknownMetadata,
            $"unknown metadata '{name}' on <CompressModel>{(near is null ? "" : $"; did you mean '{near}'?")} (known: {string.Join(", ", known)})",
            file, name);
    }
}
