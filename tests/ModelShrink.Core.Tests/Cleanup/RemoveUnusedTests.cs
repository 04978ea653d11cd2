using ModelShrink.Core.Passes.Cleanup;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Cleanup;

[TestClass]
public sealed class RemoveUnusedTests
{
    [TestMethod]
    public void DeadChainsAndUnreadInitializersGoButInitializersListedAsInputsStay()
    {
        using var temp = new TempDirectory();
        var model = ModelReader.Load(Fixtures.Model("digits-mlp-inputs"));
        var graph = model.Graph;
        var relu = graph.Nodes.First(n => n.Is("Relu"));

        // A dead chain: Mul by a new initializer, then Relu, read by nobody.
        var two = graph.AddInitializer(Tensor.FromArray("two", [], [2f]));
        var scaled = graph.AddNode("Mul", [relu.Outputs[0], two], ["dead_scaled"]);
        graph.AddNode("Relu", [scaled.Outputs[0]], ["dead_relu"]);

        // An initializer nobody reads, and one nobody reads that is also a graph input.
        graph.AddInitializer(Tensor.FromArray("spare", [3], [1f, 2f, 3f]));
        var feedable = graph.AddInitializer(Tensor.FromArray("feedable", [3], [4f, 5f, 6f]));
        feedable.Type = TensorType.Of(DataType.Float, 3);
        graph.Inputs.Add(feedable);
        Assert.HasCount(7, graph.Nodes);
        Assert.HasCount(9, graph.Initializers);

        var result = new RemoveUnusedPass().Run(model, OrtCompare.Context());

        Assert.AreEqual(2L, result.Counters["nodes removed"]);
        Assert.AreEqual(2L, result.Counters["initializers removed"], "'two' (read only by the dead Mul) and 'spare'");
        Assert.HasCount(5, graph.Nodes);
        Assert.HasCount(7, graph.Initializers);
        Assert.IsNull(graph.FindValue("two"));
        Assert.IsNull(graph.FindValue("spare"));
        Assert.AreSame(feedable, graph.FindValue("feedable"), "a graph input is part of the interface");
        Assert.HasCount(8, graph.Inputs);
        Assert.HasCount(1, relu.Outputs[0]!.Uses);
        OrtCompare.SameAsFixture("digits-mlp-inputs", OrtCompare.Save(model, temp));
        Assert.IsFalse(new RemoveUnusedPass().Run(model, OrtCompare.Context()).Modified);
    }

    [TestMethod]
    public void DeadNodesInsideIfBranchesGoAndStopCountingAsReadersOfOuterWeights()
    {
        using var temp = new TempDirectory();
        var model = ModelReader.Load(Fixtures.Model("digits-cnn-if"));
        var ifNode = model.Graph.Nodes.Single(n => n.Is("If"));
        var weight = ifNode.Subgraphs.First().Nodes.First(n => n.Is("Conv")).Inputs[1]!;
        var uses = weight.Uses.Count;
        foreach (var branch in ifNode.Subgraphs)
        {
            branch.AddNode("Abs", [weight], [branch.UniqueName("dead_abs")]);
        }

        Assert.AreEqual(uses + 2, weight.Uses.Count);

        var result = new RemoveUnusedPass().Run(model, OrtCompare.Context());

        Assert.AreEqual(2L, result.Counters["nodes removed"]);
        Assert.AreEqual(0L, result.Counters["initializers removed"]);
        Assert.AreEqual(uses, weight.Uses.Count);
        Assert.AreEqual(0, OrtCompare.Count(model, "Abs"));
        OrtCompare.SameAsFixture("digits-cnn-if", OrtCompare.Save(model, temp));
    }

    [TestMethod]
    public void AnIfWhoseResultNobodyReadsGoesWithItsBranchesOuterReads()
    {
        var model = ModelReader.Load(Fixtures.Model("digits-cnn-if"));
        var graph = model.Graph;
        var ifNode = graph.Nodes.Single(n => n.Is("If"));

        // Make the If dead by sending the graph output elsewhere: the input echoed through an Identity.
        var echo = graph.AddNode("Identity", [graph.Inputs[0]], ["echo"]);
        graph.Outputs[0] = echo.Outputs[0]!;

        var result = new RemoveUnusedPass().Run(model, OrtCompare.Context());

        Assert.AreEqual(1L, result.Counters["nodes removed"], "the If (its branch nodes go with it)");
        Assert.IsEmpty(graph.Initializers, "every weight was read only inside the branches");
        Assert.HasCount(1, graph.Nodes);
        Assert.HasCount(1, graph.Inputs[0].Uses);
    }

    [TestMethod]
    public void ADeadNodeOfACustomDomainStays()
    {
        var model = ModelReader.Load(Fixtures.Model("digits-mlp"));
        var graph = model.Graph;
        graph.AddNode("Probe", [graph.Inputs[0]], ["probe_out"], domain: "com.example.telemetry");
        graph.AddNode("Abs", [graph.Inputs[0]], ["dead_abs"]);

        var result = new RemoveUnusedPass().Run(model, OrtCompare.Context());

        Assert.AreEqual(1L, result.Counters["nodes removed"]);
        Assert.AreEqual(1, OrtCompare.Count(model, "Probe"), "its effects are unknown");
        Assert.AreEqual(0, OrtCompare.Count(model, "Abs"));
    }
}
