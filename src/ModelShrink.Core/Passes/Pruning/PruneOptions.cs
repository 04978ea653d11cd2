using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;

namespace ModelShrink.Core.Passes.Pruning;

/// <summary>Whether magnitude pruning sets one threshold per layer or one for all layers together.</summary>
public enum PruneScope
{
    /// <summary>Each layer reaches the sparsity on its own.</summary>
    Layer,

    /// <summary>One magnitude threshold across every pruned layer: the layers together reach the sparsity.</summary>
    Global,
}

/// <summary>How weights full of zeros are stored in the written model (the <c>sparse-storage</c> pass, last in the pipeline).</summary>
public enum PruneStorage
{
    /// <summary>
    /// As a <c>sparse_initializer</c> with the narrowest index type that addresses the tensor
    /// (int8/int16/int32), whenever that is smaller than the dense form. ONNX Runtime (1.31) loads it
    /// and makes it dense at load; the ONNX checker accepts only int64 indices.
    /// </summary>
    Sparse,

    /// <summary>As a <c>sparse_initializer</c> with int64 indices (what the ONNX checker accepts), whenever that is smaller.</summary>
    SparseInt64,

    /// <summary>Dense, zeros in place: no size change unless the file is compressed (zip, nupkg) or quantized later.</summary>
    Dense,
}

/// <summary>Options of the <c>prune</c> pass (<see cref="PrunePass"/>) and of <c>sparse-storage</c>.</summary>
public sealed record PruneOptions
{
    /// <summary>The default <see cref="MinLayerSize"/>: layers of fewer weights are not worth pruning.</summary>
    public const long DefaultMinLayerSize = 1024;

    /// <summary>The default <see cref="Sparsity"/>.</summary>
    public const double DefaultSparsity = 0.5;

    /// <summary>
    /// The fraction of weights made zero (magnitude) or of output channels removed (channels) in
    /// each pruned layer, from 0 to 1 (exclusive). N:M ignores it: its sparsity is (M-N)/M.
    /// </summary>
    public double Sparsity { get; init; } = DefaultSparsity;

    /// <summary>How to prune.</summary>
    public PruneMethod Method { get; init; } = PruneMethod.Magnitude;

    /// <summary>N:M: weights kept per group (N of M).</summary>
    public int N { get; init; } = 2;

    /// <summary>N:M: the group size along the reduction axis.</summary>
    public int M { get; init; } = 4;

    /// <summary>Magnitude pruning: one threshold per layer (default) or one across layers. Channels and N:M are always per layer.</summary>
    public PruneScope Scope { get; init; } = PruneScope.Layer;

    /// <summary>Per-layer sparsities by node name, overriding <see cref="Sparsity"/> (magnitude and channels; outside the global threshold).</summary>
    public IReadOnlyDictionary<string, double> LayerSparsity { get; init; } = new Dictionary<string, double>();

    /// <summary>Names of nodes whose weights are never pruned.</summary>
    public IReadOnlyList<string> SkipNodes { get; init; } = [];

    /// <summary>Weights with fewer elements than this are left alone.</summary>
    public long MinLayerSize { get; init; } = DefaultMinLayerSize;

    /// <summary>The default <see cref="ChannelMultiple"/>: ONNX Runtime's NCHWc block on AVX2.</summary>
    public const int DefaultChannelMultiple = 8;

    /// <summary>
    /// Channels: a layer whose channel count is a multiple of this keeps a multiple of it (the channels
    /// kept are rounded up), so ONNX Runtime can still run it in its NCHWc layout; 1 keeps the exact share.
    /// </summary>
    public int ChannelMultiple { get; init; } = DefaultChannelMultiple;

    /// <summary>Keep the first and the last layers dense (default): they are usually the most sensitive. Reported with MSH2401.</summary>
    public bool KeepFirstAndLast { get; init; } = true;

    /// <summary>Also prune large Gather tables (embeddings), magnitude and N:M only (along their last axis).</summary>
    public bool IncludeGather { get; init; }

    /// <summary>How zeros are stored in the written file.</summary>
    public PruneStorage Storage { get; init; } = PruneStorage.Sparse;

    /// <summary>
    /// Prune=auto: the search picks the highest sparsity (0.1 to 0.9) whose model still meets the
    /// accuracy budgets on the holdout data; <see cref="Sparsity"/> is then the pick.
    /// </summary>
    public bool Auto { get; init; }

    /// <summary>The sparsity each pruned layer reaches: <see cref="Sparsity"/>, or (M-N)/M for N:M.</summary>
    public double TargetSparsity => Method == PruneMethod.NM ? (M - N) / (double)M : Sparsity;

    /// <summary>The mode in its text form (magnitude, nm:N:M, channels).</summary>
    public string ModeText => PruneModeText.Format(Method, N, M);

    /// <summary>Whether N:M values are usable: 1 &lt;= N &lt; M &lt;= 64.</summary>
    public static bool IsValidNm(int n, int m) => n >= 1 && n < m && m <= 64;

    /// <summary>Throws MSH2400 when a value is out of range or the combination cannot run.</summary>
    public void Validate()
    {
        if (!(Sparsity is >= 0 and < 1))
        {
            throw Invalid("Sparsity", $"sparsity {Sparsity} is outside 0 to 1 (exclusive)");
        }

        if (Method == PruneMethod.NM && !IsValidNm(N, M))
        {
            throw Invalid("PruneMode", $"N:M {N}:{M} needs 1 <= N < M <= 64");
        }

        if (Scope == PruneScope.Global && Method != PruneMethod.Magnitude)
        {
            throw Invalid("PruneScope", $"a global threshold applies to magnitude pruning only, not {ModeText}");
        }

        if (ChannelMultiple < 1)
        {
            throw Invalid("PruneChannelMultiple", $"the channel multiple {ChannelMultiple} is below 1");
        }

        if (MinLayerSize < 0)
        {
            throw Invalid("MinLayerSize", $"the minimum layer size {MinLayerSize} is negative");
        }

        foreach (var (node, sparsity) in LayerSparsity)
        {
            if (!(sparsity is >= 0 and < 1))
            {
                throw Invalid("LayerSparsity", $"sparsity {sparsity} for '{node}' is outside 0 to 1 (exclusive)");
            }
        }
    }

    private static ModelShrinkException Invalid(string setting, string message) =>
        ModelShrinkException.Error(ErrorCodes.PruneInvalidOption, message, setting: setting);
}
