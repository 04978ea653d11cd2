using ModelShrink.Core.Passes.Cleanup;
using ModelShrink.Onnx.IO;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Cleanup;

[TestClass]
public sealed class OrtOptimizerPassTests
{
    [TestMethod]
    public void OrtsBasicOptimizerFoldsConstantNodesAndTheModelStillComputesTheSame()
    {
        using var temp = new TempDirectory();
        var path = Fixtures.Model("digits-mlp-constants");
        var model = ModelReader.Load(path);
        Assert.AreEqual(6, OrtCompare.Count(model, "Constant"));

        var result = new OrtOptimizerPass().Run(model, OrtCompare.Context());

        Assert.IsTrue(result.Modified);
        Assert.AreEqual(6L, result.Counters["nodes removed"], "the six Constant nodes");
        Assert.AreEqual(-6L, result.Counters["initializers removed"], "they became six initializers");
        Assert.AreEqual(0, OrtCompare.Count(model, "Constant"));
        Assert.HasCount(6, model.Graph.Initializers);
        Assert.AreEqual(5, model.Graph.Nodes.Count);
        Assert.AreEqual(Path.GetFullPath(path), model.Path, "the model still names its source file");
        CollectionAssert.AreEqual(new[] { "input" }, model.Graph.Inputs.Select(v => v.Name).ToArray());
        CollectionAssert.AreEqual(new[] { "logits" }, model.Graph.Outputs.Select(v => v.Name).ToArray());
        OrtCompare.SameAsFixture("digits-mlp-constants", OrtCompare.Save(model, temp), 1e-5f);
    }

    [TestMethod]
    [DataRow("digits-cnn")]
    [DataRow("digits-cnn-if")]
    [DataRow("digits-transformer")]
    public void OptimizedFixturesComputeTheSameWithin1e5(string fixture)
    {
        using var temp = new TempDirectory();
        var model = ModelReader.Load(Fixtures.Model(fixture));

        new OrtOptimizerPass().Run(model, OrtCompare.Context());

        Assert.IsTrue(model.Graph.EnumerateNodes().Any());
        OrtCompare.SameAsFixture(fixture, OrtCompare.Save(model, temp), 1e-5f);
    }
}
