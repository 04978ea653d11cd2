using ModelShrink.Core.Compression;
using ModelShrink.Core.Passes.Cleanup;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Testing;
using Attribute = ModelShrink.Onnx.Ir.Attribute;

namespace ModelShrink.Core.Tests.Cleanup;

[TestClass]
public sealed class CleanupPassTests
{
    private static readonly string[] CounterNames =
        ["nodes removed", "initializers removed", "identities removed", "constants folded", "duplicates merged"];

    [TestMethod]
    public void CleanupOfThePaddleStyleFixtureReportsEveryCounter()
    {
        using var temp = new TempDirectory();
        var model = ModelReader.Load(Fixtures.Model("digits-mlp-constants"));

        var result = new CleanupPass().Run(model, OrtCompare.Context());

        CollectionAssert.AreEquivalent(CounterNames, result.Counters.Keys.ToArray());
        Assert.AreEqual(6L, result.Counters["constants folded"]);
        Assert.AreEqual(0L, result.Counters["nodes removed"] + result.Counters["initializers removed"] + result.Counters["identities removed"] + result.Counters["duplicates merged"]);
        Assert.IsTrue(result.Modified);
        Assert.HasCount(5, model.Graph.Nodes);
        OrtCompare.SameAsFixture("digits-mlp-constants", OrtCompare.Save(model, temp));
        Assert.IsFalse(new CleanupPass().Run(model, OrtCompare.Context()).Modified, "a cleaned model is a fixed point");
    }

    [TestMethod]
    public void CleanupInsideTheIfBranchesOfDigitsCnnIfKeepsOrtOutputsBitIdentical()
    {
        using var temp = new TempDirectory();
        var model = ModelReader.Load(Fixtures.Model("digits-cnn-if"));
        var graph = model.Graph;
        var ifNode = graph.Nodes.Single(n => n.Is("If"));
        var (thenBranch, elseBranch) = (ifNode.Subgraphs.First(), ifNode.Subgraphs.Last());
        var nodeCount = graph.EnumerateNodes().Count();
        var initializerCount = graph.Initializers.Count;

        // Main graph: a Cast of the bool condition to bool.
        var cast = graph.AddNode("Cast", [ifNode.Inputs[0]], ["use_cnn_again"], [Attribute.FromInt("to", (long)DataType.Bool)], before: ifNode);
        ifNode.SetInput(0, cast.Outputs[0]);

        // Then-branch: the outer input through an Identity, a Constant 1 multiplied in, a dead Abs of an outer weight.
        var firstConv = thenBranch.Nodes.First(n => n.Is("Conv"));
        var echo = thenBranch.AddNode("Identity", [firstConv.Inputs[0]], ["then_input"], before: firstConv);
        firstConv.SetInput(0, echo.Outputs[0]);
        var flatten = thenBranch.Nodes.Single(n => n.Is("Flatten"));
        var one = thenBranch.AddNode("Constant", [], ["then_one"], [Attribute.FromTensor("value", Tensor.FromArray("then_one", [], [1f]))], before: flatten);
        var scaled = thenBranch.AddNode("Mul", [flatten.Inputs[0], one.Outputs[0]], ["then_scaled"], before: flatten);
        flatten.SetInput(0, scaled.Outputs[0]);
        thenBranch.AddNode("Abs", [firstConv.Inputs[1]], ["then_dead"]);

        // Else-branch: its own copy of an outer weight, and an Identity naming the branch output.
        var elseConv = elseBranch.Nodes.First(n => n.Is("Conv"));
        var weight = elseConv.Inputs[1]!.Initializer!;
        elseConv.SetInput(1, elseBranch.AddInitializer(Tensor.FromRawData("else_weight", weight.DataType, weight.Dims.ToArray(), weight.GetRawData().ToArray())));
        var branchOutput = elseBranch.Outputs[0];
        var outputName = branchOutput.Name;
        elseBranch.RenameValue(branchOutput, "else_raw");
        var naming = elseBranch.AddNode("Identity", [branchOutput], [outputName]);
        elseBranch.Outputs[0] = naming.Outputs[0]!;
        OrtCompare.SameAsFixture("digits-cnn-if", OrtCompare.Save(model, temp, "with-junk.onnx"));

        var result = new CleanupPass().Run(model, OrtCompare.Context());

        Assert.AreEqual(1L, result.Counters["constants folded"]);
        Assert.AreEqual(3L, result.Counters["identities removed"], "the Cast, the input Identity, the output Identity");
        Assert.AreEqual(1L, result.Counters["nodes removed"], "the dead Abs");
        Assert.AreEqual(1L, result.Counters["duplicates merged"], "the branch copy, into the outer weight");
        Assert.AreEqual(0L, result.Counters["initializers removed"]);
        Assert.AreEqual(nodeCount + 1, graph.EnumerateNodes().Count(), "only the Mul by the folded 1 remains");
        Assert.HasCount(initializerCount, graph.Initializers);
        Assert.HasCount(1, thenBranch.Initializers);
        Assert.IsEmpty(elseBranch.Initializers);
        Assert.AreEqual(outputName, elseBranch.Outputs[0].Name);
        Assert.AreEqual("Gemm", elseBranch.Outputs[0].Producer!.OpType);
        OrtCompare.SameAsFixture("digits-cnn-if", OrtCompare.Save(model, temp));
    }

    [TestMethod]
    public void CleanupRunsFirstInEveryPipelineAndTheOptionalStepsFollowIt()
    {
        var plain = PipelineFactory.Create(new CompressionOptions());
        CollectionAssert.AreEqual(new[] { "cleanup" }, plain.Passes.Select(p => p.Name).ToArray());

        var options = new CompressionOptions { Cleanup = new CleanupOptions { TargetOpset = 17, UseOrtOptimizer = true } };
        var full = PipelineFactory.Create(options);
        CollectionAssert.AreEqual(new[] { "cleanup", "upgrade-opset", "ort-optimize" }, full.Passes.Select(p => p.Name).ToArray());
        Assert.AreEqual(17L, ((UpgradeOpsetPass)full.Passes[1]).TargetOpset);
    }

    [TestMethod]
    public void CompressingThePaddleStyleFixtureCleansUpgradesAndWritesAModelOrtRunsTheSame()
    {
        using var temp = new TempDirectory();
        var output = temp.File("compressed.onnx");
        var options = new CompressionOptions { Cleanup = new CleanupOptions { TargetOpset = 17 } };

        var result = Compressor.Run(Fixtures.Model("digits-mlp-constants"), output, options);

        CollectionAssert.AreEqual(new[] { "cleanup", "upgrade-opset" }, result.Passes.Select(p => p.Pass).ToArray());
        Assert.AreEqual(6L, result.Passes[0].Result.Counters["constants folded"]);
        Assert.AreEqual(17L, result.Passes[1].Result.Counters["to opset"]);
        Assert.IsEmpty(result.Warnings);
        var written = ModelReader.Load(output);
        Assert.AreEqual(17L, written.Opsets.Default);
        Assert.AreEqual(0, OrtCompare.Count(written, "Constant"));
        Assert.HasCount(6, written.Graph.Initializers);
        OrtCompare.SameAsFixture("digits-mlp-constants", output);
    }
}
