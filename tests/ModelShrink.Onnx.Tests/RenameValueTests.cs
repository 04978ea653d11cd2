using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Testing;

namespace ModelShrink.Onnx.Tests;

[TestClass]
public sealed class RenameValueTests
{
    [TestMethod]
    public void RenamedOutputKeepsItsReadersAndFreesTheOldNameForANewNode()
    {
        using var temp = new TempDirectory();
        var model = ModelReader.Load(Fixtures.Model("digits-mlp"));
        var graph = model.Graph;
        var logits = graph.Outputs[0];

        graph.RenameValue(logits, "raw_logits");
        var two = graph.AddInitializer(Tensor.FromArray(graph.UniqueName("two"), [], [2f]));
        var doubled = graph.AddNode("Mul", [logits, two], ["logits"]).Outputs[0]!;
        doubled.Type = logits.Type;
        graph.Outputs[0] = doubled;
        var saved = temp.File("renamed.onnx");
        ModelWriter.Save(model, saved);

        Assert.AreEqual("logits", doubled.Name);
        Assert.AreSame(logits, graph.FindValue("raw_logits"));
        var inputs = Fixtures.Inputs(Fixtures.DataSets("digits-mlp")[0]);
        var original = OrtRunner.Run(Fixtures.Model("digits-mlp"), inputs)["logits"];
        var result = OrtRunner.Run(saved, inputs)["logits"];
        CollectionAssert.AreEqual(original.Select(v => v * 2).ToArray(), result);
    }

    [TestMethod]
    public void RenamingAnInitializerRenamesItsTensorAndRefusesATakenName()
    {
        using var temp = new TempDirectory();
        var model = ModelReader.Load(Fixtures.Model("digits-mlp"));
        var graph = model.Graph;
        var weight = graph.Initializers[0];
        var oldName = weight.Name;

        Assert.ThrowsExactly<InvalidOperationException>(() => graph.RenameValue(weight, graph.Initializers[1].Name));
        graph.RenameValue(weight, "renamed_weight");
        var saved = temp.File("renamed.onnx");
        ModelWriter.Save(model, saved);

        Assert.AreEqual("renamed_weight", weight.Initializer!.Name);
        Assert.IsNull(graph.FindValue(oldName));
        var reloaded = ModelReader.Load(saved).Graph.FindValue("renamed_weight");
        Assert.IsNotNull(reloaded?.Initializer);
        Assert.HasCount(weight.Uses.Count, reloaded.Uses);
    }
}
