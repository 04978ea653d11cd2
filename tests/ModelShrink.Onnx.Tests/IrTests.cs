using Google.Protobuf;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Protobuf;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Testing;

namespace ModelShrink.Onnx.Tests;

[TestClass]
public sealed class IrTests
{
    private static readonly string[] GemmWeightRoles = ["B", "C"];

    [TestMethod]
    [DataRow("digits-mlp", DisplayName = "initializers")]
    [DataRow("digits-mlp-constants", DisplayName = "Constant nodes")]
    [DataRow("digits-mlp-inputs", DisplayName = "initializers listed as graph inputs")]
    public void GemmWeightsAreFoundInEveryFormExportersUse(string fixture)
    {
        var model = ModelReader.Load(Fixtures.Model(fixture));
        var reference = ModelReader.Load(Fixtures.Model("digits-mlp"));

        var gemms = model.Graph.Nodes.Where(n => n.Is("Gemm")).ToArray();
        Assert.HasCount(3, gemms);
        foreach (var gemm in gemms)
        {
            Assert.IsFalse(gemm.Inputs[0]!.IsWeight, "the activation input is not a weight");
            for (var slot = 1; slot <= 2; slot++)
            {
                var value = gemm.Inputs[slot]!;
                Assert.IsTrue(value.IsWeight, $"{gemm.Name} input {GemmWeightRoles[slot - 1]} should be a weight");
                var tensor = value.ConstantTensor!;
                var expected = reference.Graph.Nodes.Where(n => n.Is("Gemm")).ElementAt(Array.IndexOf(gemms, gemm)).Inputs[slot]!.ConstantTensor!;
                CollectionAssert.AreEqual(expected.Dims.ToArray(), tensor.Dims.ToArray());
                CollectionAssert.AreEqual(expected.ToArray<float>(), tensor.ToArray<float>());
            }
        }
    }

    [TestMethod]
    public void InitializersListedAsInputsAreStillGraphInputs()
    {
        var model = ModelReader.Load(Fixtures.Model("digits-mlp-inputs"));

        Assert.HasCount(7, model.Graph.Inputs);
        Assert.AreEqual(6, model.Graph.Inputs.Count(v => v.Initializer is not null));
        Assert.IsTrue(model.Graph.Inputs.Where(v => v.Initializer is not null).All(v => v.IsGraphInput && v.IsWeight));
    }

    [TestMethod]
    public void IfBranchesReadOuterScopeWeightsAsUsesOfTheMainGraphValues()
    {
        var model = ModelReader.Load(Fixtures.Model("digits-cnn-if"));
        var ifNode = model.Graph.Nodes.Single(n => n.Is("If"));
        var branches = ifNode.Subgraphs.ToArray();
        Assert.HasCount(2, branches);

        foreach (var branch in branches)
        {
            Assert.AreSame(model.Graph, branch.Parent);
            Assert.AreSame(ifNode, branch.OwnerNode);
            Assert.IsEmpty(branch.Initializers);
            var conv = branch.Nodes.First(n => n.Is("Conv"));
            var weight = conv.Inputs[1]!;
            Assert.AreSame(model.Graph, weight.Graph, "the branch reads the main graph's value, not a copy");
            Assert.IsNotNull(weight.Initializer);
            Assert.IsTrue(weight.Uses.Any(u => u.Node == conv));
        }

        var outerReads = branches[0].OuterScopeReads().Select(v => v.Name).ToHashSet();
        Assert.Contains("input", outerReads);
        Assert.AreEqual(model.Graph.Initializers.Count + 1, outerReads.Count);
        Assert.AreEqual(model.Graph.Nodes.Count + branches.Sum(b => b.Nodes.Count), model.Graph.EnumerateNodes().Count());
    }

