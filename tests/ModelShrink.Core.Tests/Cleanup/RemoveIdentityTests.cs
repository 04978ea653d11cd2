using ModelShrink.Core.Passes.Cleanup;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Testing;
using Attribute = ModelShrink.Onnx.Ir.Attribute;

namespace ModelShrink.Core.Tests.Cleanup;

[TestClass]
public sealed class RemoveIdentityTests
{
    [TestMethod]
    public void IdentitiesDropoutAndSameTypeCastGoWhileTheGraphOutputKeepsItsName()
    {
        using var temp = new TempDirectory();
        var model = ModelReader.Load(Fixtures.Model("digits-mlp"));
        var graph = model.Graph;
        var gemms = graph.Nodes.Where(n => n.Is("Gemm")).ToArray();
        var relus = graph.Nodes.Where(n => n.Is("Relu")).ToArray();
        var input = graph.Inputs[0];

        // Two Identities in a row on the graph input.
        var first = graph.AddNode("Identity", [input], ["input_copy"], before: gemms[0]);
        var second = graph.AddNode("Identity", [first.Outputs[0]], ["input_copy2"], before: gemms[0]);
        gemms[0].SetInput(0, second.Outputs[0]);

        // An inference Dropout (mask unread) between the first Relu and the second Gemm.
        var dropout = graph.AddNode("Dropout", [relus[0].Outputs[0]], ["dropped", "mask"], before: gemms[1]);
        gemms[1].SetInput(0, dropout.Outputs[0]);

        // Cast to float of a float (removed), then float -> double -> float (both kept: they change the type).
        var toFloat = graph.AddNode("Cast", [relus[1].Outputs[0]], ["same_type"], [Attribute.FromInt("to", (long)DataType.Float)], before: gemms[2]);
        var toDouble = graph.AddNode("Cast", [toFloat.Outputs[0]], ["as_double"], [Attribute.FromInt("to", (long)DataType.Double)], before: gemms[2]);
        var back = graph.AddNode("Cast", [toDouble.Outputs[0]], ["as_float"], [Attribute.FromInt("to", (long)DataType.Float)], before: gemms[2]);
        gemms[2].SetInput(0, back.Outputs[0]);

        // An Identity feeding the graph output, as exporters write it: the last Gemm computes
        // "fc3_out" and the Identity names it "logits".
        var logits = graph.Outputs[0];
        var type = logits.Type;
        graph.RenameValue(logits, "fc3_out");
        var named = graph.AddNode("Identity", [logits], ["logits"]);
        named.Outputs[0]!.Type = type;
        graph.Outputs[0] = named.Outputs[0]!;
        Assert.HasCount(12, graph.Nodes);
        OrtCompare.SameAsFixture("digits-mlp", OrtCompare.Save(model, temp, "with-identities.onnx"));

        var result = new RemoveIdentityPass().Run(model, OrtCompare.Context());

        Assert.AreEqual(5L, result.Counters["identities removed"]);
        Assert.HasCount(7, graph.Nodes);
        Assert.AreEqual(0, OrtCompare.Count(model, "Identity"));
        Assert.AreEqual(0, OrtCompare.Count(model, "Dropout"));
        Assert.AreEqual(2, OrtCompare.Count(model, "Cast"), "the casts that change the type stay");
        Assert.AreSame(input, gemms[0].Inputs[0]);
        Assert.AreSame(relus[0].Outputs[0], gemms[1].Inputs[0]);
        Assert.AreSame(relus[1].Outputs[0], toDouble.Inputs[0]);
        Assert.AreEqual("logits", graph.Outputs.Single().Name, "the interface name is kept");
        Assert.AreSame(gemms[2], graph.Outputs[0].Producer, "the last Gemm now computes the output itself");
        Assert.AreSame(type, graph.Outputs[0].Type);
        OrtCompare.SameAsFixture("digits-mlp", OrtCompare.Save(model, temp));
    }

    [TestMethod]
    public void AnIdentityFromAGraphInputToAGraphOutputStays()
    {
        using var temp = new TempDirectory();
        var model = ModelReader.Load(Fixtures.Model("digits-mlp"));
        var graph = model.Graph;
        var copy = graph.AddNode("Identity", [graph.Inputs[0]], ["input_echo"]);
        copy.Outputs[0]!.Type = graph.Inputs[0].Type;
        graph.Outputs.Add(copy.Outputs[0]!);
        var before = OrtCompare.Save(model, temp, "before.onnx");

        var result = new RemoveIdentityPass().Run(model, OrtCompare.Context());

        Assert.AreEqual(0L, result.Counters["identities removed"]);
        Assert.IsFalse(result.Modified);
        CollectionAssert.AreEqual(new[] { "logits", "input_echo" }, graph.Outputs.Select(v => v.Name).ToArray());
        Assert.AreEqual(1, OrtCompare.Count(model, "Identity"));
        OrtCompare.SameOutputs(before, OrtCompare.Save(model, temp), Fixtures.Inputs(Fixtures.DataSets("digits-mlp")[0]));
    }

    [TestMethod]
    public void ADropoutWhoseMaskIsReadStays()
    {
        var model = ModelReader.Load(Fixtures.Model("digits-mlp"));
        var graph = model.Graph;
        var relu = graph.Nodes.First(n => n.Is("Relu"));
        var gemm = graph.Nodes.Where(n => n.Is("Gemm")).ElementAt(1);
        var dropout = graph.AddNode("Dropout", [relu.Outputs[0]], ["dropped", "mask"], before: gemm);
        gemm.SetInput(0, dropout.Outputs[0]);
        graph.Outputs.Add(dropout.Outputs[1]!);

        var result = new RemoveIdentityPass().Run(model, OrtCompare.Context());

        Assert.AreEqual(0L, result.Counters["identities removed"]);
        Assert.AreEqual(1, OrtCompare.Count(model, "Dropout"));
    }
}
