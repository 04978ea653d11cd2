using ModelShrink.Core.Passes.Cleanup;

namespace ModelShrink.Core.Compression;

/// <summary>
/// Everything one compression is asked to do. Each pass reads only its own typed options record;
/// this type just carries them from the CLI or the MSBuild request to <see cref="PipelineFactory"/>.
/// </summary>
public sealed record CompressionOptions
{
    /// <summary>The quantization mode.</summary>
    public QuantizeMode Quantize { get; init; } = QuantizeMode.None;

    /// <summary>The clean-up stage that runs first, whatever the mode: opset upgrade, ONNX Runtime's optimizer.</summary>
    public CleanupOptions Cleanup { get; init; } = new();
    /// <summary>Options of the fp16 pass (used when <see cref="Quantize"/> is <see cref="QuantizeMode.Fp16"/>).</summary>
    public Passes.Fp16.Fp16Options Fp16 { get; init; } = new();

    /// <summary>Pruning, or null for none: runs after the clean-up and before any quantization (CLI <c>--prune</c>, metadata <c>Prune</c>).</summary>
    public Passes.Pruning.PruneOptions? Prune { get; init; }
}
