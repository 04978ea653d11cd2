using ModelShrink.Core.Passes.Pruning;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Pruning;

/// <summary>Channel pruning through Split, Slice and Squeeze: sizes and bounds rewritten, outputs exact.</summary>
[TestClass]
public sealed class ChannelLayoutTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(SplitForm.Attribute)]
    [DataRow(SplitForm.Input)]
    [DataRow(SplitForm.Equal)]
    [DataRow(SplitForm.NumOutputs)]
    public void ASplitAlongTheChannelsShrinksItsPartsAndComputesWhatTheOriginalComputesWithTheRemovedChannelsZeroed(SplitForm form)
    {
        using var temp = new TempDirectory();
        var path = ChannelModels.Save(LayoutModels.SplitIntoTwoConvs(form), temp.File("split.onnx"));

        var pruned = Prune(temp, path, 0.5, "convL", "convR", "head");

        CollectionAssert.AreEqual(new long[] { 4, 3, 3, 3 }, PruningHarness.Dims(pruned.Model, "conv_w"));
        var masked = ModelReader.Load(path);
        var kept = ChannelPruningTests.ZeroRemovedChannels(masked, pruned.Model, ("conv_w", "conv_b"))[0];
        var first = form is SplitForm.Equal or SplitForm.NumOutputs ? 4 : 3;
        long[] sizes = [kept.Count(c => c < first), kept.Count(c => c >= first)];
        CollectionAssert.AreEqual(sizes, SplitSizes(pruned.Model.Graph.Nodes.Single(n => n.Name == "split"), form));
        Assert.AreEqual(sizes[0], PruningHarness.Dims(pruned.Model, "convL_w")[1]);
        Assert.AreEqual(sizes[1], PruningHarness.Dims(pruned.Model, "convR_w")[1]);
        AssertSameLogits(masked, pruned, temp);
    }

    [TestMethod]
    public void EachPartOfASplitKeepsAChannelWhenAlmostAllGo()
    {
        using var temp = new TempDirectory();
        var path = ChannelModels.Save(LayoutModels.SplitIntoTwoConvs(SplitForm.Attribute), temp.File("split.onnx"));

        var pruned = Prune(temp, path, 0.99, "convL", "convR", "head");

        Assert.AreEqual(6, pruned.Counter("channels removed"), "7 of 8 asked, one kept in each part");
        CollectionAssert.AreEqual(new long[] { 1, 1 }, SplitSizes(pruned.Model.Graph.Nodes.Single(n => n.Name == "split"), SplitForm.Attribute));
        var masked = ModelReader.Load(path);
        ChannelPruningTests.ZeroRemovedChannels(masked, pruned.Model, ("conv_w", "conv_b"));
        AssertSameLogits(masked, pruned, temp);
    }

    [TestMethod]
    public void ACrossStagePartialBlockPrunesTheResidualOverOnePartAndTheDepthwiseConvAfterIt()
    {
        using var temp = new TempDirectory();
        var path = ChannelModels.Save(LayoutModels.CrossStagePartial(), temp.File("csp.onnx"));

        var pruned = Prune(temp, path, 0.5, "convOut", "head");

        Log(pruned);
        Assert.AreEqual(3, pruned.Counter("layers narrowed"), "conv, convM with it, and the depthwise Conv their channels run through");
        CollectionAssert.AreEqual(Array.Empty<string>(), pruned.Codes.ToArray(), "the depthwise Conv went with conv, so no layer is named as left alone");
        var masked = ModelReader.Load(path);
        var kept = ChannelPruningTests.ZeroRemovedChannels(masked, pruned.Model, ("conv_w", "conv_b"), ("convM_w", "convM_b"));
        var second = kept[0].Count(c => c >= 3);
        CollectionAssert.AreEqual(kept[0].Where(c => c >= 3).Select(c => c - 3).ToList(), kept[1], "convM keeps the channels of the part it meets");
        CollectionAssert.AreEqual(new long[] { 4 - second, second }, SplitSizes(pruned.Model.Graph.Nodes.Single(n => n.Name == "split"), SplitForm.Input));
        CollectionAssert.AreEqual(new long[] { second, second, 3, 3 }, PruningHarness.Dims(pruned.Model, "convM_w"));
        CollectionAssert.AreEqual(new long[] { second, 1, 3, 3 }, PruningHarness.Dims(pruned.Model, "dw_w"));
        Assert.AreEqual(second, pruned.Model.Graph.Nodes.Single(n => n.Name == "depthwise").GetInt("group", 0));
        CollectionAssert.AreEqual(new long[] { 6, 4, 3, 3 }, PruningHarness.Dims(pruned.Model, "convOut_w"));
        AssertSameLogits(masked, pruned, temp);
    }

    [TestMethod]
    public void ASliceOverHeightAndWidthAndASqueezeOfThePooledAxesCarryTheChannels()
    {
        using var temp = new TempDirectory();
        var path = ChannelModels.Save(LayoutModels.SliceThenSqueeze(overChannels: false), temp.File("slice.onnx"));

        var pruned = Prune(temp, path, 0.5, "head");

        Log(pruned);
        Assert.AreEqual(2, pruned.Counter("layers narrowed"));
        CollectionAssert.AreEqual(new long[] { 3, 4, 3, 3 }, PruningHarness.Dims(pruned.Model, "conv2_w"));
        CollectionAssert.AreEqual(new long[] { 10, 3 }, PruningHarness.Dims(pruned.Model, "head_w"), "through GlobalAveragePool and Squeeze");
        var masked = ModelReader.Load(path);
        ChannelPruningTests.ZeroRemovedChannels(masked, pruned.Model, ("conv_w", "conv_b"), ("conv2_w", "conv2_b"));
        AssertSameLogits(masked, pruned, temp);
    }

    [TestMethod]
    public void ASliceOverTheChannelsWithConstantBoundsKeepsTheRangeOfTheChannelsLeft()
    {
        using var temp = new TempDirectory();
        var path = ChannelModels.Save(LayoutModels.SliceThenSqueeze(overChannels: true), temp.File("slice.onnx"));

        var pruned = Prune(temp, path, 0.5, "conv2", "head");

        var masked = ModelReader.Load(path);
        var kept = ChannelPruningTests.ZeroRemovedChannels(masked, pruned.Model, ("conv_w", "conv_b"))[0];
        var slice = pruned.Model.Graph.Nodes.Single(n => n.Name == "slice");
        Assert.AreEqual((long)kept.Count(c => c < 2), slice.Inputs[1]!.ConstantTensor!.ToArray<long>()[0], "starts");
        Assert.AreEqual((long)kept.Count(c => c < 7), slice.Inputs[2]!.ConstantTensor!.ToArray<long>()[0], "ends");
        Assert.AreEqual(kept.Count(c => c is >= 2 and < 7), PruningHarness.Dims(pruned.Model, "conv2_w")[1]);
        AssertSameLogits(masked, pruned, temp);
    }

    [TestMethod]
    [DataRow(true, false)]
    [DataRow(false, true)]
    public void ASliceOverTheChannelsWithComputedBoundsOrStepLeavesTheLayerAloneWithMsh2406(bool computedBounds, bool computedStep)
    {
        using var temp = new TempDirectory();
        var path = ChannelModels.Save(LayoutModels.SliceThenSqueeze(overChannels: true, computed: computedBounds, computedStep: computedStep), temp.File("slice.onnx"));

        var pruned = Prune(temp, path, 0.5, "conv2", "head");

        var warning = pruned.Context.Diagnostics.Single(d => d.Code == ErrorCodes.PruneChannelsReshaped);
        StringAssert.Contains(warning.Message, "conv: Slice 'slice' slices the channel axis by computed bounds or with a step");
        CollectionAssert.AreEqual(new long[] { 8, 3, 3, 3 }, PruningHarness.Dims(pruned.Model, "conv_w"));
    }

    [TestMethod]
    [DataRow(true)]
    [DataRow(false)]
    public void AReshapeToBatchByWidthBuiltFromTheBatchSizeFlattensTheChannels(bool paddle)
    {
        using var temp = new TempDirectory();
        var path = ChannelModels.Save(LayoutModels.FlattenByShape(paddle), temp.File("flatten.onnx"));

        var pruned = Prune(temp, path, 0.5, "head");

        Log(pruned);
        Assert.AreEqual(1, pruned.Counter("layers narrowed"));
        CollectionAssert.AreEqual(new long[] { 4, 3, 3, 3 }, PruningHarness.Dims(pruned.Model, "conv_w"));
        CollectionAssert.AreEqual(new long[] { 4, 10 }, PruningHarness.Dims(pruned.Model, "head_w"));
        var masked = ModelReader.Load(path);
        ChannelPruningTests.ZeroRemovedChannels(masked, pruned.Model, ("conv_w", "conv_b"));
        AssertSameLogits(masked, pruned, temp);
    }

    [TestMethod]
    [DataRow(true)]
    [DataRow(false)]
    public void AShapeWhoseChannelCountIsReadLeavesTheLayerAloneWithMsh2407(bool paddle)
    {
        using var temp = new TempDirectory();
        var path = ChannelModels.Save(LayoutModels.FlattenByShape(paddle, readChannels: true), temp.File("flatten.onnx"));

        var pruned = Prune(temp, path, 0.5, "head");

        StringAssert.Contains(pruned.Context.Diagnostics.Single(d => d.Code == ErrorCodes.PruneChannelsUnsupported).Message, "conv: Shape 'shape' reads the channel count");
        CollectionAssert.AreEqual(new long[] { 8, 3, 3, 3 }, PruningHarness.Dims(pruned.Model, "conv_w"));
    }

    private static Pruned Prune(TempDirectory temp, string path, double sparsity, params string[] skip) =>
        PruningHarness.PruneFile(path, new PruneOptions
        {
            Method = PruneMethod.Channels, Sparsity = sparsity, KeepFirstAndLast = false, MinLayerSize = 0, ChannelMultiple = 1, SkipNodes = skip,
        }, temp);

    private void Log(Pruned pruned)
    {
        foreach (var d in pruned.Context.Diagnostics)
        {
            TestContext.WriteLine(d.ToString());
        }
    }

    // The original with the removed channels silenced and the pruned model give the same logits.
    private static void AssertSameLogits(Model masked, Pruned pruned, TempDirectory temp)
    {
        var input = new[] { ChannelModels.Input() };
        var expected = OrtRunner.Run(ChannelModels.Save(masked, temp.File("masked.onnx")), input)["logits"];
        var actual = OrtRunner.Run(pruned.Path, input)["logits"];
        Assert.IsLessThanOrEqualTo(1e-4, expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max());
    }

    private static long[] SplitSizes(Node split, SplitForm form)
    {
        if (form == SplitForm.Attribute)
        {
            return split.GetInts("split")!.ToArray();
        }

        Assert.IsNull(split.FindAttribute("num_outputs"), "num_outputs goes with explicit sizes");
        return split.Inputs[1]!.ConstantTensor!.ToArray<long>();
    }
}
