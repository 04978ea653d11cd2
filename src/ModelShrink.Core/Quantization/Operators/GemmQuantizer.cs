using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Quantization.Operators;

/// <summary>
/// Gemm (Y = alpha * A' * B' + beta * C) with a 2-D weight B. As in ONNX Runtime's quantize_dynamic,
/// the integer form is the MatMul chain on B as [K, N] (a transB weight [N, K] is stored transposed,
/// per-channel along its rows, axis 0), with alpha folded into B's scale and the bias C (times beta)
/// added in float as a final Add, which ONNX Runtime's fusion takes in as the bias.
/// A transposed A (transA=1) keeps the float Gemm with a weight-only weight.
/// </summary>
public sealed class GemmQuantizer : IOperatorQuantizer
{
    /// <inheritdoc />
    public IReadOnlyList<string> OpTypes { get; } = ["Gemm"];

    /// <inheritdoc />
    public QuantForm PreferredForm => QuantForm.Integer;

    /// <inheritdoc />
    public NodePlan? Plan(Node node, QuantizationRewriter rewriter)
    {
        if (rewriter.Weight(node, 1, rank: 2) is not { } weight)
        {
            return null;
        }

        var form = rewriter.FormFor(this);
        if (form == QuantForm.Integer && node.GetInt("transA", 0) != 0)
        {
            form = QuantForm.WeightOnly;
        }

        var transB = node.GetInt("transB", 0) != 0;
        var axis = rewriter.ChannelAxis(form, transB ? 0 : 1);
        return new NodePlan(node, this, form, [(1, new WeightKey(weight, axis, form == QuantForm.Integer && transB))]);
    }

    /// <inheritdoc />
    public void Rewrite(NodePlan plan, QuantizationRewriter rewriter)
    {
        if (plan.Form != QuantForm.Integer)
        {
            rewriter.ReadDequantizedWeights(plan);
            return;
        }

        var node = plan.Node;
        var key = plan.Weights[0].Key;
        var alpha = node.GetFloat("alpha", 1f);
        var beta = node.GetFloat("beta", 1f);
        var b = rewriter.Initializers(key);
        Value? bScale = null;
        if (alpha != 1f)
        {
            var weight = rewriter.Quantized(key);
            var scaled = Array.ConvertAll(weight.Scales, s => s * alpha);
            bScale = rewriter.AddInitializer(key.Weight.Graph,
                Tensor.FromArray<float>(key.Weight.Name + "_scale_alpha", weight.PerTensor ? [] : [scaled.Length], scaled));
        }

        var (product, scale) = MatMulQuantizer.IntegerProduct(rewriter, node, node.Inputs[0]!, b, bScale);
        var bias = node.Inputs.Count > 2 ? node.Inputs[2] : null;
        if (bias is null || beta == 0f)
        {
            QuantizationRewriter.Become(node, "Mul", product, scale);
            return;
        }

        var scaledProduct = rewriter.AddNode(node, "Mul", [product, scale], [node.Outputs[0]!.Name + "_unbiased"], node.Name + "_Mul").Outputs[0]!;
        QuantizationRewriter.Become(node, "Add", scaledProduct, beta == 1f ? bias : ScaledBias(rewriter, node, bias, beta));
    }

    // beta * C: folded into a new constant when C is one, else a Mul node.
    private static Value ScaledBias(QuantizationRewriter rewriter, Node node, Value bias, float beta)
    {
        if (bias.ConstantTensor is { DataType: DataType.Float } constant)
        {
            var values = constant.ToArray<float>();
            for (var i = 0; i < values.Length; i++)
            {
                values[i] *= beta;
            }

            return rewriter.AddInitializer(bias.Graph, Tensor.FromArray<float>(bias.Name + "_beta", constant.Dims.ToArray(), values));
        }

        var factor = rewriter.AddInitializer(node.Graph, Tensor.FromArray<float>(node.Name + "_beta", [], [beta]));
        return rewriter.AddNode(node, "Mul", [bias, factor], [bias.Name + "_beta"], node.Name + "_beta_Mul").Outputs[0]!;
    }
}