    [TestMethod]
    public void ShuffledNodesAreSortedOnLoadAndStillRunIdentically()
    {
        using var temp = new TempDirectory();
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Fixtures.Model("digits-cnn")));
        var reversed = proto.Graph.Node.Reverse().ToArray();
        proto.Graph.Node.Clear();
        proto.Graph.Node.AddRange(reversed);
        var shuffled = temp.File("shuffled.onnx");
        File.WriteAllBytes(shuffled, proto.ToByteArray());

        var model = ModelReader.Load(shuffled);
        var seen = new HashSet<Value>(model.Graph.Inputs.Concat(model.Graph.Initializers));
        foreach (var node in model.Graph.Nodes)
        {
            Assert.IsTrue(node.Inputs.OfType<Value>().All(seen.Contains), $"{node} reads a value produced later");
            seen.UnionWith(node.Outputs.OfType<Value>());
        }

        var saved = temp.File("saved.onnx");
        ModelWriter.Save(model, saved);
        var inputs = Fixtures.Inputs(Fixtures.DataSets("digits-cnn")[0]);
        CollectionAssert.AreEqual(
            RoundTripTests.Bits(OrtRunner.Run(Fixtures.Model("digits-cnn"), inputs)["logits"]),
            RoundTripTests.Bits(OrtRunner.Run(saved, inputs)["logits"]));
    }

    [TestMethod]
    public void RewiringThroughTheIrChangesWhatOrtComputes()
    {
        using var temp = new TempDirectory();
        var model = ModelReader.Load(Fixtures.Model("digits-mlp"));
        var graph = model.Graph;
        var lastGemm = graph.Nodes.Last(n => n.Is("Gemm"));
        var logits = lastGemm.Outputs[0]!;

        // Route the logits through a Mul by 2 inserted after the last Gemm.
        var two = graph.AddInitializer(Tensor.FromArray(graph.UniqueName("two"), [], [2f]));
        var doubled = graph.AddNode("Mul", [logits, two], ["doubled"]);
        var raw = logits;
        graph.Outputs[graph.Outputs.IndexOf(raw)] = doubled.Outputs[0]!;
        doubled.Outputs[0]!.Type = raw.Type;
        var saved = temp.File("doubled.onnx");
        ModelWriter.Save(model, saved);

        var inputs = Fixtures.Inputs(Fixtures.DataSets("digits-mlp")[0]);
        var original = OrtRunner.Run(Fixtures.Model("digits-mlp"), inputs)["logits"];
        var result = OrtRunner.Run(saved, inputs).Values.Single();
        Assert.HasCount(original.Length, result);
        for (var i = 0; i < original.Length; i++)
        {
            Assert.AreEqual(original[i] * 2, result[i], Math.Abs(original[i]) * 1e-6f + 1e-6f);
        }

        // And back: remove the Mul and its constant; the model returns to the original outputs.
        graph.Outputs[graph.Outputs.IndexOf(doubled.Outputs[0]!)] = raw;
        graph.RemoveNode(doubled);
        graph.RemoveInitializer(two);
        ModelWriter.Save(model, saved);
        CollectionAssert.AreEqual(RoundTripTests.Bits(original), RoundTripTests.Bits(OrtRunner.Run(saved, inputs)["logits"]));
        Assert.AreEqual(ModelProto.Parser.ParseFrom(File.ReadAllBytes(Fixtures.Model("digits-mlp"))), RoundTripTests.Parse(saved));
    }

    [TestMethod]
    public void ReplaceAllUsesWithMovesEveryReaderButTheExcludedOne()
    {
        var model = ModelReader.Load(Fixtures.Model("digits-mlp"));
        var graph = model.Graph;
        var relu = graph.Nodes.First(n => n.Is("Relu"));
        var before = relu.Inputs[0]!;
        var readers = before.Uses.Select(u => u.Node).ToArray();
        var identity = graph.AddNode("Identity", [before], ["copy"], before: relu);

        before.ReplaceAllUsesWith(identity.Outputs[0]!, except: identity);

        Assert.AreSame(identity, before.Uses.Single().Node);
        CollectionAssert.AreEquivalent(readers, identity.Outputs[0]!.Uses.Select(u => u.Node).ToArray());
        Assert.AreSame(identity.Outputs[0], relu.Inputs[0]);
    }
}
