using ModelShrink.Core.Passes.Pruning;
using ModelShrink.Core.Passes.Pruning.Channels;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Pruning;

/// <summary>Structured (channel) pruning: fewer parameters, same outputs' shapes, exact rewrites, named refusals.</summary>
[TestClass]
public sealed class ChannelPruningTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow("digits-mlp", 0.5)]
    [DataRow("digits-cnn", 0.5)]
    [DataRow("digits-transformer", 0.5)]
    public void StructuredPruningLowersTheParameterCountAndKeepsTheOutputShape(string fixture, double sparsity)
    {
        using var temp = new TempDirectory();
        var original = ModelReader.Load(Fixtures.Model(fixture));

        var pruned = PruningHarness.Prune(fixture, new PruneOptions { Method = PruneMethod.Channels, Sparsity = sparsity }, temp);
        var score = PruningHarness.Score(fixture, pruned.Path);

        var before = PruningHarness.Parameters(original);
        var after = PruningHarness.Parameters(pruned.Model);
        TestContext.WriteLine($"{fixture}: parameters {before} -> {after} ({after / (double)before:P1}); {score}; {string.Join(", ", pruned.Result.Counters.Select(c => $"{c.Key} {c.Value}"))}");
        foreach (var d in pruned.Context.Diagnostics)
        {
            TestContext.WriteLine(d.ToString());
        }

        Assert.IsLessThan(before, after);
        Assert.AreEqual(before, pruned.Counter("parameters before"));
        Assert.AreEqual(after, pruned.Counter("parameters after"));
        CollectionAssert.AreEqual(OrtRunner.IoElementTypes(Fixtures.Model(fixture)).ToArray(), OrtRunner.IoElementTypes(pruned.Path).ToArray());
        Assert.AreEqual(
            string.Join(",", original.Graph.Outputs[0].Type!.TensorType.Shape.Dim.Select(d => d.ToString())),
            string.Join(",", pruned.Model.Graph.Outputs[0].Type!.TensorType.Shape.Dim.Select(d => d.ToString())));
    }

    // digits-cnn's 32-channel conv2 and 64-channel fc1 at 0.3: 24 and 48 kept (not 23 and 45) unless the multiple is 1.
    [TestMethod]
    [DataRow(8, 0.3, "/conv2/Conv", 24L)]
    [DataRow(1, 0.3, "/conv2/Conv", 23L)]
    [DataRow(8, 0.3, "/fc1/Gemm", 48L)]
    [DataRow(1, 0.3, "/fc1/Gemm", 45L)]
    public void ChannelsKeptAreRoundedUpToAMultipleOfTheNchwcBlock(int multiple, double sparsity, string layer, long kept)
    {
        using var temp = new TempDirectory();
        var pruned = PruningHarness.Prune("digits-cnn", new PruneOptions { Method = PruneMethod.Channels, Sparsity = sparsity, ChannelMultiple = multiple }, temp);
        Assert.AreEqual(kept, PruningHarness.Dims(pruned.Model, PruningHarness.WeightOf(pruned.Model, layer))[0]);
    }

    [TestMethod]
    [DataRow(32, 0.3, 8, 8)]
    [DataRow(16, 0.3, 8, 0)]
    [DataRow(88, 0.3, 8, 24)]
    [DataRow(88, 0.3, 1, 26)]
    [DataRow(20, 0.5, 8, 10)]
    [DataRow(8, 0.99, 8, 0)]
    [DataRow(8, 0.99, 1, 7)]
    public void TheCountRemovedKeepsAMultipleOnlyWhereTheLayerHadOne(int channels, double sparsity, int multiple, int removed) =>
        Assert.AreEqual(removed, ChannelPruner.Count(channels, sparsity, multiple));

    [TestMethod]
    public void TheMlpComputesExactlyWhatTheOriginalComputesWithTheRemovedChannelsZeroed()
    {
        using var temp = new TempDirectory();

        var pruned = PruningHarness.Prune("digits-mlp", new PruneOptions { Method = PruneMethod.Channels, Sparsity = 0.5 }, temp);

        CollectionAssert.AreEqual(new long[] { 64, 256 }, PruningHarness.Dims(pruned.Model, "fc2.weight"));
        CollectionAssert.AreEqual(new long[] { 10, 64 }, PruningHarness.Dims(pruned.Model, "fc3.weight"));
        var masked = ModelReader.Load(Fixtures.Model("digits-mlp"));
        ZeroRemovedChannels(masked, pruned.Model, ("fc2.weight", "fc2.bias"));
        var score = PruningHarness.Score("digits-mlp", pruned.Path, ChannelModels.Save(masked, temp.File("masked.onnx")));
        Assert.IsLessThanOrEqualTo(1e-4, score.MaxAbsDiff, score.ToString());
    }

    [TestMethod]
    public void TheCnnComputesExactlyWhatTheOriginalComputesWithTheRemovedChannelsZeroed()
    {
        using var temp = new TempDirectory();

        var pruned = PruningHarness.Prune("digits-cnn", new PruneOptions { Method = PruneMethod.Channels, Sparsity = 0.5 }, temp);

        Assert.AreEqual(3, pruned.Counter("layers narrowed"));
        CollectionAssert.AreEqual(new long[] { 16, 16, 3, 3 }, PruningHarness.Dims(pruned.Model, "onnx::Conv_38"));
        CollectionAssert.AreEqual(new long[] { 16, 16, 3, 3 }, PruningHarness.Dims(pruned.Model, "conv3.weight"));
        CollectionAssert.AreEqual(new long[] { 32, 16 * 16 }, PruningHarness.Dims(pruned.Model, "fc1.weight"), "Flatten: 16 channels x 4x4");
        CollectionAssert.AreEqual(new long[] { 10, 32 }, PruningHarness.Dims(pruned.Model, "fc2.weight"));
        var masked = ModelReader.Load(Fixtures.Model("digits-cnn"));
        ZeroRemovedChannels(masked, pruned.Model, ("onnx::Conv_38", "onnx::Conv_39"), ("conv3.weight", "conv3.bias"), ("fc1.weight", "fc1.bias"));
        var score = PruningHarness.Score("digits-cnn", pruned.Path, ChannelModels.Save(masked, temp.File("masked.onnx")));
        Assert.IsLessThanOrEqualTo(1e-4, score.MaxAbsDiff, score.ToString());
    }

    [TestMethod]
    public void FlattenedChannelsCutTheNextGemmInRunsOfTheSpatialSize()
    {
        using var temp = new TempDirectory();
        var original = ModelReader.Load(Fixtures.Model("digits-cnn"));

        var pruned = PruningHarness.Prune("digits-cnn", new PruneOptions { Method = PruneMethod.Channels, Sparsity = 0.5, SkipNodes = ["/fc1/Gemm"] }, temp);

        var kept = KeptChannels(PruningHarness.Weight(original, "conv3.bias"), PruningHarness.Weight(pruned.Model, "conv3.bias"));
        var before = PruningHarness.Weight(original, "fc1.weight");
        var after = PruningHarness.Weight(pruned.Model, "fc1.weight");
        Assert.HasCount(16, kept);
        for (var row = 0; row < 64; row++)
        {
            var expected = kept.SelectMany(c => Enumerable.Range(c * 16, 16)).Select(column => before[row * 512 + column]).ToArray();
            CollectionAssert.AreEqual(expected, after.Skip(row * 256).Take(256).ToArray(), $"row {row}");
        }
    }

    [TestMethod]
    public void BatchNormalizationConcatOffsetsAndGlobalPoolingAreRewrittenExactly()
    {
        using var temp = new TempDirectory();
        var model = ChannelModels.BranchesIntoConcat();
        var original = ChannelModels.Save(model, temp.File("branches.onnx"));

        var pruned = PruningHarness.PruneFile(original, new PruneOptions { Method = PruneMethod.Channels, Sparsity = 0.5, KeepFirstAndLast = false, MinLayerSize = 0, ChannelMultiple = 1 }, temp);

        foreach (var d in pruned.Context.Diagnostics)
        {
            TestContext.WriteLine(d.ToString());
        }

        Assert.AreEqual(3, pruned.Counter("layers narrowed"), "convA, convB, convC; the head's channels are the graph output");
        Assert.AreEqual(4 + 3 + 6, pruned.Counter("channels removed"));
        CollectionAssert.AreEqual(new long[] { 6, 4 + 3, 3, 3 }, PruningHarness.Dims(pruned.Model, "convC_w"));
        CollectionAssert.AreEqual(new long[] { 4 }, PruningHarness.Dims(pruned.Model, "bn_var"));
        CollectionAssert.AreEqual(new long[] { 10, 6 }, PruningHarness.Dims(pruned.Model, "head_w"));
        Assert.Contains(ErrorCodes.PruneChannelsUnsupported, pruned.Codes.ToList());

        // The original with the removed channels silenced (weights, bias, BatchNormalization scale and shift) computes the same.
        var masked = ModelReader.Load(original);
        var keptA = ZeroRemovedChannels(masked, pruned.Model, ("convA_w", "convA_b"))[0];
        foreach (var name in new[] { "bn_scale", "bn_bias" })
        {
            var values = PruningHarness.Weight(masked, name);
            for (var c = 0; c < values.Length; c++)
            {
                values[c] = keptA.Contains(c) ? values[c] : 0;
            }

            masked.Graph.ReplaceInitializer(masked.Graph.FindValue(name)!, Tensor.FromArray<float>(name, [values.Length], values));
        }

        ZeroRowsMatching(masked, pruned.Model, "convB_w", 3 * 1 * 1);
        ZeroRowsMatching(masked, pruned.Model, "convC_w", 0);
        var input = new[] { ChannelModels.Input() };
        var expected = OrtRunner.Run(ChannelModels.Save(masked, temp.File("masked.onnx")), input)["logits"];
        var actual = OrtRunner.Run(pruned.Path, input)["logits"];
        Assert.HasCount(40, actual);
        Assert.IsLessThanOrEqualTo(1e-4, expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max());
    }

    [TestMethod]
    public void ADepthwiseConvGoesWithTheLayerBeforeItWeightBiasAndGroupShrinking()
    {
        using var temp = new TempDirectory();
        var path = ChannelModels.Save(ChannelModels.IntoDepthwise(), temp.File("dw.onnx"));

        var pruned = PruningHarness.PruneFile(path, new PruneOptions { Method = PruneMethod.Channels, KeepFirstAndLast = false, MinLayerSize = 0, ChannelMultiple = 1 }, temp);

        CollectionAssert.AreEqual(new long[] { 4, 3, 3, 3 }, PruningHarness.Dims(pruned.Model, "conv_w"));
        CollectionAssert.AreEqual(new long[] { 4, 1, 3, 3 }, PruningHarness.Dims(pruned.Model, "dw_w"));
        Assert.AreEqual(4L, pruned.Model.Graph.Nodes.Single(n => n.Name == "depthwise").GetInt("group", 0));
        CollectionAssert.AreEqual(new long[] { 10, 4 }, PruningHarness.Dims(pruned.Model, "head_w"));
        Assert.AreEqual(2, pruned.Counter("layers narrowed"), "conv, and the depthwise Conv that lost its filters with it");
        Assert.IsFalse(pruned.Codes.Contains(ErrorCodes.PruneChannelsGrouped), "the depthwise Conv went with conv, so it is not named as left alone");

        // The original with the removed channels silenced computes the same.
        var masked = ModelReader.Load(path);
        ZeroRemovedChannels(masked, pruned.Model, ("conv_w", "conv_b"));
        var input = new[] { ChannelModels.Input() };
        var expected = OrtRunner.Run(ChannelModels.Save(masked, temp.File("masked.onnx")), input)["logits"];
        Assert.IsLessThanOrEqualTo(1e-4, expected.Zip(OrtRunner.Run(pruned.Path, input)["logits"], (e, a) => Math.Abs(e - a)).Max());
    }

    [TestMethod]
    public void OnlyADepthwiseConvWhoseLayerBeforeItWasLeftDenseIsNamedAsLeftAlone()
    {
        using var temp = new TempDirectory();
        var path = ChannelModels.Save(ChannelModels.TwoDepthwise(), temp.File("two.onnx"));

        var pruned = PruningHarness.PruneFile(path, new PruneOptions { Method = PruneMethod.Channels, KeepFirstAndLast = false, MinLayerSize = 0, ChannelMultiple = 1, SkipNodes = ["conv1", "head"] }, temp);

        CollectionAssert.AreEqual(new long[] { 8, 1, 3, 3 }, PruningHarness.Dims(pruned.Model, "dw1_w"), "conv1 was skipped, so dw1 keeps its channels");
        CollectionAssert.AreEqual(new long[] { 4, 1, 3, 3 }, PruningHarness.Dims(pruned.Model, "dw2_w"), "dw2 went with conv2");
        Assert.AreEqual(2, pruned.Counter("layers narrowed"), "conv2 and dw2 with it; dw1 is not");
        Assert.AreEqual(1, pruned.Counter("layers left alone"));
        var warning = pruned.Context.Diagnostics.Single(d => d.Code == ErrorCodes.PruneChannelsGrouped);
        Assert.AreEqual("channels: 1 layer(s) left alone: dw1: it is a depthwise Conv: its channels go with the layer before it, which was not pruned", warning.Message);
    }

    [TestMethod]
    public void PadAndResizeOverTheSpatialAxesCarryTheChannelsIntoADepthwiseConvWithAMultiplier()
    {
        using var temp = new TempDirectory();
        var path = ChannelModels.Save(ChannelModels.PadResizeDepthwise(), temp.File("neck.onnx"));

        var pruned = PruningHarness.PruneFile(path, new PruneOptions { Method = PruneMethod.Channels, KeepFirstAndLast = false, MinLayerSize = 0, ChannelMultiple = 1, SkipNodes = ["conv2"] }, temp);

        foreach (var d in pruned.Context.Diagnostics)
        {
            TestContext.WriteLine(d.ToString());
        }

        CollectionAssert.AreEqual(new long[] { 4, 3, 3, 3 }, PruningHarness.Dims(pruned.Model, "conv_w"));
        CollectionAssert.AreEqual(new long[] { 8, 1, 3, 3 }, PruningHarness.Dims(pruned.Model, "dw_w"), "two output channels per kept channel");
        CollectionAssert.AreEqual(new long[] { 8 }, PruningHarness.Dims(pruned.Model, "dw_b"));
        CollectionAssert.AreEqual(new long[] { 6, 8, 3, 3 }, PruningHarness.Dims(pruned.Model, "conv2_w"));

        // Silenced in the original: conv's removed channels, and the depthwise outputs that read them
        // (whose bias would otherwise leak through), so conv2 sees the same.
        var masked = ModelReader.Load(path);
        var kept = ZeroRemovedChannels(masked, pruned.Model, ("conv_w", "conv_b"))[0];
        var dwBias = PruningHarness.Weight(masked, "dw_b");
        for (var c = 0; c < dwBias.Length; c++)
        {
            dwBias[c] = kept.Contains(c / 2) ? dwBias[c] : 0;
        }

        masked.Graph.ReplaceInitializer(masked.Graph.FindValue("dw_b")!, Tensor.FromArray<float>("dw_b", [16], dwBias));
        var input = new[] { ChannelModels.Input() };
        var expected = OrtRunner.Run(ChannelModels.Save(masked, temp.File("masked.onnx")), input)["logits"];
        Assert.IsLessThanOrEqualTo(1e-4, expected.Zip(OrtRunner.Run(pruned.Path, input)["logits"], (e, a) => Math.Abs(e - a)).Max());
    }

    [TestMethod]
    public void AResidualJoinAndASqueezeExcitationGatePruneTheirLayersAsOneGroup()
    {
        using var temp = new TempDirectory();
        var path = ChannelModels.Save(ChannelModels.ResidualAndSqueezeExcitation(), temp.File("group.onnx"));

        var pruned = PruningHarness.PruneFile(path, new PruneOptions { Method = PruneMethod.Channels, KeepFirstAndLast = false, MinLayerSize = 0, ChannelMultiple = 1, SkipNodes = ["convC", "se1"] }, temp);

        foreach (var d in pruned.Context.Diagnostics)
        {
            TestContext.WriteLine(d.ToString());
        }

        // convA, convB (residual) and se2 (the gate) lose the same 4 channels; se1 and convC lose input columns.
        Assert.AreEqual(3, pruned.Counter("layers narrowed"));
        Assert.AreEqual(4, pruned.Counter("channels removed"));
        CollectionAssert.AreEqual(new long[] { 4, 3, 3, 3 }, PruningHarness.Dims(pruned.Model, "convA_w"));
        CollectionAssert.AreEqual(new long[] { 4, 4, 3, 3 }, PruningHarness.Dims(pruned.Model, "convB_w"));
        CollectionAssert.AreEqual(new long[] { 2, 4, 1, 1 }, PruningHarness.Dims(pruned.Model, "se1_w"));
        CollectionAssert.AreEqual(new long[] { 4, 2, 1, 1 }, PruningHarness.Dims(pruned.Model, "se2_w"));
        CollectionAssert.AreEqual(new long[] { 6, 4, 3, 3 }, PruningHarness.Dims(pruned.Model, "convC_w"));

        // The original with the group's removed channels silenced in convA and convB computes the
        // same: the sum is zero there, so the gate's value for them does not matter.
        var masked = ModelReader.Load(path);
        ZeroRemovedChannels(masked, pruned.Model, ("convA_w", "convA_b"), ("convB_w", "convB_b"));
        var input = new[] { ChannelModels.Input() };
        var expected = OrtRunner.Run(ChannelModels.Save(masked, temp.File("masked.onnx")), input)["logits"];
        Assert.IsLessThanOrEqualTo(1e-4, expected.Zip(OrtRunner.Run(pruned.Path, input)["logits"], (e, a) => Math.Abs(e - a)).Max());
    }

    [TestMethod]
    public void AGroupedConvThatIsNotDepthwiseLeavesTheLayerAloneWithMsh2405()
    {
        using var temp = new TempDirectory();
        var path = ChannelModels.Save(ChannelModels.IntoGrouped(), temp.File("grouped.onnx"));

        var pruned = PruningHarness.PruneFile(path, new PruneOptions { Method = PruneMethod.Channels, KeepFirstAndLast = false, MinLayerSize = 0, ChannelMultiple = 1 }, temp);

        var warning = pruned.Context.Diagnostics.Single(d => d.Code == ErrorCodes.PruneChannelsGrouped);
        StringAssert.Contains(warning.Message, "conv: the next layer Conv 'grouped' is a grouped Conv (group 2) that is not depthwise");
        CollectionAssert.AreEqual(new long[] { 8, 3, 3, 3 }, PruningHarness.Dims(pruned.Model, "conv_w"));
    }

    [TestMethod]
    public void ChannelsThatReachAGraphOutputStayWithMsh2407()
    {
        using var temp = new TempDirectory();
        var path = ChannelModels.Save(ChannelModels.WithIntermediateOutput(), temp.File("tap.onnx"));

        var pruned = PruningHarness.PruneFile(path, new PruneOptions { Method = PruneMethod.Channels, KeepFirstAndLast = false, MinLayerSize = 0, ChannelMultiple = 1 }, temp);

        var warning = pruned.Context.Diagnostics.Single(d => d.Code == ErrorCodes.PruneChannelsUnsupported);
        StringAssert.Contains(warning.Message, "conv: its channels reach the graph output 'conv_relu'");
        CollectionAssert.AreEqual(new long[] { 8, 3, 3, 3 }, PruningHarness.Dims(pruned.Model, "conv_w"));
        CollectionAssert.AreEqual(new long[] { 4, 8, 3, 3 }, PruningHarness.Dims(pruned.Model, "conv2_w"), "conv2 itself is narrowed");
        Assert.HasCount(4 * 8 * 64, OrtRunner.Run(pruned.Path, [ChannelModels.Input()])["conv_relu"]);
    }

    [TestMethod]
    public void TransformerAttentionLosesWholeHeadsAndTheMlpsChannelsWhileResidualsAreLeftAloneAndNamed()
    {
        using var temp = new TempDirectory();
        var original = ModelReader.Load(Fixtures.Model("digits-transformer"));

        var pruned = PruningHarness.Prune("digits-transformer", new PruneOptions { Method = PruneMethod.Channels, Sparsity = 0.5 }, temp);

        var score = PruningHarness.Score("digits-transformer", pruned.Path);
        TestContext.WriteLine($"digits-transformer, channels 0.5: parameters {PruningHarness.Parameters(original)} -> {PruningHarness.Parameters(pruned.Model)}; {score}");
        TestContext.WriteLine(string.Join(", ", pruned.Result.Counters.Select(c => $"{c.Key} {c.Value}")));
        foreach (var d in pruned.Context.Diagnostics)
        {
            TestContext.WriteLine(d.ToString());
        }

        Assert.AreEqual(2 + 2 * 3, pruned.Counter("layers narrowed"), "each block's first MLP MatMul (through its bias and GELU) and its q, k and v");
        Assert.AreEqual(4, pruned.Counter(ChannelPruner.HeadsRemoved), "2 of the 4 heads of each block");
        for (var block = 0; block < 2; block++)
        {
            var at = $"/blocks.{block}/";
            foreach (var projection in new[] { "q", "k", "v" })
            {
                CollectionAssert.AreEqual(new long[] { 32, 16 }, PruningHarness.Dims(pruned.Model, PruningHarness.WeightOf(pruned.Model, $"{at}{projection}/MatMul")), projection);
                CollectionAssert.AreEqual(new long[] { 16 }, PruningHarness.Dims(pruned.Model, $"blocks.{block}.{projection}.bias"), projection);
            }

            CollectionAssert.AreEqual(new long[] { 16, 32 }, PruningHarness.Dims(pruned.Model, PruningHarness.WeightOf(pruned.Model, $"{at}o/MatMul")));
            CollectionAssert.AreEqual(new long[] { 32, 32 }, PruningHarness.Dims(pruned.Model, PruningHarness.WeightOf(pruned.Model, $"{at}fc1/MatMul")));
            CollectionAssert.AreEqual(new long[] { 32, 32 }, PruningHarness.Dims(pruned.Model, PruningHarness.WeightOf(pruned.Model, $"{at}fc2/MatMul")));
            var heads = pruned.Result.Counters.Single(c => c.Key.StartsWith($"{ChannelPruner.HeadsRemovedAt}{at}q/MatMul, {at}k/MatMul, {at}v/MatMul: ", StringComparison.Ordinal));
            StringAssert.EndsWith(heads.Key, " of 4");
            Assert.AreEqual(2, heads.Value);
        }

        var codes = pruned.Codes.ToList();
        Assert.DoesNotContain(ErrorCodes.PruneChannelsReshaped, codes, "every attention block is recognised");
        Assert.Contains(ErrorCodes.PruneChannelsResidual, codes, "o and fc2 add into the residual stream");
        Assert.IsGreaterThan(0.5, score.Agreement, score.ToString());
    }

    [TestMethod]
    public void TransformerWithoutTheRemovedHeadsComputesWhatTheOriginalComputesWithTheirVAndOutputRowsZeroed()
    {
        using var temp = new TempDirectory();
        var source = Fixtures.Model("digits-transformer");

        var pruned = PruningHarness.Prune("digits-transformer", new PruneOptions { Method = PruneMethod.Channels, Sparsity = 0.5, SkipNodes = ["/blocks.0/fc1/MatMul", "/blocks.1/fc1/MatMul"] }, temp);

        var original = ModelReader.Load(source);
        var masked = ModelReader.Load(source);
        for (var block = 0; block < 2; block++)
        {
            var removed = AttentionHeadTests.RemovedHeads(original, pruned.Model, $"blocks.{block}.q.bias", headSize: 8);
            Assert.HasCount(2, removed);
            AttentionHeadTests.SilenceHeads(masked, removed, PruningHarness.WeightOf(masked, $"/blocks.{block}/v/MatMul"), $"blocks.{block}.v.bias",
                PruningHarness.WeightOf(masked, $"/blocks.{block}/o/MatMul"), headSize: 8);
        }

        var exact = PruningHarness.Score("digits-transformer", pruned.Path, ChannelModels.Save(masked, temp.File("masked.onnx")));
        var score = PruningHarness.Score("digits-transformer", pruned.Path);
        TestContext.WriteLine($"digits-transformer, half the heads only: {score}; against the original with those heads silenced: max|diff| {exact.MaxAbsDiff:G3}");
        Assert.IsLessThanOrEqualTo(1e-4, exact.MaxAbsDiff, exact.ToString());
        Assert.IsGreaterThan(1e-3, score.MaxAbsDiff, "the heads removed did contribute");
    }

    // Zeros, in `masked`, the output channels each (weight, bias) pair lost in `pruned` (found by their bias values); returns the kept channels.
    internal static List<List<int>> ZeroRemovedChannels(Model masked, Model pruned, params (string Weight, string Bias)[] layers)
    {
        var result = new List<List<int>>();
        foreach (var (weightName, biasName) in layers)
        {
            var bias = PruningHarness.Weight(masked, biasName);
            var kept = KeptChannels(bias, PruningHarness.Weight(pruned, biasName));
            var weight = PruningHarness.Weight(masked, weightName);
            var dims = PruningHarness.Dims(masked, weightName);
            var row = weight.Length / bias.Length;
            for (var c = 0; c < bias.Length; c++)
            {
                if (!kept.Contains(c))
                {
                    bias[c] = 0;
                    Array.Clear(weight, c * row, row);
                }
            }

            masked.Graph.ReplaceInitializer(masked.Graph.FindValue(weightName)!, Tensor.FromArray<float>(weightName, dims, weight));
            masked.Graph.ReplaceInitializer(masked.Graph.FindValue(biasName)!, Tensor.FromArray<float>(biasName, [bias.Length], bias));
            result.Add(kept);
        }

        return result;
    }

    // Zeros the output rows of a bias-less weight that the pruned model no longer has. Rows are matched on
    // their first `compare` values, or (0) when the layer's input channels were cut too, as the
    // subsequence of values the pruned row still has.
    private static void ZeroRowsMatching(Model masked, Model pruned, string name, int compare)
    {
        var weight = PruningHarness.Weight(masked, name);
        var dims = PruningHarness.Dims(masked, name);
        var row = weight.Length / (int)dims[0];
        var after = PruningHarness.Weight(pruned, name);
        var prunedRow = after.Length / (int)PruningHarness.Dims(pruned, name)[0];
        var width = compare == 0 ? prunedRow : compare;
        var keptRows = Enumerable.Range(0, after.Length / prunedRow).Select(r => after.Skip(r * prunedRow).Take(width).ToArray()).ToList();
        for (var r = 0; r < dims[0]; r++)
        {
            var values = weight.Skip(r * row).Take(row).ToArray();
            var stays = keptRows.Any(k => compare == 0 ? IsSubsequence(k, values) : k.SequenceEqual(values.Take(width)));
            if (!stays)
            {
                Array.Clear(weight, r * row, row);
            }
        }

        masked.Graph.ReplaceInitializer(masked.Graph.FindValue(name)!, Tensor.FromArray<float>(name, dims, weight));
    }

    private static bool IsSubsequence(float[] part, float[] whole)
    {
        var at = 0;
        foreach (var v in whole)
        {
            if (at < part.Length && part[at] == v)
            {
                at++;
            }
        }

        return at == part.Length;
    }

    private static List<int> KeptChannels(float[] before, float[] after) =>
        after.Select(v => Array.IndexOf(before, v)).ToList() is var kept && kept.All(i => i >= 0) && kept.Distinct().Count() == kept.Count
            ? kept
            : throw new AssertFailedException("the pruned bias is not a subset of the original's");
}
