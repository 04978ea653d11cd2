using ModelShrink.Core.Passes.Cleanup;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Protobuf;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Testing;
using Attribute = ModelShrink.Onnx.Ir.Attribute;

namespace ModelShrink.Core.Tests.Cleanup;

[TestClass]
public sealed class UpgradeOpsetTests
{
    [TestMethod]
    [DataRow("digits-mlp")]
    [DataRow("digits-cnn")]
    [DataRow("digits-lstm")]
    public void FixturesUpgradedFrom13To17RunBitIdentically(string fixture)
    {
        using var temp = new TempDirectory();
        var model = ModelReader.Load(Fixtures.Model(fixture));
        Assert.AreEqual(13L, model.Opsets.Default);
        var nodes = model.Graph.EnumerateNodes().Select(n => n.OpType).ToArray();

        var result = new UpgradeOpsetPass(17).Run(model, OrtCompare.Context());

        Assert.IsTrue(result.Modified);
        Assert.AreEqual(0L, result.Counters["nodes rewritten"], "nothing these exports use changed meaning between 13 and 17");
        Assert.AreEqual(13L, result.Counters["from opset"]);
        Assert.AreEqual(17L, result.Counters["to opset"]);
        Assert.AreEqual(17L, model.Opsets.Default);
        Assert.AreEqual(8L, model.IrVersion, "opset 17 needs IR version 8");
        CollectionAssert.AreEqual(nodes, model.Graph.EnumerateNodes().Select(n => n.OpType).ToArray());
        var saved = OrtCompare.Save(model, temp);
        Assert.AreEqual(17L, ModelReader.Load(saved).Opsets.Default);
        OrtCompare.SameAsFixture(fixture, saved);
    }

    [TestMethod]
    [DataRow(7L, 9L, 3L)]
    [DataRow(7L, 13L, 14L)]
    [DataRow(9L, 10L, 4L)]
    [DataRow(9L, 11L, 6L)]
    [DataRow(9L, 13L, 13L)]
    [DataRow(9L, 17L, 13L)]
    [DataRow(9L, 21L, 13L)]
    public void AnOldOpsetModelBuiltThroughTheIrComputesTheSameAfterTheUpgrade(long from, long to, long rewritten)
    {
        using var temp = new TempDirectory();
        var model = Synthetic(from);
        var original = OrtCompare.Save(model, temp, "original.onnx");
        Assert.AreEqual(15, model.Graph.Nodes.Count);

        var result = new UpgradeOpsetPass(to).Run(model, OrtCompare.Context());

        Assert.AreEqual(to, model.Opsets.Default);
        Assert.AreEqual(Math.Max(4L, ModelShrink.Onnx.Ir.OpsetImports.MinimumIrVersion(to)), model.IrVersion);
        var clip = model.Graph.Nodes.Single(n => n.Is("Clip"));
        var softmax = model.Graph.Nodes.Single(n => n.Is("Softmax"));
        var logSoftmax = model.Graph.Nodes.Single(n => n.Is("LogSoftmax"));
        if (to >= 11)
        {
            Assert.IsEmpty(clip.Attributes, "min and max are inputs from opset 11");
            CollectionAssert.AreEqual(new[] { -0.5f, 0.5f }, clip.Inputs.Skip(1).Select(v => v!.Initializer!.ToArray<float>()[0]).ToArray());
            Assert.IsEmpty(model.Graph.Nodes.Single(n => n.Is("Pad")).Attributes.Where(a => a.Name is "pads" or "value"));
        }

        if (to >= 13)
        {
            Assert.IsTrue(model.Graph.Nodes.Where(n => n.OpType is "Squeeze" or "Unsqueeze" or "ReduceSum" or "Split").All(n => n.Inputs.Count == 2 && n.Inputs[1]!.Initializer is not null));
            Assert.AreEqual("Flatten", softmax.Inputs[0]!.Producer!.OpType, "axis 1 of a tensor of unknown rank: normalise the flattened rows");
            Assert.AreEqual("Reshape", model.Graph.FindValue("softmax")!.Producer!.OpType);
            Assert.AreEqual(-1L, logSoftmax.GetInt("axis", 0), "axis 3 of a rank-4 tensor is the last axis");
            Assert.AreSame(model.Graph.FindValue("squeezed"), logSoftmax.Inputs[0]);
        }
        else
        {
            Assert.AreSame(model.Graph.FindValue("squeezed"), softmax.Inputs[0]);
        }

        Assert.AreEqual(to >= 10 ? 0 : 2, OrtCompare.Count(model, "Upsample"));
        Assert.AreEqual(to >= 10 ? 2 : 0, OrtCompare.Count(model, "Resize"));
        Assert.AreEqual(to >= 10, model.Graph.Nodes.Single(n => n.Is("TopK")).FindAttribute("k") is null);
        Assert.AreEqual(rewritten, result.Counters["nodes rewritten"]);
        var upgraded = OrtCompare.Save(model, temp);
        OrtCompare.SameOutputs(original, upgraded, [SyntheticInput()], 1e-5f, $"opset {from} -> {to}");
    }

