using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using IrAttribute = ModelShrink.Onnx.Ir.Attribute;

namespace ModelShrink.Core.Tests.Pruning;

/// <summary>Small hand-made attention blocks, as PyTorch's exporter writes them, for head pruning.</summary>
internal static class AttentionModels
{
    /// <summary>Tokens per sequence.</summary>
    public const int Tokens = 5;

    /// <summary>Model width (heads × head size).</summary>
    public const int Width = 16;

    /// <summary>Head size.</summary>
    public const int HeadSize = 4;

    /// <summary>
    /// x[N, 5, 16] -> q, k, v (MatMul + bias Add, 4 heads of 4; k/v with <paramref name="kvHeads"/> heads) -> Reshape
    /// [B, T, H, D] (q: a Concat of Shape pieces and constants, as the exporter writes it; k: the constant [0, -1, H, 4];
    /// v: [0, 0, -1, 4]) -> Transpose (q, v: 0,2,1,3; k: 0,2,3,1) -> MatMul(q, kᵀ) -> Div 2 -> Add a per-head bias
    /// [1, 4, 5, 5] -> Add a causal mask [5, 5] -> Softmax -> MatMul(·, v) -> Transpose -> Reshape back [B, T, x.shape[2]]
    /// (from Shape(x), as the exporter writes it) -> o (MatMul + bias) -> y.
    /// </summary>
    public static Model Block(int kvHeads = 4)
    {
        var model = Model.Create("attention", 8, ("", 17));
        var g = model.Graph;
        var x = g.AddInput("x", TensorType.Of(DataType.Float, "N", Tokens, Width));
        var kvWidth = kvHeads * HeadSize;
        var q = Projection(g, "q", x, Width, 41);
        var k = Projection(g, "k", x, kvWidth, 42);
        var v = Projection(g, "v", x, kvWidth, 43);

        var qShape = g.AddNode("Concat", [Dim(g, x, 0, "q"), Dim(g, x, 1, "q"), Long(g, "q_heads", 4), Long(g, "q_size", HeadSize)], ["q_shape"], [IrAttribute.FromInt("axis", 0)], name: "q_shape").Outputs[0]!;
        var qh = Transpose(g, Reshape(g, "q", q, qShape), [0, 2, 1, 3]);
        var kh = Transpose(g, Reshape(g, "k", k, g.AddInitializer(Tensor.FromArray<long>("k_shape", [4], [0, -1, kvHeads, HeadSize]))), [0, 2, 3, 1]);
        var vh = Transpose(g, Reshape(g, "v", v, g.AddInitializer(Tensor.FromArray<long>("v_shape", [4], [0, 0, -1, HeadSize]))), [0, 2, 1, 3]);

        var scores = g.AddNode("MatMul", [qh, kh], ["scores"], name: "scores").Outputs[0]!;
        var scaled = g.AddNode("Div", [scores, g.AddInitializer(Tensor.FromArray<float>("scale", [], [2f]))], ["scaled"], name: "scale").Outputs[0]!;
        var biased = g.AddNode("Add", [scaled, W(g, "head_bias", [1, 4, Tokens, Tokens], 44)], ["biased"], name: "head_bias_add").Outputs[0]!;
        var mask = Enumerable.Range(0, Tokens * Tokens).Select(i => i % Tokens > i / Tokens ? -1e4f : 0f).ToArray();
        var masked = g.AddNode("Add", [biased, g.AddInitializer(Tensor.FromArray<float>("mask", [Tokens, Tokens], mask))], ["masked"], name: "mask_add").Outputs[0]!;
        var probabilities = g.AddNode("Softmax", [masked], ["probabilities"], [IrAttribute.FromInt("axis", -1)], name: "softmax").Outputs[0]!;
        var context = g.AddNode("MatMul", [probabilities, vh], ["context"], name: "context").Outputs[0]!;
        var back = Transpose(g, context, [0, 2, 1, 3]);
        var backShape = g.AddNode("Concat", [Dim(g, x, 0, "o"), Dim(g, x, 1, "o"), Dim(g, x, 2, "o")], ["o_shape"], [IrAttribute.FromInt("axis", 0)], name: "o_shape").Outputs[0]!;
        var merged = Reshape(g, "o", back, backShape);
        var y = Projection(g, "o", merged, Width, 45);
        y.Type = TensorType.Of(DataType.Float, "N", Tokens, Width);
        g.Outputs.Add(y);
        return model;
    }

