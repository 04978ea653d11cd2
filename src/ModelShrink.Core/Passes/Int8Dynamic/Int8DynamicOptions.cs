using ModelShrink.Core.Quantization;
using ModelShrink.Core.Quantization.Operators;

namespace ModelShrink.Core.Passes.Int8Dynamic;

/// <summary>The form quantized nodes take (CLI <c>--int8-form</c>).</summary>
public enum Int8Form
{
    /// <summary>Per operator, the form measured faster in ONNX Runtime on CPU: integer for MatMul and Gemm, weight-only for Conv and recurrent ops.</summary>
    Auto,

    /// <summary>DynamicQuantizeLinear + MatMulInteger/ConvInteger wherever the operator has an integer form.</summary>
    Integer,

    /// <summary>Int8 weights rebuilt by Cast/Mul nodes that ONNX Runtime folds at load: smaller file, float speed.</summary>
    WeightOnly,

    /// <summary>A DequantizeLinear on each weight feeding the unchanged float operator (the standard QDQ weight form).</summary>
    Qdq,
}

/// <summary>
/// Options of the "int8-dynamic" pass, after onnxruntime.quantization.quantize_dynamic: weights to
/// 8 bits ahead of time, activations quantized at run time.
/// </summary>
public sealed record Int8DynamicOptions
{
    /// <summary>One scale per output channel instead of one per weight (quantize_dynamic's per_channel).</summary>
    public bool PerChannel { get; init; } = true;

    /// <summary>The stored weight type (weight_type); int8 as in quantize_dynamic.</summary>
    public WeightType WeightType { get; init; } = WeightType.Int8;

    /// <summary>Symmetric weights (extra_options WeightSymmetric); null: symmetric for int8, asymmetric for uint8.</summary>
    public bool? Symmetric { get; init; }

    /// <summary>7-bit weights (reduce_range), for CPUs without VNNI whose u8*s8 products can saturate.</summary>
    public bool ReduceRange { get; init; }

    /// <summary>Operator types to quantize (op_types_to_quantize); all supported ones by default.</summary>
    public IReadOnlyList<string> OpTypes { get; init; } = ["MatMul", "Gemm", "Conv", "LSTM", "GRU", "RNN"];

    /// <summary>Node names to leave in float (nodes_to_exclude).</summary>
    public IReadOnlyList<string> ExcludeNodes { get; init; } = [];

    /// <summary>When not empty, only these node names are quantized (nodes_to_quantize).</summary>
    public IReadOnlyList<string> NodesToQuantize { get; init; } = [];

    /// <summary>Quantize only MatMuls whose B is a weight (extra_options MatMulConstBOnly; on by default for dynamic quantization).</summary>
    public bool MatMulConstBOnly { get; init; } = true;

    /// <summary>Also quantize nodes inside If/Loop/Scan bodies (extra_options EnableSubgraph, off by default in ONNX Runtime).</summary>
    public bool Subgraphs { get; init; } = true;

    /// <summary>The form of quantized nodes.</summary>
    public Int8Form Form { get; init; } = Int8Form.Auto;

    /// <summary>The weight scheme these options describe.</summary>
    public QuantScheme Scheme => QuantScheme.Default(WeightType, Symmetric, ReduceRange);

    /// <summary>The form forced on every node, or null for each operator's preferred one.</summary>
    public QuantForm? ForcedForm => Form switch
    {
        Int8Form.Integer => QuantForm.Integer,
        Int8Form.WeightOnly => QuantForm.WeightOnly,
        Int8Form.Qdq => QuantForm.Dequantize,
        _ => null,
    };
}
