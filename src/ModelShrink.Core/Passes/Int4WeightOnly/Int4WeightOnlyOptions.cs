namespace ModelShrink.Core.Passes.Int4WeightOnly;

/// <summary>How int4 MatMul weights are written (CLI <c>--int4-format</c>).</summary>
public enum Int4Format
{
    /// <summary>ONNX Runtime's com.microsoft.MatMulNBits: packed weights, any opset.</summary>
    MatMulNBits,

    /// <summary>Standard ONNX: an int4/uint4 weight and a blocked DequantizeLinear (opset 21) feeding the MatMul.</summary>
    Qdq,
}

/// <summary>
/// Options of the "int4" pass, after onnxruntime.quantization.matmul_nbits_quantizer: 2-D MatMul
/// weights to 4 bits in blocks along K, weight-only.
/// </summary>
public sealed record Int4WeightOnlyOptions
{
    /// <summary>The written form.</summary>
    public Int4Format Format { get; init; } = Int4Format.MatMulNBits;

    /// <summary>Weights per block along K: a power of two, at least 16 (32, 64 and 128 are usual).</summary>
    public int BlockSize { get; init; } = 32;

    /// <summary>Asymmetric blocks with a zero point each (uint4) instead of symmetric ones (CLI <c>--int4-zero-points</c>).</summary>
    public bool ZeroPoints { get; init; }

    /// <summary>MatMulNBits accuracy_level (4: ONNX Runtime quantizes A to int8 inside the kernel); null leaves it unset.</summary>
    public int? AccuracyLevel { get; init; }

    /// <summary>Node names to leave in float.</summary>
    public IReadOnlyList<string> ExcludeNodes { get; init; } = [];

    /// <summary>When not empty, only these node names are quantized (a mixed-precision plan's int4 layers).</summary>
    public IReadOnlyList<string> NodesToQuantize { get; init; } = [];

    /// <summary>
    /// The operators quantized: MatMul (either format), and Conv, always as an int4 weight with a
    /// blocked DequantizeLinear (opset 21; MatMulNBits is MatMul's alone). Plain Int4 keeps Convs
    /// float, as ONNX Runtime's tool does; a mixed plan gives int4 to the Convs it names.
    /// </summary>
    public IReadOnlyList<string> OpTypes { get; init; } = ["MatMul"];

    /// <summary>Also quantize MatMuls inside If/Loop/Scan bodies.</summary>
    public bool Subgraphs { get; init; } = true;
}