    [TestMethod]
    public void AnOpThatCannotBeUpgradedStopsWithMsh2101AndLeavesTheModelAlone()
    {
        var model = Model.Create("dft", 8, ("", 17));
        var signal = model.Graph.AddInput("signal", TensorType.Of(DataType.Float, 1, 16, 1));
        var dft = model.Graph.AddNode("DFT", [signal], ["spectrum"], [Attribute.FromInt("axis", 1)]);
        model.Graph.Outputs.Add(dft.Outputs[0]!);

        var error = Assert.ThrowsExactly<ModelShrinkException>(() => new UpgradeOpsetPass(20).Run(model, OrtCompare.Context("dft.onnx")));

        Assert.AreEqual(ErrorCodes.OpsetUpgradeUnsupported, error.Diagnostic.Code);
        Assert.AreEqual("MSH2101", error.Diagnostic.Code);
        StringAssert.Contains(error.Diagnostic.Message, "DFT");
        StringAssert.Contains(error.Diagnostic.Message, "from opset 17 to 20");
        Assert.AreEqual("dft.onnx", error.Diagnostic.File);
        Assert.AreEqual(17L, model.Opsets.Default, "nothing changes when the check fails");
        Assert.AreEqual(1L, dft.GetInt("axis", 0));
    }

    [TestMethod]
    [DataRow("ImageScaler", "not an ai.onnx operator the upgrade knows")]
    [DataRow("Resize", "no single nearest_mode")]
    [DataRow("BatchNormalization", "training mode")]
    public void OtherNodesTheUpgradeRefusesAreNamedWithBothOpsets(string op, string reason)
    {
        var model = Model.Create("refused", 5, ("", op == "Resize" ? 10 : 9));
        var graph = model.Graph;
        var x = graph.AddInput("x", TensorType.Of(DataType.Float, 1, 2, 4, 4));
        Node node = op switch
        {
            "Resize" => graph.AddNode("Resize", [x, graph.AddInitializer(Tensor.FromArray("scales", [4], [1f, 1f, 2f, 0.5f]))], ["y"]),
            "BatchNormalization" => graph.AddNode("BatchNormalization",
                [x, .. Enumerable.Range(0, 4).Select(i => graph.AddInitializer(Tensor.FromArray($"p{i}", [2], [1f, 1f])))],
                ["y", "running_mean", "running_var"]),
            _ => graph.AddNode(op, [x], ["y"], [Attribute.FromFloat("scale", 2f)]),
        };
        graph.Outputs.Add(node.Outputs[0]!);
        var from = model.Opsets.Default;

        var error = Assert.ThrowsExactly<ModelShrinkException>(() => new UpgradeOpsetPass(17).Run(model, OrtCompare.Context()));

        Assert.AreEqual(ErrorCodes.OpsetUpgradeUnsupported, error.Diagnostic.Code);
        StringAssert.StartsWith(error.Diagnostic.Message, $"{op} (node '{node.Name}') cannot be upgraded from opset {from} to 17");
        StringAssert.Contains(error.Diagnostic.Message, reason);
        Assert.AreEqual(from, model.Opsets.Default);
    }

    [TestMethod]
    [DataRow(6L)]
    [DataRow(22L)]
    public void ATargetOutsideTheSupportedRangeIsMsh2102(long target)
    {
        var model = ModelReader.Load(Fixtures.Model("digits-mlp"));

        var error = Assert.ThrowsExactly<ModelShrinkException>(() => new UpgradeOpsetPass(target).Run(model, OrtCompare.Context()));

        Assert.AreEqual(ErrorCodes.OpsetOutOfRange, error.Diagnostic.Code);
        StringAssert.Contains(error.Diagnostic.Message, $"target opset {target}");
        Assert.AreEqual(13L, model.Opsets.Default);
    }

    [TestMethod]
    public void AModelAboveTheTargetIsNotLoweredButWarnsMsh2103()
    {
        var model = ModelReader.Load(Fixtures.Model("digits-transformer"));
        var context = OrtCompare.Context();

        var result = new UpgradeOpsetPass(13).Run(model, context);

        Assert.IsFalse(result.Modified);
        Assert.AreEqual(17L, model.Opsets.Default);
        var warning = context.Diagnostics.Single();
        Assert.AreEqual(ErrorCodes.OpsetNotLowered, warning.Code);
        Assert.AreEqual(DiagnosticSeverity.Warning, warning.Severity);
        StringAssert.Contains(warning.Message, "already at opset 17");
    }

