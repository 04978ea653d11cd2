namespace ModelShrink.Core.Passes.Fp16;

/// <summary>Options of the <c>fp16</c> pass (<see cref="Fp16Pass"/>).</summary>
public sealed record Fp16Options
{
    /// <summary>
    /// Ops kept in float32 by default. ONNX-ML ops, and ops that are wrong or inaccurate in float16
    /// (the list onnxconverter-common and ONNX Runtime's float16 tool use), plus random generators
    /// (no float16 CPU kernel), quantization ops (float32 scales) and signal-processing ops (long sums).
    /// </summary>
    public static IReadOnlyList<string> DefaultOpBlockList { get; } =
    [
        // ONNX-ML (ai.onnx.ml): no float16 kernels anywhere.
        "ArrayFeatureExtractor", "Binarizer", "CastMap", "CategoryMapper", "DictVectorizer", "FeatureVectorizer",
        "Imputer", "LabelEncoder", "LinearClassifier", "LinearRegressor", "Normalizer", "OneHotEncoder",
        "SVMClassifier", "SVMRegressor", "Scaler", "TreeEnsemble", "TreeEnsembleClassifier", "TreeEnsembleRegressor", "ZipMap",

        // The reference converters' list: no float16 in the schema (Range, NonMaxSuppression; these
        // stay float32 even when unblocked), results that change in float16 (box scores and ties in
        // TopK and RoiAlign, long running sums in CumSum), and ops their runtimes lacked kernels for
        // (Min, Max, Upsample, RandomUniformLike).
        "NonMaxSuppression", "TopK", "RoiAlign", "Range", "CumSum", "Min", "Max", "Upsample", "RandomUniformLike",

        // Generators without a float16 input: ONNX Runtime's CPU provider has no float16 kernel for
        // them and cannot put its own Casts in front, so a float16 dtype would not load.
        "RandomNormal", "RandomUniform",

        // Quantization: float32 only by schema before opset 19, and scales lose precision in float16.
        "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear",

        // Signal processing: sums over whole frames, float/double-only kernels.
        "DFT", "STFT", "MelWeightMatrix", "HannWindow", "HammingWindow", "BlackmanWindow",
    ];

    /// <summary>
    /// Keep the model's float32 inputs and outputs float32, with Casts at the boundary, so callers
    /// need no change (default). When false they become float16.
    /// </summary>
    public bool KeepIoTypes { get; init; } = true;

    /// <summary>Op types kept float32, with Casts around them (matched on op_type, any domain).</summary>
    public IReadOnlyList<string> OpBlockList { get; init; } = DefaultOpBlockList;

    /// <summary>Node names kept float32, with Casts around them.</summary>
    public IReadOnlyList<string> NodeBlockList { get; init; } = [];

    /// <summary>
    /// Non-zero weights smaller in magnitude than this become ±this value instead of rounding to zero
    /// (default: float16's smallest subnormal, as ONNX Runtime's converter).
    /// </summary>
    public float MinPositiveValue { get; init; } = 5.96e-8f;

    /// <summary>Finite weights larger in magnitude than this become ±this value instead of infinity (default: float16's largest, 65504).</summary>
    public float MaxFiniteValue { get; init; } = 65504f;

    /// <summary>
    /// Keep in float32 the nodes whose weights or activations float16 cannot hold (default true):
    /// those whose float16 copy differs by more than <see cref="MaxRelativeError"/> (see <see cref="Fp16RangeCheck"/>).
    /// Weights are checked always; activations when <see cref="RangeData"/> or <see cref="ActivationErrors"/> is given.
    /// </summary>
    public bool KeepOutOfRange { get; init; } = true;

    /// <summary>
    /// The largest relative RMS error (‖half(x) − x‖ / ‖x‖) a value may take in float16 before its nodes
    /// stay float32 (default 0.001: twice float16's rounding of normal values; overflow is infinite).
    /// </summary>
    public double MaxRelativeError { get; init; } = 1e-3;

    /// <summary>Data to measure activations on (any holdout layout); null: weights only.</summary>
    public string? RangeData { get; init; }

    /// <summary>Activation errors measured already (by a search that runs the pass several times), by value name; wins over <see cref="RangeData"/>.</summary>
    public IReadOnlyDictionary<string, HalfError>? ActivationErrors { get; init; }
}