    /// <summary>x[N, 5, 16] -> q, k, v MatMuls -> com.microsoft MultiHeadAttention (4 heads) -> o MatMul -> y.</summary>
    public static Model Fused()
    {
        var model = Model.Create("fused", 8, ("", 17), ("com.microsoft", 1));
        var g = model.Graph;
        var x = g.AddInput("x", TensorType.Of(DataType.Float, "N", Tokens, Width));
        var q = Projection(g, "q", x, Width, 41);
        var k = Projection(g, "k", x, Width, 42);
        var v = Projection(g, "v", x, Width, 43);
        var attention = g.AddNode("MultiHeadAttention", [q, k, v], ["attention"], [IrAttribute.FromInt("num_heads", 4)], name: "mha");
        attention.Domain = "com.microsoft";
        var y = Projection(g, "o", attention.Outputs[0]!, Width, 45);
        g.Outputs.Add(y);
        return model;
    }

    /// <summary>Random input of shape [3, 5, 16].</summary>
    public static Tensor Input() => Tensor.FromArray<float>("x", [3, Tokens, Width], PruningHarness.RandomValues(3 * Tokens * Width, 78));

    // MatMul then Add(bias, ·), as the exporter writes a Linear.
    private static Value Projection(Graph g, string name, Value input, int width, int seed)
    {
        var product = g.AddNode("MatMul", [input, W(g, name + "_w", [Width, width], seed)], [name + "_product"], name: name).Outputs[0]!;
        return g.AddNode("Add", [W(g, name + "_b", [width], seed + 100), product], [name + "_out"], name: name + "_bias").Outputs[0]!;
    }

    // Unsqueeze(Gather(Shape(x), axis)): one dim of x as a 1-D piece of a shape.
    private static Value Dim(Graph g, Value x, int axis, string prefix)
    {
        var shape = g.AddNode("Shape", [x], [$"{prefix}_shape_{axis}"], name: $"{prefix}_shape_{axis}").Outputs[0]!;
        var index = g.AddInitializer(Tensor.FromArray<long>($"{prefix}_index_{axis}", [], [axis]));
        var dim = g.AddNode("Gather", [shape, index], [$"{prefix}_dim_{axis}"], [IrAttribute.FromInt("axis", 0)], name: $"{prefix}_gather_{axis}").Outputs[0]!;
        var axes = g.AddInitializer(Tensor.FromArray<long>($"{prefix}_axes_{axis}", [1], [0]));
        return g.AddNode("Unsqueeze", [dim, axes], [$"{prefix}_piece_{axis}"], name: $"{prefix}_unsqueeze_{axis}").Outputs[0]!;
    }

    private static Value Long(Graph g, string name, long value) => g.AddInitializer(Tensor.FromArray<long>(name, [1], [value]));

    private static Value Reshape(Graph g, string name, Value input, Value shape) =>
        g.AddNode("Reshape", [input, shape], [name + "_reshaped"], name: name + "_reshape").Outputs[0]!;

    private static Value Transpose(Graph g, Value input, long[] perm) =>
        g.AddNode("Transpose", [input], [input.Name + "_t"], [IrAttribute.FromInts("perm", perm)], name: input.Name + "_transpose").Outputs[0]!;

    private static Value W(Graph g, string name, long[] dims, int seed)
    {
        var count = (int)dims.Aggregate(1L, (a, b) => a * b);
        return g.AddInitializer(Tensor.FromArray<float>(name, dims, PruningHarness.RandomValues(count, seed)));
    }
}
