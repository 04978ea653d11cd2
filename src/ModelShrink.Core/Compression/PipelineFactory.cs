using ModelShrink.Core.Plans;
using ModelShrink.Core.Passes;
using ModelShrink.Core.Passes.Cleanup;
using ModelShrink.Core.Passes.Int4WeightOnly;
using ModelShrink.Core.Passes.Int8Dynamic;
using ModelShrink.Core.Passes.Reconstruction;
using ModelShrink.Core.Passes.Reconstruction.Layerwise;
using ModelShrink.Core.Passes.Int8Static;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;

namespace ModelShrink.Core.Compression;

/// <summary>Turns <see cref="CompressionOptions"/> into the ordered list of passes that realises them.</summary>
public static class PipelineFactory
{
    /// <summary>The quantize modes this build of the engine can run.</summary>
    public static IReadOnlyList<QuantizeMode> SupportedModes { get; } = [QuantizeMode.None, QuantizeMode.Int8, QuantizeMode.Int8Static, QuantizeMode.Int4, QuantizeMode.Fp16];

    /// <summary>Every mode a user may ask for: the supported ones and Auto, which searches among them.</summary>
    public static IReadOnlyList<QuantizeMode> RequestableModes => [.. SupportedModes, QuantizeMode.Auto];

    /// <summary>
    /// Whether <paramref name="options"/> asks for a reconstruction that has something to correct:
    /// <see cref="CorrectsBiases"/>, or layer-wise rounding and pruning (weights rounded to integers by
    /// Int8, Int8Static or Int4, pruned by magnitude or N:M, or channels removed and their readers refit).
    /// </summary>
    public static bool Reconstructs(CompressionOptions options) =>
        CorrectsBiases(options)
        || (options.Reconstruct == ReconstructMode.Layerwise && (RoundsWeights(options) || options.Prune is not null));

    // Whether some layer's weights are rounded to integers (int8, int8 static, int4).
    private static bool RoundsWeights(CompressionOptions options) =>
        options.Quantize != QuantizeMode.Auto
        && PlanPasses.Precisions(options).Any(p => p is not (Plans.LayerPrecision.Float or Plans.LayerPrecision.Fp16));

    /// <summary>
    /// Whether bias correction runs: asked for (Bias or Layerwise) after Int8 or Int4 (or a plan of
    /// those and float layers), or after pruning left float32 compute. Not after Int8Static, whose batch-norm folding leaves a value name holding
    /// another quantity than in the teacher, nor after Fp16, whose layers compute in float16.
    /// </summary>
    public static bool CorrectsBiases(CompressionOptions options) =>
        options.Reconstruct != ReconstructMode.None
        && options.Quantize != QuantizeMode.Auto
        && !PlanPasses.Precisions(options).Any(p => p is Plans.LayerPrecision.Int8Static or Plans.LayerPrecision.Fp16)
        && (RoundsWeights(options) || PrunesWeights(options));

    private static bool PrunesWeights(CompressionOptions options) => options.Prune is { Method: not Passes.Pruning.PruneMethod.Channels };

    /// <summary>Builds the pipeline for <paramref name="options"/>.</summary>
    public static PassPipeline Create(CompressionOptions options)
    {
        // Clean-up first, for every mode: later passes see initializers, not Constant nodes.
        var passes = new List<IPass>(CleanupPass.Stage(options.Cleanup));

        if (options.Prune is { Auto: true })
        {
            throw new InvalidOperationException("Prune=auto is a search: run it through CompressionJob, which picks the sparsity");
        }

        // Reconstruction measures the teacher: the model after clean-up, before pruning and quantization.
        var reconstruct = Reconstructs(options);
        if (reconstruct)
        {
            if (options.ReconstructData is null)
            {
                throw ModelShrinkException.Error(ErrorCodes.ReconstructNeedsData,
                    $"Reconstruct={options.Reconstruct} measures the original and the compressed model on data; give reconstruct data or holdout data",
                    setting: "Reconstruct");
            }

            passes.Add(new TeacherSnapshotPass());
            if (options.Reconstruct == ReconstructMode.Layerwise)
            {
                passes.Add(new CaptureLayerInputsPass(options.Layerwise with { KeepZeros = options.Prune is not null }, options.ReconstructData));
            }
        }

        // Pruning before any quantization, so quantization scales see the pruned weights.
        if (options.Prune is { } prune)
        {
            passes.Add(new Passes.Pruning.PrunePass(prune));
        }

        if (options.Quantize is QuantizeMode.Auto || !SupportedModes.Contains(options.Quantize))
        {
            throw ModelShrinkException.Error(ErrorCodes.InvalidArgument,
                $"quantize mode '{options.Quantize}' is not available; choose one of {string.Join(", ", SupportedModes)}",
                setting: "Quantize");
        }

        passes.AddRange(PlanPasses.Create(options));

        if (CorrectsBiases(options))
        {
            passes.Add(new BiasCorrectionPass(new BiasCorrectionOptions(options.ReconstructData!)));
        }

        // Zeros stored sparsely last, once every pass has written its final weights.
        if (options.Prune is { Storage: not Passes.Pruning.PruneStorage.Dense } storage)
        {
            passes.Add(new Passes.Pruning.SparseStoragePass(storage));
        }

        return new PassPipeline(passes);
    }
}
