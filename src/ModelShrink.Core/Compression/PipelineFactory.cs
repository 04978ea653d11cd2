using ModelShrink.Core.Passes;
using ModelShrink.Core.Passes.Cleanup;
using ModelShrink.Diagnostics;

namespace ModelShrink.Core.Compression;

/// <summary>Turns <see cref="CompressionOptions"/> into the ordered list of passes that realises them.</summary>
public static class PipelineFactory
{
    /// <summary>The quantize modes this build of the engine can run.</summary>
    public static IReadOnlyList<QuantizeMode> SupportedModes { get; } = [QuantizeMode.None, QuantizeMode.Fp16];

    /// <summary>Builds the pipeline for <paramref name="options"/>.</summary>
    public static PassPipeline Create(CompressionOptions options)
    {
        // Clean-up first, for every mode: later passes see initializers, not Constant nodes.
        var passes = new List<IPass>(CleanupPass.Stage(options.Cleanup));

        // Pruning after the clean-up and before any quantization, so quantization scales see the pruned weights.
        if (options.Prune is { } prune)
        {
            passes.Add(new Passes.Pruning.PrunePass(prune));
        }

        switch (options.Quantize)
        {
            case QuantizeMode.None:
                break;
            case QuantizeMode.Fp16:
                passes.Add(new Passes.Fp16.Fp16Pass(options.Fp16));
                break;
            default:
                throw ModelShrinkException.Error(ErrorCodes.InvalidArgument,
                    $"quantize mode '{options.Quantize}' is not available; choose one of {string.Join(", ", SupportedModes)}",
                    setting: "Quantize");
        }

        // Zeros stored sparsely last, once every pass has written its final weights.
        if (options.Prune is { Storage: not Passes.Pruning.PruneStorage.Dense } storage)
        {
            passes.Add(new Passes.Pruning.SparseStoragePass(storage));
        }

        return new PassPipeline(passes);
    }
}
