using ModelShrink.Core.Quantization;
using ModelShrink.Core.Quantization.Operators;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using Attribute = ModelShrink.Onnx.Ir.Attribute;

namespace ModelShrink.Core.Passes.Int8Static;

/// <summary>
/// Replaces the float bias of a quantized Conv or Gemm by an int32 initializer read through a
/// DequantizeLinear (scale input scale x weight scale, zero point 0 left implicit, axis 0 with
/// per-channel weights): the form ONNX Runtime folds into QLinearConv and QGemm.
/// </summary>
internal sealed class BiasQuantizer(QuantizationRewriter rewriter, Passes.PassContext context)
{
    private readonly List<Value> replaced = [];

    /// <summary>Quantizes the bias (input 2) of a planned node whose activation has <paramref name="input"/>'s parameters.</summary>
    public void Quantize(NodePlan plan, QuantParameters input)
    {
        var node = plan.Node;
        var bias = node.Inputs[2]!;
        var weight = rewriter.Quantized(plan.Weights[0].Key);
        var channels = (int)(node.Is("Gemm") && node.GetInt("transB", 0) == 0 ? weight.Dims[1] : weight.Dims[0]);
        var values = bias.ConstantTensor!.ToArray<float>();
        if (values.Length == 1 && channels > 1)
        {
            values = Enumerable.Repeat(values[0], channels).ToArray();
        }

        var (codes, scales, clamped) = BiasQuantization.Quantize(values, input.Scale, weight.Scales);
        if (clamped > 0)
        {
            context.Warn(ErrorCodes.StaticBiasClamped,
                $"{clamped} value(s) of bias '{bias.Name}' of {node} do not fit int32 at input scale x weight scale and were clamped");
        }

        var graph = node.Graph;
        long[] shape = weight.PerTensor ? [] : [channels];
        var data = rewriter.AddInitializer(graph, Tensor.FromArray<int>(graph.UniqueName(bias.Name + "_quantized"), [channels], codes));
        var scale = rewriter.AddInitializer(graph, Tensor.FromArray<float>(graph.UniqueName(bias.Name + "_scale"), shape, scales));
        // No zero point: it is 0 by default, and the fused kernels take the int32 data alone.
        var dequantized = rewriter.AddQdqNode(graph, "DequantizeLinear", [data, scale], bias.Name + "_dequantized",
            bias.Name + "_DequantizeLinear", node, weight.PerTensor ? -1 : 0).Outputs[0]!;
        node.SetInput(2, dequantized);

        // ONNX Runtime's QGemm fusion reads beta without a default.
        if (node.Is("Gemm") && node.FindAttribute("beta") is null)
        {
            node.SetAttribute(Attribute.FromFloat("beta", 1f));
        }

        replaced.Add(bias);
        rewriter.Count("biases quantized");
    }

    /// <summary>Removes the float biases nothing reads any more.</summary>
    public void RemoveReplaced()
    {
        foreach (var bias in replaced.Distinct())
        {
            WeightFinder.RemoveIfUnused(bias);
        }
    }
}
