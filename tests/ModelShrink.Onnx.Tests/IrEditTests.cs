using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Testing;

namespace ModelShrink.Onnx.Tests;

[TestClass]
public sealed class IrEditTests
{
    [TestMethod]
    public void RenamingAValueMovesItsNameAndReadersFollow()
    {
        using var temp = new TempDirectory();
        var model = ModelReader.Load(Fixtures.Model("digits-mlp"));
        var graph = model.Graph;
        var relu = graph.Nodes.First(n => n.Is("Relu"));
        var value = relu.Outputs[0]!;
        var readers = value.Uses.ToArray();

        graph.RenameValue(value, "first_activation");

        Assert.AreEqual("first_activation", value.Name);
        Assert.AreSame(value, graph.FindValue("first_activation"));
        CollectionAssert.AreEqual(readers, value.Uses.ToArray());
        Assert.ThrowsExactly<InvalidOperationException>(() => graph.RenameValue(value, "input"), "a name in use is refused");
        var saved = temp.File("renamed.onnx");
        ModelWriter.Save(model, saved);
        Assert.IsNotNull(ModelReader.Load(saved).Graph.FindValue("first_activation"));
        CollectionAssert.AreEqual(
            RoundTripTests.Bits(OrtRunner.Run(Fixtures.Model("digits-mlp"), Fixtures.Inputs(Fixtures.DataSets("digits-mlp")[0]))["logits"]),
            RoundTripTests.Bits(OrtRunner.Run(saved, Fixtures.Inputs(Fixtures.DataSets("digits-mlp")[0]))["logits"]));
    }

    [TestMethod]
    public void RenamingAnInitializerRenamesItsTensorAndFreesTheOldName()
    {
        var model = ModelReader.Load(Fixtures.Model("digits-mlp"));
        var graph = model.Graph;
        var weight = graph.Initializers[0];
        var oldName = weight.Name;

        graph.RenameValue(weight, "renamed_weight");

        Assert.AreEqual("renamed_weight", weight.Initializer!.Name);
        Assert.IsNull(graph.FindValue(oldName));
        Assert.AreEqual(oldName, graph.AddInitializer(Tensor.FromArray(oldName, [], [1f])).Name, "the old name can be used again");
    }

    [TestMethod]
    public void ReplaceWithTakesOverAnotherModelsContentButKeepsThePath()
    {
        var model = ModelReader.Load(Fixtures.Model("digits-mlp"));
        var other = ModelReader.Load(Fixtures.Model("digits-transformer"));

        model.ReplaceWith(other);

        Assert.AreEqual(Path.GetFullPath(Fixtures.Model("digits-mlp")), model.Path);
        Assert.AreSame(other.Graph, model.Graph);
        Assert.AreEqual(17L, model.Opsets.Default);
        Assert.AreEqual(other.IrVersion, model.IrVersion);
    }
}
