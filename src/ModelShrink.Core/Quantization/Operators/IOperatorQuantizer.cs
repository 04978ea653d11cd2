using ModelShrink.Onnx.Ir;

namespace ModelShrink.Core.Quantization.Operators;

/// <summary>How a quantized node computes.</summary>
public enum QuantForm
{
    /// <summary>
    /// Integer arithmetic: the activation is quantized at run time (DynamicQuantizeLinear) and the
    /// node becomes MatMulInteger/ConvInteger, its int32 result scaled back to float.
    /// </summary>
    Integer,

    /// <summary>
    /// The weight is stored quantized and rebuilt by Cast (and Sub) and Mul nodes feeding the
    /// unchanged float node. ONNX Runtime folds those constant nodes when it loads the model, so it
    /// runs the float graph with every float fusion (Conv+BatchNormalization, NCHWc layouts) intact:
    /// the file shrinks, the speed stays the float model's. Works at any opset from 7, per channel too.
    /// </summary>
    WeightOnly,

    /// <summary>
    /// The weight is stored quantized and a DequantizeLinear feeds the unchanged float node: the
    /// standard QDQ weight form that quantization-aware runtimes and execution providers recognize.
    /// ONNX Runtime's CPU provider does not fold it, so it runs every inference and hides the weight
    /// from float fusions. Per-channel needs opset 13 (the axis attribute).
    /// </summary>
    Dequantize,
}

/// <summary>
/// One weight input of a node to quantize, and how: per-channel parameters go along
/// <paramref name="ChannelAxis"/> (-1: per tensor); <paramref name="Transposed"/> stores a 2-D
/// [N, K] weight as [K, N]; <paramref name="Type"/> overrides the weight type where an operator
/// needs a particular one (ONNX Runtime's ConvInteger takes uint8 weights only).
/// </summary>
public readonly record struct WeightKey(Value Weight, int ChannelAxis, bool Transposed, WeightType? Type = null);

/// <summary>What a quantizer decided for one node.</summary>
/// <param name="Node">The node.</param>
/// <param name="Quantizer">Who rewrites it.</param>
/// <param name="Form">The form it takes.</param>
/// <param name="Weights">Input index and quantization of each weight it reads.</param>
public sealed record NodePlan(Node Node, IOperatorQuantizer Quantizer, QuantForm Form, IReadOnlyList<(int Input, WeightKey Key)> Weights);

/// <summary>
/// Knows one family of operators: which inputs are weights, their channel axis, and how to rewrite
/// the node into each <see cref="QuantForm"/>. Small, one per file, found through
/// <see cref="OperatorQuantizers"/>.
/// </summary>
public interface IOperatorQuantizer
{
    /// <summary>The operator types handled (default ONNX domain).</summary>
    IReadOnlyList<string> OpTypes { get; }

    /// <summary>The form used when the user asks for none: the faster or smaller one measured in ONNX Runtime on CPU.</summary>
    QuantForm PreferredForm { get; }

    /// <summary>Decides what to quantize on <paramref name="node"/>, or returns null (with the reason recorded) to leave it.</summary>
    NodePlan? Plan(Node node, QuantizationRewriter rewriter);

    /// <summary>Rewrites the node as planned, once every planned weight is quantized.</summary>
    void Rewrite(NodePlan plan, QuantizationRewriter rewriter);
}
