using ModelShrink.Core.Passes.Pruning;
using ModelShrink.Core.Passes.Pruning.Channels;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Shared;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Pruning;

/// <summary>Channel pruning of MatMul-based attention: whole heads go from Q, K, V, the shapes and the output projection.</summary>
[TestClass]
public sealed class AttentionHeadTests
{
    private static readonly PruneOptions HalfTheHeads = new() { Method = PruneMethod.Channels, Sparsity = 0.5, KeepFirstAndLast = false, MinLayerSize = 0 };

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void TheHeadsGoFromQKVTheirReshapesThePerHeadBiasAndTheOutputProjection()
    {
        using var temp = new TempDirectory();
        var path = ChannelModels.Save(AttentionModels.Block(), temp.File("attention.onnx"));

        var pruned = PruningHarness.PruneFile(path, HalfTheHeads, temp);

        Print(pruned);
        Assert.AreEqual(2, pruned.Counter(ChannelPruner.HeadsRemoved));
        Assert.AreEqual(3, pruned.Counter("layers narrowed"), "q, k and v");
        var perBlock = pruned.Result.Counters.Single(c => c.Key.StartsWith(ChannelPruner.HeadsRemovedAt, StringComparison.Ordinal));
        StringAssert.Matches(perBlock.Key, new System.Text.RegularExpressions.Regex(@"^heads removed at q, k, v: \d, \d of 4$"));
        Assert.AreEqual(2, perBlock.Value);
        foreach (var name in new[] { "q", "k", "v" })
        {
            CollectionAssert.AreEqual(new long[] { 16, 8 }, PruningHarness.Dims(pruned.Model, name + "_w"), name);
            CollectionAssert.AreEqual(new long[] { 8 }, PruningHarness.Dims(pruned.Model, name + "_b"), name);
        }

        CollectionAssert.AreEqual(new long[] { 8, 16 }, PruningHarness.Dims(pruned.Model, "o_w"), "the output projection loses the heads' input rows");
        CollectionAssert.AreEqual(new long[] { 16 }, PruningHarness.Dims(pruned.Model, "o_b"));
        CollectionAssert.AreEqual(new long[] { 1, 2, 5, 5 }, PruningHarness.Dims(pruned.Model, "head_bias"), "a per-head constant is cut with the heads");
        CollectionAssert.AreEqual(new long[] { 5, 5 }, PruningHarness.Dims(pruned.Model, "mask"));

        // The head counts in the shapes: a constant piece of q's Concat, k's constant shape, v's -1 left to infer,
        // and the width of the Reshape back (read from Shape(x) before) now a constant.
        var nodes = pruned.Model.Graph.Nodes.ToDictionary(n => n.Name);
        CollectionAssert.AreEqual(new long[] { 2 }, nodes["q_shape"].Inputs[2]!.ConstantTensor!.ToArray<long>());
        CollectionAssert.AreEqual(new long[] { 4 }, nodes["q_shape"].Inputs[3]!.ConstantTensor!.ToArray<long>());
        CollectionAssert.AreEqual(new long[] { 0, -1, 2, 4 }, nodes["k_reshape"].Inputs[1]!.ConstantTensor!.ToArray<long>());
        CollectionAssert.AreEqual(new long[] { 0, 0, -1, 4 }, nodes["v_reshape"].Inputs[1]!.ConstantTensor!.ToArray<long>());
        CollectionAssert.AreEqual(new long[] { 8 }, nodes["o_shape"].Inputs[2]!.ConstantTensor!.ToArray<long>());
        Assert.IsFalse(nodes.ContainsKey("o_unsqueeze_2") || nodes.ContainsKey("o_gather_2") || nodes.ContainsKey("o_shape_2"), "the Shape(x)[2] piece is gone");
        Assert.IsTrue(nodes.ContainsKey("o_gather_1"));
        Assert.HasCount(3 * AttentionModels.Tokens * AttentionModels.Width, OrtRunner.Run(pruned.Path, [AttentionModels.Input()])["o_out"]);
    }

