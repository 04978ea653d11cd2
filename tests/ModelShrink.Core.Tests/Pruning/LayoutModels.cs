using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using IrAttribute = ModelShrink.Onnx.Ir.Attribute;
using static ModelShrink.Core.Tests.Pruning.ChannelModels;

namespace ModelShrink.Core.Tests.Pruning;

/// <summary>How a Split names its parts' sizes.</summary>
public enum SplitForm
{
    /// <summary>The <c>split</c> attribute (opset 11).</summary>
    Attribute,

    /// <summary>The <c>split</c> input (opset 13).</summary>
    Input,

    /// <summary>No sizes: equal parts (opset 13).</summary>
    Equal,

    /// <summary>The <c>num_outputs</c> attribute (opset 18).</summary>
    NumOutputs,
}

/// <summary>Small hand-made CNNs with Split, Slice and Squeeze around the channels.</summary>
internal static class LayoutModels
{
    /// <summary>
    /// x -> conv(8) -> Relu -> Split(axis 1: 3 and 5, or 4 and 4 for equal parts) -> convL(4) and convR(4)
    /// -> Concat(axis 1) -> Relu -> GlobalAveragePool -> Flatten -> head Gemm.
    /// </summary>
    public static Model SplitIntoTwoConvs(SplitForm form)
    {
        var opset = form switch { SplitForm.Attribute => 11, SplitForm.NumOutputs => 18, _ => 13 };
        var model = Model.Create("split", 8, ("", opset));
        var g = model.Graph;
        var x = g.AddInput("x", TensorType.Of(DataType.Float, "N", 3, 8, 8));
        var a = Relu(g, Conv(g, "conv", x, 8, 3, 3, bias: true));
        long[] sizes = form is SplitForm.Equal or SplitForm.NumOutputs ? [4, 4] : [3, 5];
        List<IrAttribute> attributes = [IrAttribute.FromInt("axis", 1)];
        var inputs = new List<Value?> { a };
        switch (form)
        {
            case SplitForm.Attribute:
                attributes.Add(IrAttribute.FromInts("split", sizes));
                break;
            case SplitForm.Input:
                inputs.Add(g.AddInitializer(Tensor.FromArray<long>("split_sizes", [2], sizes)));
                break;
            case SplitForm.NumOutputs:
                attributes.Add(IrAttribute.FromInt("num_outputs", 2));
                break;
        }

        var split = g.AddNode("Split", inputs, ["left", "right"], attributes, name: "split");
        var left = Conv(g, "convL", split.Outputs[0]!, 4, (int)sizes[0], 3, bias: true);
        var right = Conv(g, "convR", split.Outputs[1]!, 4, (int)sizes[1], 3, bias: true);
        var joined = g.AddNode("Concat", [left, right], ["joined"], [IrAttribute.FromInt("axis", 1)], name: "concat").Outputs[0]!;
        Head(g, Relu(g, joined), 8);
        return model;
    }

    /// <summary>
    /// A CSP block: x -> conv(8) -> Relu -> Split(axis 1: 3 and 5) = p, q; q -> convM(5) = m; Add(q, m) (a residual
    /// over the second part) -> depthwise(5, group 5, no bias) -> Relu = r; Concat(p, r) -> convOut(6) -> Relu -> head Gemm.
    /// </summary>
    public static Model CrossStagePartial()
    {
        var model = Model.Create("csp", 8, ("", 13));
        var g = model.Graph;
        var x = g.AddInput("x", TensorType.Of(DataType.Float, "N", 3, 8, 8));
        var a = Relu(g, Conv(g, "conv", x, 8, 3, 3, bias: true));
        var split = g.AddNode("Split", [a, g.AddInitializer(Tensor.FromArray<long>("split_sizes", [2], [3, 5]))], ["p", "q"], [IrAttribute.FromInt("axis", 1)], name: "split");
        var q = split.Outputs[1]!;
        var sum = g.AddNode("Add", [q, Conv(g, "convM", q, 5, 5, 3, bias: true)], ["sum"], name: "residual").Outputs[0]!;
        var dw = g.AddNode("Conv", [sum, W(g, "dw_w", [5, 1, 3, 3], 41)], ["dw"], [IrAttribute.FromInts("pads", [1, 1, 1, 1]), IrAttribute.FromInt("group", 5)], name: "depthwise").Outputs[0]!;
        var joined = g.AddNode("Concat", [split.Outputs[0], Relu(g, dw)], ["joined"], [IrAttribute.FromInt("axis", 1)], name: "concat").Outputs[0]!;
        Head(g, Relu(g, Conv(g, "convOut", joined, 6, 8, 3, bias: true)), 6);
        return model;
    }

