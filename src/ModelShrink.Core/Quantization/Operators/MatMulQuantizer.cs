using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using Attribute = ModelShrink.Onnx.Ir.Attribute;

namespace ModelShrink.Core.Quantization.Operators;

/// <summary>
/// MatMul with a 2-D weight B [K, N]. Integer form (ONNX Runtime's quantize_dynamic output, which ORT
/// fuses into DynamicQuantizeMatMul/MatMulIntegerToFloat): DynamicQuantizeLinear(A) -> MatMulInteger
/// -> Cast -> Mul by (a_scale * b_scale). Per-channel parameters run along axis 1 (the N columns).
/// </summary>
public sealed class MatMulQuantizer : IOperatorQuantizer
{
    /// <inheritdoc />
    public IReadOnlyList<string> OpTypes { get; } = ["MatMul"];

    /// <inheritdoc />
    public QuantForm PreferredForm => QuantForm.Integer;

    /// <inheritdoc />
    public NodePlan? Plan(Node node, QuantizationRewriter rewriter)
    {
        var form = rewriter.FormFor(this);
        if (rewriter.Weight(node, 1, rank: 2) is { } weight)
        {
            return new NodePlan(node, this, form, [(1, new WeightKey(weight, rewriter.ChannelAxis(form, 1), false))]);
        }

        // Both inputs computed at run time: only when asked (MatMulConstBOnly off), both quantized dynamically.
        var bothActivations = node.Inputs.Count == 2 && node.Inputs.All(i => i is { IsWeight: false });
        if (bothActivations && !rewriter.Settings.MatMulConstBOnly && form == QuantForm.Integer)
        {
            return new NodePlan(node, this, form, []);
        }

        return null;
    }

    /// <inheritdoc />
    public void Rewrite(NodePlan plan, QuantizationRewriter rewriter)
    {
        var node = plan.Node;
        if (plan.Form != QuantForm.Integer)
        {
            rewriter.ReadDequantizedWeights(plan);
            return;
        }

        var b = plan.Weights.Count == 0
            ? rewriter.DynamicallyQuantized(node.Inputs[1]!, node)
            : rewriter.Initializers(plan.Weights[0].Key);
        var (product, scale) = IntegerProduct(rewriter, node, node.Inputs[0]!, b);
        QuantizationRewriter.Become(node, "Mul", product, scale);
    }

    /// <summary>
    /// Emits DynamicQuantizeLinear(A) -> MatMulInteger(A_q, B_q, a_zp, b_zp) -> Cast(float) and
    /// Mul(a_scale, b_scale), in the order ONNX Runtime's MatMulIntegerToFloat fusion matches, and
    /// returns the float product and the scale to multiply it by.
    /// </summary>
    internal static (Value Product, Value Scale) IntegerProduct(QuantizationRewriter rewriter, Node node,
        Value activation, (Value Data, Value Scale, Value ZeroPoint) b, Value? bScale = null)
    {
        var a = rewriter.DynamicallyQuantized(activation, node);
        var integer = rewriter.AddNode(node, "MatMulInteger", [a.Data, b.Data, a.ZeroPoint, b.ZeroPoint],
            [node.Outputs[0]!.Name + "_int32"], node.Name + "_MatMulInteger").Outputs[0]!;
        var product = rewriter.AddNode(node, "Cast", [integer], [node.Outputs[0]!.Name + "_int32_float"], node.Name + "_Cast",
            Attribute.FromInt("to", (long)DataType.Float)).Outputs[0]!;
        var scale = rewriter.AddNode(node, "Mul", [a.Scale, bScale ?? b.Scale], [node.Outputs[0]!.Name + "_scale"],
            node.Name + "_scales_Mul").Outputs[0]!;
        return (product, scale);
    }
}
