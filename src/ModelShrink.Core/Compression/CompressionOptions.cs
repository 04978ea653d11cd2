using ModelShrink.Core.Plans;
using ModelShrink.Core.Passes.Cleanup;
using ModelShrink.Core.Passes.Int4WeightOnly;
using ModelShrink.Core.Passes.Int8Dynamic;
using ModelShrink.Core.Passes.Reconstruction;
using ModelShrink.Core.Passes.Int8Static;

namespace ModelShrink.Core.Compression;

/// <summary>
/// Everything one compression is asked to do. Each pass reads only its own typed options record;
/// this type just carries them from the CLI or the MSBuild request to <see cref="PipelineFactory"/>.
/// </summary>
public sealed record CompressionOptions
{
    /// <summary>
    /// The highest ai.onnx opset the app's ONNX Runtime runs (from its package version); null = no
    /// cap. A result that needs more is refused (MSH3202) rather than written.
    /// </summary>
    public int? MaxOpset { get; init; }

    /// <summary>
    /// Whether the app's ONNX Runtime runs com.microsoft MatMulNBits (1.17 and later); when false,
    /// int4 in that format is refused (MSH3203) and the Auto search leaves int4 out.
    /// </summary>
    public bool MatMulNBitsAllowed { get; init; } = true;

    /// <summary>The quantization mode: what every weight-bearing layer gets that <see cref="Plan"/> does not name.</summary>
    public QuantizeMode Quantize { get; init; } = QuantizeMode.None;

    /// <summary>
    /// A precision per layer that overrides <see cref="Quantize"/> for the nodes it names (a
    /// mixed-precision plan, as Quantize=Auto builds them), or null for the plain mode.
    /// </summary>
    public Plans.LayerPlan? Plan { get; init; }

    /// <summary>The clean-up stage that runs first, whatever the mode: opset upgrade, ONNX Runtime's optimizer.</summary>
    public CleanupOptions Cleanup { get; init; } = new();
    /// <summary>Options of the fp16 pass (used when <see cref="Quantize"/> is <see cref="QuantizeMode.Fp16"/>).</summary>
    public Passes.Fp16.Fp16Options Fp16 { get; init; } = new();
    /// <summary>Options of the int8-dynamic pass (<see cref="QuantizeMode.Int8"/>).</summary>
    public Int8DynamicOptions Int8 { get; init; } = new();

    /// <summary>Options of the int4 pass (<see cref="QuantizeMode.Int4"/>).</summary>
    public Int4WeightOnlyOptions Int4 { get; init; } = new();

    /// <summary>
    /// Teacher-guided reconstruction of quantized (Int8, Int8Static, Int4) or pruned weights, measured on
    /// <see cref="ReconstructData"/>: <see cref="ReconstructMode.Bias"/> shifts each changed layer's float
    /// bias so its per-channel output mean matches the original's; <see cref="ReconstructMode.Layerwise"/>
    /// also rounds (GPTQ) and prunes (SparseGPT) each layer to keep its output closest to the original's.
    /// Ignored when nothing is rounded to integers or pruned (modes None and Fp16 without pruning).
    /// </summary>
    public ReconstructMode Reconstruct { get; init; } = ReconstructMode.None;

    /// <summary>Data the reconstruction measures on (any holdout layout); callers default it to the holdout data.</summary>
    public string? ReconstructData { get; init; }

    /// <summary>Settings of <see cref="ReconstructMode.Layerwise"/> (GPTQ, SparseGPT).</summary>
    public Passes.Reconstruction.Layerwise.LayerwiseOptions Layerwise { get; init; } = new();

    /// <summary>Pruning, or null for none: runs after the clean-up and before any quantization (CLI <c>--prune</c>, metadata <c>Prune</c>).</summary>
    public Passes.Pruning.PruneOptions? Prune { get; init; }
    /// <summary>Options of the int8-static pass (<see cref="QuantizeMode.Int8Static"/>), calibration data included.</summary>
    public Int8StaticOptions Int8Static { get; init; } = new();
}