    /// <summary>
    /// x -> conv(8) -> Relu -> Slice -> conv2(6) -> Relu -> GlobalAveragePool -> Squeeze(axes 2, 3) -> head Gemm, the Slice
    /// over H and W (1 to 7 of both, opset 13) or over the channels (2 to 7; its starts a graph input when <paramref name="computed"/>).
    /// </summary>
    public static Model SliceThenSqueeze(bool overChannels, bool computed = false, bool computedStep = false)
    {
        var model = Model.Create("slice", 8, ("", 13));
        var g = model.Graph;
        var x = g.AddInput("x", TensorType.Of(DataType.Float, "N", 3, 8, 8));
        var a = Relu(g, Conv(g, "conv", x, 8, 3, 3, bias: true));
        Value starts = computed ? g.AddInput("start", TensorType.Of(DataType.Int64, 1))
            : g.AddInitializer(Tensor.FromArray<long>("starts", overChannels ? [1] : [2], overChannels ? [2] : [1, 1]));
        var ends = g.AddInitializer(Tensor.FromArray<long>("ends", overChannels ? [1] : [2], overChannels ? [7] : [7, 7]));
        var axes = g.AddInitializer(Tensor.FromArray<long>("axes", overChannels ? [1] : [2], overChannels ? [1] : [2, 3]));
        Value[] inputs = computedStep ? [a, starts, ends, axes, g.AddInput("step", TensorType.Of(DataType.Int64, 1))] : [a, starts, ends, axes];
        var sliced = g.AddNode("Slice", inputs, ["sliced"], name: "slice").Outputs[0]!;
        var b = Relu(g, Conv(g, "conv2", sliced, 6, overChannels ? 5 : 8, 3, bias: true));
        var pooled = g.AddNode("GlobalAveragePool", [b], ["pooled"], name: "gap").Outputs[0]!;
        var squeezed = g.AddNode("Squeeze", [pooled, g.AddInitializer(Tensor.FromArray<long>("squeeze_axes", [2], [2, 3]))], ["squeezed"], name: "squeeze").Outputs[0]!;
        var logits = g.AddNode("Gemm", [squeezed, W(g, "head_w", [10, 6], 31), W(g, "head_b", [10], 32)], ["logits"], [IrAttribute.FromInt("transB", 1)], name: "head").Outputs[0]!;
        g.Outputs.Add(logits);
        return model;
    }

    /// <summary>
    /// x -> conv(8) -> Relu -> GlobalAveragePool = p [N, 8, 1, 1] -> Reshape to [N, width] -> MatMul(w [8, 10]) -> logits, the
    /// shape built from p's own Shape as exporters do: Paddle's Concat(Cast(Slice(Cast(Shape(p)), 0:1)), Cast(int32 [8])),
    /// PyTorch's Concat(Unsqueeze(Gather(Shape(p), 0)), [-1]); <paramref name="readChannels"/> gathers index 1 (the channel count) instead of 0.
    /// </summary>
    public static Model FlattenByShape(bool paddle, bool readChannels = false)
    {
        var model = Model.Create("flatten", 8, ("", paddle ? 9 : 13));
        var g = model.Graph;
        var x = g.AddInput("x", TensorType.Of(DataType.Float, "N", 3, 8, 8));
        var a = Relu(g, Conv(g, "conv", x, 8, 3, 3, bias: true));
        var pooled = g.AddNode("GlobalAveragePool", [a], ["pooled"], name: "gap").Outputs[0]!;
        var shape = g.AddNode("Shape", [pooled], ["shape"], name: "shape").Outputs[0]!;
        Value batch, width;
        if (paddle)
        {
            var shape32 = g.AddNode("Cast", [shape], ["shape32"], [IrAttribute.FromInt("to", (long)DataType.Int32)], name: "cast_shape").Outputs[0]!;
            var first = g.AddNode("Slice", [shape32], ["batch32"], [IrAttribute.FromInts("axes", [0]), IrAttribute.FromInts("starts", [readChannels ? 1 : 0]), IrAttribute.FromInts("ends", [readChannels ? 2 : 1])], name: "slice_batch").Outputs[0]!;
            batch = g.AddNode("Cast", [first], ["batch"], [IrAttribute.FromInt("to", (long)DataType.Int64)], name: "cast_batch").Outputs[0]!;
            var fill = g.AddNode("Constant", [], ["fill"], [IrAttribute.FromTensor("value", Tensor.FromArray<int>("fill", [1], [8]))], name: "fill").Outputs[0]!;
            width = g.AddNode("Cast", [fill], ["width"], [IrAttribute.FromInt("to", (long)DataType.Int64)], name: "cast_width").Outputs[0]!;
        }
        else
        {
            var index = g.AddInitializer(Tensor.FromArray<long>("index", [], [readChannels ? 1 : 0]));
            var gathered = g.AddNode("Gather", [shape, index], ["gathered"], name: "gather_batch").Outputs[0]!;
            batch = g.AddNode("Unsqueeze", [gathered, g.AddInitializer(Tensor.FromArray<long>("unsqueeze_axes", [1], [0]))], ["batch"], name: "unsqueeze_batch").Outputs[0]!;
            width = g.AddInitializer(Tensor.FromArray<long>("minus_one", [1], [-1]));
        }

        var target = g.AddNode("Concat", [batch, width], ["target"], [IrAttribute.FromInt("axis", 0)], name: "target").Outputs[0]!;
        var flat = g.AddNode("Reshape", [pooled, target], ["flat"], name: "flatten").Outputs[0]!;
        var logits = g.AddNode("MatMul", [flat, W(g, "head_w", [8, 10], 31)], ["logits"], name: "head").Outputs[0]!;
        g.Outputs.Add(logits);
        return model;
    }
}
