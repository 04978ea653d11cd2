using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using Attribute = ModelShrink.Onnx.Ir.Attribute;

namespace ModelShrink.Core.Quantization.Operators;

/// <summary>
/// Conv with a weight W [O, I/group, k...]: per-channel along axis 0. Preferred form: weight-only,
/// which ONNX Runtime folds back into its fastest float Conv, because its ConvInteger is a plain
/// im2col + integer GEMM slower than the float Conv, and dynamically quantized activations lose
/// accuracy on signal-like inputs (measurements in docs/implementation_notes.md). The integer form
/// is kept for users who ask for it; ORT's ConvInteger takes uint8 per-tensor weights only, so it
/// uses those whatever the scheme.
/// </summary>
public sealed class ConvQuantizer : IOperatorQuantizer
{
    private static readonly string[] ConvAttributes = ["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"];

    /// <inheritdoc />
    public IReadOnlyList<string> OpTypes { get; } = ["Conv"];

    /// <inheritdoc />
    public QuantForm PreferredForm => QuantForm.WeightOnly;

    /// <inheritdoc />
    public NodePlan? Plan(Node node, QuantizationRewriter rewriter)
    {
        if (rewriter.Weight(node, 1) is not { } weight || weight.ConstantTensor!.Dims.Count < 3)
        {
            return null;
        }

        var form = rewriter.FormFor(this);
        var bias = node.Inputs.Count > 2 ? node.Inputs[2] : null;
        if (form == QuantForm.Integer && bias is not null && bias.ConstantTensor is not { DataType: DataType.Float })
        {
            form = QuantForm.WeightOnly;
        }

        var key = form == QuantForm.Integer
            ? new WeightKey(weight, -1, false, WeightType.UInt8)
            : new WeightKey(weight, rewriter.ChannelAxis(form, 0), false);
        return new NodePlan(node, this, form, [(1, key)]);
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
        var name = node.Outputs[0]!.Name;
        var x = rewriter.DynamicallyQuantized(node.Inputs[0]!, node);
        var w = rewriter.Initializers(key);
        var attributes = node.Attributes.Where(a => ConvAttributes.Contains(a.Name)).ToArray();
        var integer = rewriter.AddNode(node, "ConvInteger", [x.Data, w.Data, x.ZeroPoint, w.ZeroPoint], [name + "_int32"],
            node.Name + "_ConvInteger", attributes).Outputs[0]!;
        var product = rewriter.AddNode(node, "Cast", [integer], [name + "_int32_float"], node.Name + "_Cast",
            Attribute.FromInt("to", (long)DataType.Float)).Outputs[0]!;
        var scale = rewriter.AddNode(node, "Mul", [x.Scale, w.Scale], [name + "_scale"], node.Name + "_scales_Mul").Outputs[0]!;
        if (node.Inputs.Count <= 2 || node.Inputs[2] is not { } bias)
        {
            QuantizationRewriter.Become(node, "Mul", product, scale);
            return;
        }

        // The bias [O] broadcast over [N, O, spatial...].
        var biasTensor = bias.ConstantTensor!;
        var rank = key.Weight.ConstantTensor!.Dims.Count;
        var shape = new long[rank];
        Array.Fill(shape, 1L);
        shape[1] = biasTensor.ElementCount;
        var reshaped = rewriter.AddInitializer(bias.Graph, Tensor.FromArray<float>(bias.Name + "_broadcast", shape, biasTensor.ToArray<float>()));
        var scaled = rewriter.AddNode(node, "Mul", [product, scale], [name + "_unbiased"], node.Name + "_Mul").Outputs[0]!;
        QuantizationRewriter.Become(node, "Add", scaled, reshaped);
    }
}
