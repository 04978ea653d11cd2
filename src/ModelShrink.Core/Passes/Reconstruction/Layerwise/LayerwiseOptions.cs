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
    /// Bytes of second-moment matrices (width² doubles per distinct input) held in memory: one run over
    /// the data fills at most this much (more inputs take several runs), and the matrices of runs past
    /// it are moved to temporary files, read back one layer at a time when its factor is computed.
    /// </summary>
    public long MemoryBudget { get; init; } = 2L << 30;
}
