using ModelShrink.Core.Passes;
using ModelShrink.Core.Passes.Cleanup;
using ModelShrink.Core.Passes.Int4WeightOnly;
using ModelShrink.Core.Passes.Int8Dynamic;
using ModelShrink.Core.Passes.Reconstruction;
using ModelShrink.Core.Passes.Int8Static;
using ModelShrink.Diagnostics;

namespace ModelShrink.Core.Compression;

/// <summary>Turns <see cref="CompressionOptions"/> into the ordered list of passes that realises them.</summary>
public static class PipelineFactory
{
    /// <summary>The quantize modes this build of the engine can run.</summary>
    public static IReadOnlyList<QuantizeMode> SupportedModes { get; } = [QuantizeMode.None, QuantizeMode.Int8, QuantizeMode.Int8Static, QuantizeMode.Int4, QuantizeMode.Fp16];

    /// <summary>Every mode a user may ask for: the supported ones and Auto, which searches among them.</summary>
    public static IReadOnlyList<QuantizeMode> RequestableModes => [.. SupportedModes, QuantizeMode.Auto];

    /// <summary>Builds the pipeline for <paramref name="options"/>.</summary>
    public static PassPipeline Create(CompressionOptions options)
    {
        // Clean-up first, for every mode: later passes see initializers, not Constant nodes.
        var passes = new List<IPass>(CleanupPass.Stage(options.Cleanup));

        // Pruning after the clean-up and before any quantization, so quantization scales see the pruned weights.
        if (options.Prune is { Auto: true })
        {
            throw new InvalidOperationException("Prune=auto is a search: run it through CompressionJob, which picks the sparsity");
        }

        if (options.Prune is { } prune)
        {
            passes.Add(new Passes.Pruning.PrunePass(prune));
        }

        var reconstruct = options.Reconstruct != ReconstructMode.None && options.Quantize is QuantizeMode.Int8 or QuantizeMode.Int4;
        var teacher = new TeacherModel();
        if (reconstruct)
        {
            if (options.ReconstructData is null)
            {
                throw ModelShrinkException.Error(ErrorCodes.ReconstructNeedsData,
                    $"Reconstruct={options.Reconstruct} measures the original and the quantized model on data; give reconstruct data or holdout data",
                    setting: "Reconstruct");
            }

            // The teacher is the model after clean-up (and pruning, when there is any), before quantization.
            passes.Add(new TeacherSnapshotPass(teacher));
        }

        switch (options.Quantize)
        {
            case QuantizeMode.None:
                break;
            case QuantizeMode.Fp16:
                passes.Add(new Passes.Fp16.Fp16Pass(options.Fp16));
                break;
            case QuantizeMode.Int8:
                passes.Add(new Int8DynamicPass(options.Int8));
                break;
            case QuantizeMode.Int8Static:
                passes.Add(new Int8StaticPass(options.Int8Static));
                break;
            case QuantizeMode.Int4:
                passes.Add(new Int4WeightOnlyPass(options.Int4));
                break;
            default:
                throw ModelShrinkException.Error(ErrorCodes.InvalidArgument,
                    $"quantize mode '{options.Quantize}' is not available; choose one of {string.Join(", ", SupportedModes)}",
                    setting: "Quantize");
        }

        if (reconstruct)
        {
            passes.Add(new BiasCorrectionPass(new BiasCorrectionOptions(teacher, options.ReconstructData!)));
        }

        // Zeros stored sparsely last, once every pass has written its final weights.
        if (options.Prune is { Storage: not Passes.Pruning.PruneStorage.Dense } storage)
        {
            passes.Add(new Passes.Pruning.SparseStoragePass(storage));
        }

        return new PassPipeline(passes);
    }
}
