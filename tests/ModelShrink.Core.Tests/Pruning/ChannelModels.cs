using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using IrAttribute = ModelShrink.Onnx.Ir.Attribute;

namespace ModelShrink.Core.Tests.Pruning;

/// <summary>Small hand-made CNNs with the patterns channel pruning must rewrite or refuse.</summary>
internal static class ChannelModels
{
    /// <summary>
    /// x[N,3,8,8] -> convA(8) -> BatchNormalization -> Relu ─┐
    /// x ───────────> convB(6, 1x1) -> Relu ─────────────────┴> Concat(axis 1) -> convC(12) -> Relu
    /// -> GlobalAveragePool -> Flatten -> head Gemm(10) -> logits.
    /// </summary>
    public static Model BranchesIntoConcat()
    {
        var model = Model.Create("branches", 8, ("", 13));
        var g = model.Graph;
        var x = g.AddInput("x", TensorType.Of(DataType.Float, "N", 3, 8, 8));
        var a = Conv(g, "convA", x, 8, 3, 3, bias: true);
        var bn = g.AddNode("BatchNormalization", [a, W(g, "bn_scale", [8], 11, 0.5f, 1.5f), W(g, "bn_bias", [8], 12), W(g, "bn_mean", [8], 13), W(g, "bn_var", [8], 14, 0.5f, 1.5f)], ["bn"], name: "bn").Outputs[0]!;
        var reluA = Relu(g, bn);
        var b = Relu(g, Conv(g, "convB", x, 6, 3, 1, bias: false));
        var concat = g.AddNode("Concat", [reluA, b], ["concat"], [IrAttribute.FromInt("axis", 1)], name: "concat").Outputs[0]!;
        var c = Relu(g, Conv(g, "convC", concat, 12, 14, 3, bias: false));
        var pooled = g.AddNode("GlobalAveragePool", [c], ["pooled"], name: "gap").Outputs[0]!;
        var flat = g.AddNode("Flatten", [pooled], ["flat"], [IrAttribute.FromInt("axis", 1)], name: "flatten").Outputs[0]!;
        var logits = g.AddNode("Gemm", [flat, W(g, "head_w", [10, 12], 15), W(g, "head_b", [10], 16)], ["logits"], [IrAttribute.FromInt("transB", 1)], name: "head").Outputs[0]!;
        logits.Type = TensorType.Of(DataType.Float, "N", 10);
        g.Outputs.Add(logits);
        return model;
    }

    /// <summary>x -> conv(8) -> Relu -> depthwise conv(8, group 8) -> Relu -> GlobalAveragePool -> Flatten -> head Gemm.</summary>
    public static Model IntoDepthwise()
    {
        var model = Model.Create("depthwise", 8, ("", 13));
        var g = model.Graph;
        var x = g.AddInput("x", TensorType.Of(DataType.Float, "N", 3, 8, 8));
        var a = Relu(g, Conv(g, "conv", x, 8, 3, 3, bias: true));
        var dw = g.AddNode("Conv", [a, W(g, "dw_w", [8, 1, 3, 3], 21)], ["dw"], [IrAttribute.FromInts("pads", [1, 1, 1, 1]), IrAttribute.FromInt("group", 8)], name: "depthwise").Outputs[0]!;
        Head(g, Relu(g, dw), 8);
        return model;
    }

