using ModelShrink.Core.Calibration;
using ModelShrink.Core.Passes.Cleanup;
using ModelShrink.Core.Passes.Fp16;
using ModelShrink.Core.Passes.Int4WeightOnly;
using ModelShrink.Core.Passes.Int8Dynamic;
using ModelShrink.Core.Passes.Int8Static;
using ModelShrink.Core.Passes.Pruning;
using ModelShrink.Core.Passes.Reconstruction.Layerwise;
using ModelShrink.Core.Quantization;
using Catalog = ModelShrink.Shared.Settings.SettingCatalog;

namespace ModelShrink.Core.Settings;

/// <summary>Each pass's options record, read from the settings that belong to it.</summary>
internal static class PassSettings
{
    public static CleanupOptions Cleanup(SettingValues values) => new()
    {
        TargetOpset = values.Integer(Catalog.Opset, UpgradeOpsetPass.MinOpset, UpgradeOpsetPass.MaxOpset),
        UseOrtOptimizer = values.Switch(Catalog.OrtOptimize),
    };

    public static Int8DynamicOptions Int8(SettingValues values)
    {
        var options = new Int8DynamicOptions
        {
            PerChannel = values.Switch(Catalog.PerChannel),
            WeightType = values.Choice<WeightType>(Catalog.WeightType),
            Symmetric = values.OptionalSwitch(Catalog.Symmetric),
            ReduceRange = values.Switch(Catalog.ReduceRange),
            ExcludeNodes = values.List(Catalog.ExcludeNodes),
            Form = values.Choice<Int8Form>(Catalog.Int8Form),
        };
        return values.List(Catalog.OpTypes) is { Count: > 0 } types ? options with { OpTypes = types } : options;
    }

    public static Int4WeightOnlyOptions Int4(SettingValues values)
    {
        var blockSize = (int)values.Integer(Catalog.BlockSize, 16, 1 << 20)!.Value;
        return new Int4WeightOnlyOptions
        {
            BlockSize = (blockSize & (blockSize - 1)) == 0 ? blockSize : throw values.Invalid(Catalog.BlockSize, $"'{blockSize}' is not a power of two of 16 or more"),
            Format = values.Choice<Int4Format>(Catalog.Int4Format),
            ZeroPoints = values.Switch(Catalog.Int4ZeroPoints),
            AccuracyLevel = (int?)values.Integer(Catalog.Int4AccuracyLevel, 0, 4),
            ExcludeNodes = values.List(Catalog.ExcludeNodes),
        };
    }

    // Int8Static calibrates on Calibration, else on the holdout data (with a warning from the pass).
    public static Int8StaticOptions Int8Static(SettingValues values, string? holdout)
    {
        var calibration = values.Path(Catalog.Calibration);
        var options = new Int8StaticOptions
        {
            CalibrationData = calibration ?? holdout,
            CalibrationFromHoldout = calibration is null && holdout is not null,
            Method = values.Choice<CalibrationMethod>(Catalog.CalibrationMethod),
            Percentile = values.Number(Catalog.Percentile, 0, 100, "from 0 to 100 such as 99.99")!.Value,
            ActivationType = values.Choice<WeightType>(Catalog.ActivationType),
            SymmetricActivations = values.Switch(Catalog.SymmetricActivations),
            PerChannel = values.Switch(Catalog.PerChannel),
            ReduceRange = values.Switch(Catalog.ReduceRange),
            ExcludeNodes = values.List(Catalog.ExcludeNodes),
            ThinConvsFloat = values.Choice<ThinConvForm>(Catalog.ThinConvs) == ThinConvForm.Float,
        };
        return values.List(Catalog.OpTypes) is { Count: > 0 } types ? options with { OpTypes = types } : options;
    }

    public static Fp16Options Fp16(SettingValues values)
    {
        var options = new Fp16Options { KeepIoTypes = values.Switch(Catalog.KeepIoTypes), NodeBlockList = values.List(Catalog.Fp16BlockNodes) };
        return values.Has(Catalog.Fp16BlockOps) ? options with { OpBlockList = Fp16OpList(values.List(Catalog.Fp16BlockOps)) } : options;
    }

    /// <summary>An op list where 'default' expands to the default block list and 'none' is nothing.</summary>
    private static IReadOnlyList<string> Fp16OpList(IEnumerable<string> ops) =>
        ops.Where(op => !op.Equals("none", StringComparison.OrdinalIgnoreCase))
            .SelectMany(op => op.Equals("default", StringComparison.OrdinalIgnoreCase) ? Fp16Options.DefaultOpBlockList : [op])
            .Distinct(StringComparer.Ordinal)
            .ToArray();

    public static LayerwiseOptions Layerwise(SettingValues values) => new()
    {
        Dampening = values.Number(Catalog.ReconstructDamp, double.Epsilon, 10, "in (0, 10] such as 0.01")!.Value,
        ActOrder = values.Switch(Catalog.ReconstructActOrder),
    };

    // Prune and PruneMode decide whether anything is pruned; the other pruning settings only tune it.
    public static PruneOptions? Prune(SettingValues values)
    {
        var options = PruneModeText.FromSettings(values.Text(Catalog.Prune), values.Has(Catalog.PruneMode) ? values.Text(Catalog.PruneMode) : null,
            values.Display(Catalog.Prune), values.Display(Catalog.PruneMode), values.Invalid);
        var tuning = new[] { Catalog.PruneScope, Catalog.PruneSkip, Catalog.PruneLayers, Catalog.PruneMinSize, Catalog.PruneChannelMultiple, Catalog.PruneKeepEnds, Catalog.PruneGather, Catalog.PruneStorage };
        if (options is null)
        {
            return tuning.FirstOrDefault(values.Has) is { } stray
                ? throw values.Invalid(stray, $"needs {values.Display(Catalog.Prune)} (or {values.Display(Catalog.PruneMode)} nm:N:M)")
                : null;
        }

        return options with
        {
            Scope = values.Choice<PruneScope>(Catalog.PruneScope),
            SkipNodes = values.List(Catalog.PruneSkip),
            LayerSparsity = LayerSparsities(values),
            MinLayerSize = values.Integer(Catalog.PruneMinSize)!.Value,
            ChannelMultiple = (int)values.Integer(Catalog.PruneChannelMultiple)!.Value,
            KeepFirstAndLast = values.Switch(Catalog.PruneKeepEnds),
            IncludeGather = values.Switch(Catalog.PruneGather),
            Storage = values.Choice<PruneStorage>(Catalog.PruneStorage),
        };
    }

    private static Dictionary<string, double> LayerSparsities(SettingValues values)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var entry in values.List(Catalog.PruneLayers))
        {
            var at = entry.LastIndexOf('=');
            if (at <= 0 || !PruneModeText.TryParseSparsity(entry[(at + 1)..], out var sparsity))
            {
                throw values.Invalid(Catalog.PruneLayers, $"'{entry}' is not NODE=SPARSITY with a sparsity from 0 to 1 (exclusive)");
            }

            result[entry[..at].Trim()] = sparsity;
        }

        return result;
    }

    private enum ThinConvForm
    {
        Float,
        Int8,
    }
}