    // Zeroing a head's Q or K makes its softmax uniform, not zero; zeroing its V columns (and V bias) and the output
    // projection's rows for it silences it exactly, and the other heads' softmax never sees it.
    [TestMethod]
    public void ThePrunedBlockComputesWhatTheOriginalComputesWithTheRemovedHeadsVAndOutputRowsZeroed()
    {
        using var temp = new TempDirectory();
        var path = ChannelModels.Save(AttentionModels.Block(), temp.File("attention.onnx"));

        var pruned = PruningHarness.PruneFile(path, HalfTheHeads, temp);

        var removed = RemovedHeads(ModelReader.Load(path), pruned.Model, "q_b");
        Assert.HasCount(2, removed);
        var masked = ModelReader.Load(path);
        SilenceHeads(masked, removed, "v_w", "v_b", "o_w");
        var input = new[] { AttentionModels.Input() };
        var original = OrtRunner.Run(path, input)["o_out"];
        var expected = OrtRunner.Run(ChannelModels.Save(masked, temp.File("masked.onnx")), input)["o_out"];
        var actual = OrtRunner.Run(pruned.Path, input)["o_out"];
        var error = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        TestContext.WriteLine($"removed heads {string.Join(", ", removed)}; max |masked - pruned| {error:G3}, max |original - pruned| {original.Zip(actual, (e, a) => Math.Abs(e - a)).Max():G3}");
        Assert.IsLessThanOrEqualTo(1e-4, error);
        Assert.IsGreaterThan(1e-2, original.Zip(actual, (e, a) => Math.Abs(e - a)).Max(), "the heads removed did contribute");
    }

    [TestMethod]
    public void TheHeadsOfLeastWeightNormAcrossQKVAndTheOutputProjectionGo()
    {
        using var temp = new TempDirectory();
        var model = AttentionModels.Block();

        // Head 2 is made small in every weight of the group but one: the group's summed norm still ranks it last.
        foreach (var (name, rows) in new[] { ("q_w", false), ("k_w", false), ("o_w", true) })
        {
            Scale(model, name, head: 2, rows, factor: 0.01f);
        }

        var pruned = PruningHarness.PruneModel(model, "attention.onnx", HalfTheHeads with { Sparsity = 0.25 }, temp);

        Assert.AreEqual(1, pruned.Counter(ChannelPruner.HeadsRemoved));
        Assert.AreEqual(1, pruned.Counter($"{ChannelPruner.HeadsRemovedAt}q, k, v: 2 of 4"));
    }

    [TestMethod]
    public void MultiQueryAttentionIsLeftAloneWithMsh2406()
    {
        using var temp = new TempDirectory();
        var path = ChannelModels.Save(AttentionModels.Block(kvHeads: 1), temp.File("mqa.onnx"));
        Assert.HasCount(3 * AttentionModels.Tokens * AttentionModels.Width, OrtRunner.Run(path, [AttentionModels.Input()])["o_out"], "a valid model");

        var pruned = PruningHarness.PruneFile(path, HalfTheHeads, temp);

        Print(pruned);
        var warning = pruned.Context.Diagnostics.Single(d => d.Code == ErrorCodes.PruneChannelsReshaped);
        StringAssert.Contains(warning.Message, "q: its output is reshaped into heads, but not as an attention block this pass prunes: grouped- or multi-query attention: the K projection MatMul 'k' has 1 heads, MatMul 'q' 4");
        StringAssert.Contains(warning.Message, "k: its output is reshaped into heads, but not as an attention block this pass prunes: grouped- or multi-query attention: the Q projection MatMul 'q' has 4 heads, MatMul 'k' 1");
        Assert.AreEqual(0, pruned.Counter(ChannelPruner.HeadsRemoved));
        CollectionAssert.AreEqual(new long[] { 16, 16 }, PruningHarness.Dims(pruned.Model, "q_w"));
        CollectionAssert.AreEqual(new long[] { 16, 16 }, PruningHarness.Dims(pruned.Model, "o_w"));
    }