    /// <summary>
    /// x -> conv1(8) -> Relu -> depthwise conv(8, "dw1") -> Relu -> conv2(8) -> Relu -> depthwise conv(8, "dw2") -> Relu
    /// -> GlobalAveragePool -> Flatten -> head Gemm: two depthwise Convs, each after its own layer.
    /// </summary>
    public static Model TwoDepthwise()
    {
        var model = Model.Create("two-depthwise", 8, ("", 13));
        var g = model.Graph;
        var x = g.AddInput("x", TensorType.Of(DataType.Float, "N", 3, 8, 8));
        var a = Relu(g, Conv(g, "conv1", x, 8, 3, 3, bias: true));
        var dw1 = Relu(g, g.AddNode("Conv", [a, W(g, "dw1_w", [8, 1, 3, 3], 23)], ["dw1"], [IrAttribute.FromInts("pads", [1, 1, 1, 1]), IrAttribute.FromInt("group", 8)], name: "dw1").Outputs[0]!);
        var b = Relu(g, Conv(g, "conv2", dw1, 8, 8, 3, bias: true));
        var dw2 = g.AddNode("Conv", [b, W(g, "dw2_w", [8, 1, 3, 3], 24)], ["dw2"], [IrAttribute.FromInts("pads", [1, 1, 1, 1]), IrAttribute.FromInt("group", 8)], name: "dw2").Outputs[0]!;
        Head(g, Relu(g, dw2), 8);
        return model;
    }

    /// <summary>x -> conv(8) -> Relu -> grouped conv(8, group 2: four input channels per group) -> Relu -> GlobalAveragePool -> Flatten -> head Gemm.</summary>
    public static Model IntoGrouped()
    {
        var model = Model.Create("grouped", 8, ("", 13));
        var g = model.Graph;
        var x = g.AddInput("x", TensorType.Of(DataType.Float, "N", 3, 8, 8));
        var a = Relu(g, Conv(g, "conv", x, 8, 3, 3, bias: true));
        var grouped = g.AddNode("Conv", [a, W(g, "grouped_w", [8, 4, 3, 3], 22)], ["grouped"], [IrAttribute.FromInts("pads", [1, 1, 1, 1]), IrAttribute.FromInt("group", 2)], name: "grouped").Outputs[0]!;
        Head(g, Relu(g, grouped), 8);
        return model;
    }

    /// <summary>
    /// x -> conv(8) -> Relu -> Pad (H and W by 1) -> Resize (nearest, scales 1,1,2,2) -> depthwise conv(16, group 8: two
    /// per channel, with bias) -> Relu -> conv2(6) -> GlobalAveragePool -> Flatten -> head Gemm: the PP-OCR detector's neck, small.
    /// </summary>
    public static Model PadResizeDepthwise()
    {
        var model = Model.Create("neck", 8, ("", 13));
        var g = model.Graph;
        var x = g.AddInput("x", TensorType.Of(DataType.Float, "N", 3, 8, 8));
        var a = Relu(g, Conv(g, "conv", x, 8, 3, 3, bias: true));
        var pads = g.AddInitializer(Tensor.FromArray<long>("pads", [8], [0, 0, 1, 1, 0, 0, 1, 1]));
        var padded = g.AddNode("Pad", [a, pads], ["padded"], name: "pad").Outputs[0]!;
        var scales = g.AddInitializer(Tensor.FromArray<float>("scales", [4], [1, 1, 2, 2]));
        var resized = g.AddNode("Resize", [padded, null, scales], ["resized"], [IrAttribute.FromString("mode", "nearest")], name: "resize").Outputs[0]!;
        var dw = g.AddNode("Conv", [resized, W(g, "dw_w", [16, 1, 3, 3], 23), W(g, "dw_b", [16], 24)], ["dw"],
            [IrAttribute.FromInts("pads", [1, 1, 1, 1]), IrAttribute.FromInt("group", 8)], name: "depthwise").Outputs[0]!;
        var b = Relu(g, Conv(g, "conv2", Relu(g, dw), 6, 16, 3, bias: true));
        Head(g, b, 6);
        return model;
    }