    // An opset-7 or opset-9 model exercising every rewrite real CNN exports need: Clip, Unsqueeze,
    // Squeeze, Softmax (not on the last axis, rank unknown), LogSoftmax (last axis, rank declared),
    // Slice, Pad, ReduceSum, Split, Upsample (nearest and linear), Dropout, BatchNormalization, TopK.
    internal static Model Synthetic(long opset)
    {
        var model = Model.Create("synthetic", 4, ("", opset));
        var g = model.Graph;
        Value Out(Node node, int index = 0) => node.Outputs[index]!;
        Value Const(string name, long[] dims, float[] values) => g.AddInitializer(Tensor.FromArray(name, dims, values));
        Node Upsample(Value input, string output, string mode) => opset < 9
            ? g.AddNode("Upsample", [input], [output], [Attribute.FromString("mode", mode), Attribute.FromFloats("scales", [1f, 1f, 2f, 2f])])
            : g.AddNode("Upsample", [input, g.FindValue("scales") ?? Const("scales", [4], [1f, 1f, 2f, 2f])], [output], [Attribute.FromString("mode", mode)]);

        var x = g.AddInput("x", TensorType.Of(DataType.Float, 2, 3, 4, 4));
        var clip = g.AddNode("Clip", [x], ["clipped"], [Attribute.FromFloat("min", -0.5f), Attribute.FromFloat("max", 0.5f)]);
        var unsqueeze = g.AddNode("Unsqueeze", [Out(clip)], ["unsqueezed"], [Attribute.FromInts("axes", [0])]);
        var squeeze = g.AddNode("Squeeze", [Out(unsqueeze)], ["squeezed"], [Attribute.FromInts("axes", [0])]);
        var softmax = g.AddNode("Softmax", [Out(squeeze)], ["softmax"], [Attribute.FromInt("axis", 1)]);
        var logSoftmax = g.AddNode("LogSoftmax", [Out(squeeze)], ["log_softmax"], [Attribute.FromInt("axis", 3)]);
        Out(logSoftmax).Type = TensorType.Of(DataType.Float, 2, 3, 4, 4);
        var slice = g.AddNode("Slice", [Out(softmax)], ["sliced"], [Attribute.FromInts("starts", [1]), Attribute.FromInts("ends", [3]), Attribute.FromInts("axes", [1])]);
        var pad = g.AddNode("Pad", [Out(slice)], ["padded"], [Attribute.FromInts("pads", [0, 0, 1, 1, 0, 0, 1, 1]), Attribute.FromFloat("value", 0.25f)]);
        var reduce = g.AddNode("ReduceSum", [Out(pad)], ["reduced"], [Attribute.FromInts("axes", [3]), Attribute.FromInt("keepdims", 1)]);
        var split = g.AddNode("Split", [Out(pad)], ["half_a", "half_b"], [Attribute.FromInt("axis", 1), Attribute.FromInts("split", [1, 1])]);
        var halves = g.AddNode("Add", [Out(split), Out(split, 1)], ["halves"]);
        var nearest = Upsample(Out(halves), "upsampled", "nearest");
        var linear = Upsample(Out(halves), "upsampled_linear", "linear");
        var dropout = g.AddNode("Dropout", [Out(nearest)], ["dropped"], [Attribute.FromFloat("ratio", 0.3f)]);
        Value[] statistics = [Const("bn_scale", [1], [1.5f]), Const("bn_bias", [1], [-0.25f]), Const("bn_mean", [1], [0.1f]), Const("bn_var", [1], [0.8f])];
        Attribute[] bnAttributes = opset < 9 ? [Attribute.FromFloat("epsilon", 1e-5f), Attribute.FromInt("spatial", 1)] : [Attribute.FromFloat("epsilon", 1e-5f)];
        var norm = g.AddNode("BatchNormalization", [Out(dropout), .. statistics], ["normalized"], bnAttributes);
        var topK = g.AddNode("TopK", [Out(reduce)], ["top_values", "top_indices"], [Attribute.FromInt("axis", 2), Attribute.FromInt("k", 3)]);
        foreach (var output in new[] { Out(norm), Out(reduce), Out(logSoftmax), Out(topK), Out(linear) })
        {
            output.Type ??= new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)DataType.Float } };
            g.Outputs.Add(output);
        }

        return model;
    }

    internal static Tensor SyntheticInput()
    {
        var random = new Random(1797);
        var values = Enumerable.Range(0, 2 * 3 * 4 * 4).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        return Tensor.FromArray("x", [2, 3, 4, 4], values);
    }
}
