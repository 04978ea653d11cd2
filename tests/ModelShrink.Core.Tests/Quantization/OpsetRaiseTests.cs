using ModelShrink.Core.Quantization;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Testing;
using Attribute = ModelShrink.Onnx.Ir.Attribute;

namespace ModelShrink.Core.Tests.Quantization;

[TestClass]
public sealed class OpsetRaiseTests
{
    [TestMethod]
    public void ClipWithMinMaxAttributesBlocksOpset11ButNot10()
    {
        var model = OneNode(9, "Clip", Attribute.FromFloat("min", 0f), Attribute.FromFloat("max", 6f));

        Assert.IsTrue(OpsetRaise.CanRaise(model, 10));
        CollectionAssert.AreEqual(new[] { "Clip(n) changed in opset 11" }, OpsetRaise.Blockers(model, 13).ToArray());
    }

    [TestMethod]
    public void ClipWithoutAttributesNeverBlocks()
    {
        Assert.IsTrue(OpsetRaise.CanRaise(OneNode(9, "Clip"), 21));
    }

    [TestMethod]
    public void SoftmaxBlocksOpset13UnlessItsAxisIsTheLastOne()
    {
        var rank2Default = OneNode(11, "Softmax");
        rank2Default.Graph.Nodes[0].Inputs[0]!.Type = TensorType.Of(DataType.Float, "N", 10);
        var lastAxis = OneNode(11, "Softmax", Attribute.FromInt("axis", -1));
        var unknownRank = OneNode(11, "Softmax");

        Assert.IsTrue(OpsetRaise.CanRaise(rank2Default, 13));
        Assert.IsTrue(OpsetRaise.CanRaise(lastAxis, 13));
        Assert.IsFalse(OpsetRaise.CanRaise(unknownRank, 13));
    }

    [TestMethod]
    public void ReduceMeanWithAxesBlocksOpset18AndSoTheTransformerFixtureCannotReach21()
    {
        var model = ModelReader.Load(Fixtures.Model("digits-transformer"));

        Assert.IsTrue(OpsetRaise.CanRaise(model, 17));
        StringAssert.StartsWith(OpsetRaise.Blockers(model, 21)[0], "ReduceMean(");
    }

    [TestMethod]
    public void RaiseAlsoRaisesTheIrVersionTheOpsetNeeds()
    {
        var model = OneNode(9, "Relu");
        model.IrVersion = 4;

        OpsetRaise.Raise(model, 21);

        Assert.AreEqual(21L, model.Opsets.Default);
        Assert.AreEqual(10L, model.IrVersion);
    }

    private static Model OneNode(long opset, string op, params Attribute[] attributes)
    {
        var model = Model.Create("g", 4, ("", opset));
        var x = model.Graph.AddInput("x", new Onnx.Protobuf.TypeProto());
        model.Graph.Outputs.Add(model.Graph.AddNode(op, [x], ["y"], attributes, name: "n").Outputs[0]!);
        return model;
    }
}