    /// <summary>
    /// x -> convA(8) -> Relu = r; r -> convB(8) -> Add(r) = s (a residual join); s -> GlobalAveragePool -> se1(2) -> Relu
    /// -> se2(8) -> HardSigmoid = gate; Mul(s, gate) (squeeze-excitation) -> convC(6) -> Relu -> head Gemm.
    /// </summary>
    public static Model ResidualAndSqueezeExcitation()
    {
        var model = Model.Create("residual-se", 8, ("", 13));
        var g = model.Graph;
        var x = g.AddInput("x", TensorType.Of(DataType.Float, "N", 3, 8, 8));
        var r = Relu(g, Conv(g, "convA", x, 8, 3, 3, bias: true));
        var sum = g.AddNode("Add", [r, Conv(g, "convB", r, 8, 8, 3, bias: true)], ["sum"], name: "residual").Outputs[0]!;
        var squeezed = g.AddNode("GlobalAveragePool", [sum], ["squeezed"], name: "se_pool").Outputs[0]!;
        var gate = g.AddNode("HardSigmoid", [Conv(g, "se2", Relu(g, Conv(g, "se1", squeezed, 2, 8, 1, bias: true)), 8, 2, 1, bias: true)], ["gate"], name: "se_gate").Outputs[0]!;
        var excited = g.AddNode("Mul", [sum, gate], ["excited"], name: "se_mul").Outputs[0]!;
        Head(g, Relu(g, Conv(g, "convC", excited, 6, 8, 3, bias: true)), 6);
        return model;
    }

    /// <summary>x -> conv(8) -> Relu (also a graph output) -> conv2(8) -> Relu -> GlobalAveragePool -> Flatten -> head Gemm.</summary>
    public static Model WithIntermediateOutput()
    {
        var model = Model.Create("tap", 8, ("", 13));
        var g = model.Graph;
        var x = g.AddInput("x", TensorType.Of(DataType.Float, "N", 3, 8, 8));
        var a = Relu(g, Conv(g, "conv", x, 8, 3, 3, bias: true));
        g.Outputs.Add(a);
        var b = Relu(g, Conv(g, "conv2", a, 8, 8, 3, bias: true));
        Head(g, b, 8);
        return model;
    }

    /// <summary>Random input of shape [4, 3, 8, 8].</summary>
    public static Tensor Input() => Tensor.FromArray<float>("x", [4, 3, 8, 8], PruningHarness.RandomValues(4 * 3 * 64, 77));

    /// <summary>Saves a model to a path and returns the path.</summary>
    public static string Save(Model model, string path)
    {
        ModelWriter.Save(model, path);
        return path;
    }

    public static void Head(Graph g, Value features, int channels)
    {
        var pooled = g.AddNode("GlobalAveragePool", [features], ["pooled"], name: "gap").Outputs[0]!;
        var flat = g.AddNode("Flatten", [pooled], ["flat"], [IrAttribute.FromInt("axis", 1)], name: "flatten").Outputs[0]!;
        var logits = g.AddNode("Gemm", [flat, W(g, "head_w", [10, channels], 31), W(g, "head_b", [10], 32)], ["logits"], [IrAttribute.FromInt("transB", 1)], name: "head").Outputs[0]!;
        g.Outputs.Add(logits);
    }

    public static Value Conv(Graph g, string name, Value input, int outChannels, int inChannels, int kernel, bool bias)
    {
        var inputs = new List<Value?> { input, W(g, name + "_w", [outChannels, inChannels, kernel, kernel], name.Sum(c => c)) };
        if (bias)
        {
            inputs.Add(W(g, name + "_b", [outChannels], name.Length));
        }

        var pad = kernel / 2;
        return g.AddNode("Conv", inputs, [name], [IrAttribute.FromInts("pads", [pad, pad, pad, pad])], name: name).Outputs[0]!;
    }

    public static Value Relu(Graph g, Value input) => g.AddNode("Relu", [input], [input.Name + "_relu"], name: input.Name + "_relu").Outputs[0]!;

    public static Value W(Graph g, string name, long[] dims, int seed, float low = -1f, float high = 1f)
    {
        var random = new Random(seed);
        var count = (int)dims.Aggregate(1L, (a, b) => a * b);
        var values = Enumerable.Range(0, count).Select(_ => low + (float)random.NextDouble() * (high - low)).ToArray();
        return g.AddInitializer(Tensor.FromArray<float>(name, dims, values));
    }
}
