namespace ModelShrink.Core.Passes.Reconstruction.Layerwise;

/// <summary>Options of layer-wise reconstruction (GPTQ for quantized weights, SparseGPT for pruned ones).</summary>
public sealed record LayerwiseOptions
{
    /// <summary>The default dampening: 1% of H's mean diagonal, the papers' value.</summary>
    public const double DefaultDampening = 0.01;

    /// <summary>Added to H's diagonal, as a share of its mean, so the inverse is stable (raised tenfold, up to three times, when H + λI is still not positive definite).</summary>
    public double Dampening { get; init; } = DefaultDampening;

    /// <summary>GPTQ quantizes columns in order of decreasing H diagonal ("act order"): the inputs that carry most energy first, while the most columns remain to absorb their error.</summary>
    public bool ActOrder { get; init; } = true;

    /// <summary>Weights already zero stay zero when quantized (set when a pruning pass ran first), their error compensated like any other.</summary>
    public bool KeepZeros { get; init; }

    /// <summary>The widest layer input (inputs per group; for Conv, input channels × kernel size) reconstructed: H takes width² doubles. Wider layers keep plain rounding and selection (MSH2604).</summary>
    public int MaxInputWidth { get; init; } = 16384;

    /// <summary>
    /// Second-moment matrices held at once, in bytes (width² doubles a layer): when the layers need
    /// more, they are measured in several runs over the data, each within this bound.
    /// </summary>
    public long MemoryBudget { get; init; } = 2L << 30;
}