    [TestMethod]
    public void AFusedAttentionOpIsLeftAloneWithMsh2406()
    {
        using var temp = new TempDirectory();

        var pruned = PruningHarness.PruneModel(AttentionModels.Fused(), "fused.onnx", HalfTheHeads, temp);

        var warning = pruned.Context.Diagnostics.Single(d => d.Code == ErrorCodes.PruneChannelsReshaped);
        StringAssert.Contains(warning.Message, "3 layer(s) left alone: q: MultiHeadAttention 'mha' is a fused attention op");
        CollectionAssert.AreEqual(new long[] { 16, 16 }, PruningHarness.Dims(pruned.Model, "q_w"));
    }

    [TestMethod]
    public void AReshapeThatIsNotAttentionIsLeftAloneWithMsh2406()
    {
        using var temp = new TempDirectory();
        var model = AttentionModels.Block();

        // The scores read through an op the pattern does not know (a Where would be a masked_fill).
        var softmax = model.Graph.Nodes.Single(n => n.Name == "softmax");
        var clipped = model.Graph.AddNode("Clip", [softmax.Inputs[0]], ["clipped"], name: "clip", before: softmax).Outputs[0]!;
        softmax.SetInput(0, clipped);

        var pruned = PruningHarness.PruneModel(model, "attention.onnx", HalfTheHeads, temp);

        var warning = pruned.Context.Diagnostics.Single(d => d.Code == ErrorCodes.PruneChannelsReshaped);
        StringAssert.Contains(warning.Message, "q: its output is reshaped into heads, but not as an attention block this pass prunes: no MatMul(Q, Kᵀ) -> Softmax -> MatMul(·, V) follows");
        CollectionAssert.AreEqual(new long[] { 16, 16 }, PruningHarness.Dims(pruned.Model, "q_w"));
    }

    // The heads whose bias runs the pruned model no longer has (each head's run found by its first value).
    internal static List<int> RemovedHeads(Model original, Model pruned, string bias, int headSize = AttentionModels.HeadSize)
    {
        var before = PruningHarness.Weight(original, bias);
        var after = PruningHarness.Weight(pruned, bias);
        var kept = Enumerable.Range(0, after.Length / headSize).Select(k => Array.IndexOf(before, after[k * headSize]) / headSize).ToList();
        return Enumerable.Range(0, before.Length / headSize).Except(kept).ToList();
    }

    // Zeros, in `model`, the V columns and V bias of `heads` and the output projection's rows for them.
    internal static void SilenceHeads(Model model, IReadOnlyCollection<int> heads, string vWeight, string vBias, string oWeight, int headSize = AttentionModels.HeadSize)
    {
        foreach (var (name, rows) in new[] { (vWeight, false), (vBias, false), (oWeight, true) })
        {
            foreach (var head in heads)
            {
                Scale(model, name, head, rows, 0f, headSize);
            }
        }
    }

    // Multiplies head `head`'s columns (or rows) of a weight by `factor`.
    private static void Scale(Model model, string name, int head, bool rows, float factor, int headSize = AttentionModels.HeadSize)
    {
        var values = PruningHarness.Weight(model, name);
        var dims = PruningHarness.Dims(model, name);
        var width = dims[^1];
        for (var i = 0; i < values.Length; i++)
        {
            var position = rows ? i / width : i % width;
            if (position / headSize == head)
            {
                values[i] *= factor;
            }
        }

        model.Graph.ReplaceInitializer(model.Graph.FindValue(name)!, Tensor.FromArray<float>(name, dims, values));
    }

    private void Print(Pruned pruned)
    {
        TestContext.WriteLine(string.Join(", ", pruned.Result.Counters.Select(c => $"{c.Key} {c.Value}")));
        foreach (var d in pruned.Context.Diagnostics)
        {
            TestContext.WriteLine(d.ToString());
        }
    }
}
