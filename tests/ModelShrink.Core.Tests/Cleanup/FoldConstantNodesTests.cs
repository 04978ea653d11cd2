using ModelShrink.Core.Passes.Cleanup;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Cleanup;

[TestClass]
public sealed class FoldConstantNodesTests
{
    [TestMethod]
    public void PaddleStyleConstantWeightsBecomeInitializersWithBitIdenticalOutputs()
    {
        using var temp = new TempDirectory();
        var model = ModelReader.Load(Fixtures.Model("digits-mlp-constants"));
        var constantNames = model.Graph.Nodes.Where(n => n.IsConstant).Select(n => n.Outputs[0]!.Name).ToArray();
        Assert.HasCount(6, constantNames);
        Assert.IsEmpty(model.Graph.Initializers);
        Assert.HasCount(11, model.Graph.Nodes);

        var result = new FoldConstantNodesPass().Run(model, OrtCompare.Context());

        Assert.AreEqual(6L, result.Counters["constants folded"]);
        Assert.IsTrue(result.Modified);
        Assert.AreEqual(0, OrtCompare.Count(model, "Constant"));
        Assert.HasCount(5, model.Graph.Nodes);
        CollectionAssert.AreEqual(constantNames, model.Graph.Initializers.Select(v => v.Name).ToArray(), "same names, same order");
        Assert.IsTrue(model.Graph.Initializers.All(v => v.Initializer!.Name == v.Name && !v.IsGraphInput));
        Assert.IsTrue(model.Graph.Nodes.Where(n => n.Is("Gemm")).All(g => g.Inputs[1]!.Initializer is not null && g.Inputs[2]!.Initializer is not null));
        OrtCompare.SameAsFixture("digits-mlp-constants", OrtCompare.Save(model, temp));

        // Nothing left to fold: a second run changes nothing.
        Assert.IsFalse(new FoldConstantNodesPass().Run(model, OrtCompare.Context()).Modified);
    }

    [TestMethod]
    public void AConstantInsideAnIfBranchBecomesAnInitializerOfThatBranch()
    {
        using var temp = new TempDirectory();
        var model = ModelReader.Load(Fixtures.Model("digits-cnn-if"));
        var branch = model.Graph.Nodes.Single(n => n.Is("If")).Subgraphs.First();
        var flatten = branch.Nodes.Single(n => n.Is("Flatten"));

        // Multiply the Flatten's input by a Constant 1 held in the branch (exact: outputs stay bit-identical).
        var one = branch.AddNode("Constant", [], ["branch_one"], [Onnx.Ir.Attribute.FromTensor("value", Tensor.FromArray("branch_one", [], [1f]))], before: flatten);
        var scaled = branch.AddNode("Mul", [flatten.Inputs[0], one.Outputs[0]], ["scaled"], before: flatten);
        flatten.SetInput(0, scaled.Outputs[0]);
        var mainInitializers = model.Graph.Initializers.Count;

        var result = new FoldConstantNodesPass().Run(model, OrtCompare.Context());

        Assert.AreEqual(1L, result.Counters["constants folded"]);
        Assert.AreEqual(0, OrtCompare.Count(model, "Constant"));
        Assert.HasCount(1, branch.Initializers);
        Assert.AreEqual("branch_one", branch.Initializers[0].Name);
        Assert.AreSame(branch.Initializers[0], scaled.Inputs[1]);
        Assert.HasCount(mainInitializers, model.Graph.Initializers, "the main graph gets nothing");
        OrtCompare.SameAsFixture("digits-cnn-if", OrtCompare.Save(model, temp));
    }

    [TestMethod]
    public void EveryScalarAndListFormOfConstantFoldsToTheTensorItDenotes()
    {
        using var temp = new TempDirectory();
        var model = ModelReader.Load(Fixtures.Model("digits-mlp"));
        var graph = model.Graph;
        var relu = graph.Nodes.First(n => n.Is("Relu"));
        graph.AddNode("Constant", [], ["c_float"], [Onnx.Ir.Attribute.FromFloat("value_float", 0.5f)]);
        graph.AddNode("Constant", [], ["c_floats"], [Onnx.Ir.Attribute.FromFloats("value_floats", [1f, 2f, 3f])]);
        graph.AddNode("Constant", [], ["c_int"], [Onnx.Ir.Attribute.FromInt("value_int", 7)]);
        graph.AddNode("Constant", [], ["c_ints"], [Onnx.Ir.Attribute.FromInts("value_ints", [-1, 10])]);
        graph.AddNode("Constant", [], ["c_string"], [Onnx.Ir.Attribute.FromString("value_string", "digits")]);

        // Read one of them, so the folded initializer is used by a node ONNX Runtime runs.
        var scaled = graph.AddNode("Mul", [relu.Outputs[0], graph.FindValue("c_float")], ["half"]);
        var doubled = graph.AddNode("Add", [scaled.Outputs[0], scaled.Outputs[0]], ["whole"]);
        graph.Nodes.Where(n => n.Is("Gemm")).ElementAt(1).SetInput(0, doubled.Outputs[0]);
        graph.SortTopologically();

        var result = new FoldConstantNodesPass().Run(model, OrtCompare.Context());

        Assert.AreEqual(5L, result.Counters["constants folded"]);
        Tensor Folded(string name) => graph.FindValue(name)!.Initializer!;
        Assert.AreEqual(DataType.Float, Folded("c_float").DataType);
        Assert.IsEmpty(Folded("c_float").Dims);
        CollectionAssert.AreEqual(new[] { 0.5f }, Folded("c_float").ToArray<float>());
        CollectionAssert.AreEqual(new[] { 3L }, Folded("c_floats").Dims.ToArray());
        CollectionAssert.AreEqual(new[] { 1f, 2f, 3f }, Folded("c_floats").ToArray<float>());
        Assert.AreEqual(DataType.Int64, Folded("c_int").DataType);
        CollectionAssert.AreEqual(new[] { 7L }, Folded("c_int").ToArray<long>());
        CollectionAssert.AreEqual(new[] { -1L, 10L }, Folded("c_ints").ToArray<long>());
        CollectionAssert.AreEqual(new[] { "digits" }, Folded("c_string").ToStringArray());
        var saved = OrtCompare.Save(model, temp);
        Assert.HasCount(11, ModelReader.Load(saved).Graph.Initializers);
        OrtCompare.SameAsFixture("digits-mlp", saved, 1e-5f);
    }
}
