using ModelShrink.Core.Passes.Fp16;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Testing;
using static ModelShrink.Core.Tests.Fp16.ProtoModels;

namespace ModelShrink.Core.Tests.Fp16;

/// <summary>Ops and nodes the block lists keep in float32.</summary>
[TestClass]
public sealed class Fp16BlockListTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void BlockedOpRunsInFloat32BetweenCasts()
    {
        using var temp = new TempDirectory();
        var options = new Fp16Options { OpBlockList = [.. Fp16Options.DefaultOpBlockList, "Relu"] };

        var converted = Fp16Harness.Convert("digits-mlp", temp, options);

        var relus = converted.Model.Graph.Nodes.Where(n => n.Is("Relu")).ToList();
        Assert.HasCount(2, relus);
        foreach (var relu in relus)
        {
            Assert.IsTrue(relu.Inputs[0]!.Producer is { } p && p.Is("Cast") && p.GetInt("to", 0) == (long)DataType.Float, "Relu does not read a Cast to float32");
            Assert.IsTrue(relu.Outputs[0]!.Uses.All(u => u.Node.Is("Cast") && u.Node.GetInt("to", 0) == (long)DataType.Float16), "Relu is not read through a Cast to float16");
        }

        Assert.AreEqual(2L, converted.Result.Counters[Fp16Pass.NodesKept]);
        Assert.AreEqual(3L, converted.Result.Counters[Fp16Pass.NodesHalf]);
        Assert.AreEqual(0, Fp16Harness.CastPairs(converted.Model));
        var comparison = Fp16Harness.Compare("digits-mlp", converted.Path);
        TestContext.WriteLine(comparison.ToString());
        Assert.IsGreaterThanOrEqualTo(0.99, comparison.Agreement);
    }

    [TestMethod]
    public void BlockedNodeKeepsItsWeightsFloat32AndReadsTheModelInputDirectly()
    {
        using var temp = new TempDirectory();
        var firstGemm = ModelReader.Load(Fixtures.Model("digits-mlp")).Graph.Nodes.First(n => n.Is("Gemm")).Name;

        var converted = Fp16Harness.Convert("digits-mlp", temp, new Fp16Options { NodeBlockList = [firstGemm] });

        var gemm = converted.Model.Graph.Nodes.Single(n => n.Name == firstGemm);
        Assert.AreEqual("input", gemm.Inputs[0]!.Name);
        Assert.AreEqual(DataType.Float, gemm.Inputs[1]!.Initializer!.DataType);
        Assert.AreEqual(DataType.Float, gemm.Inputs[2]!.Initializer!.DataType);
        Assert.IsTrue(gemm.Outputs[0]!.Uses.All(u => u.Node.Is("Cast")));
        Assert.AreEqual(4L, converted.Result.Counters[Fp16Pass.WeightsConverted]);
        Assert.IsGreaterThanOrEqualTo(0.99, Fp16Harness.Compare("digits-mlp", converted.Path).Agreement);
    }

    [TestMethod]
    public void RangeStaysFloat32EvenWithAnEmptyBlockListBecauseItsSchemaHasNoFloat16()
    {
        // Range(0, 1, 0.1) has 10 elements; in float16 (0.1 -> 0.09998) it would have 11, and ONNX's
        // Range has no float16 type at all, so a converted Range would not load.
        using var temp = new TempDirectory();
        var source = Save(temp, "range", Graph("range",
            [Node("Range", ["start", "limit", "delta"], ["r"]), Node("Add", ["x", "r"], ["y"])],
            [Info("x", DataType.Float, 10)], [Info("y", DataType.Float, 10)],
            [Floats("start", [], 0f), Floats("limit", [], 1f), Floats("delta", [], 0.1f)]));
        var x = Tensor.FromArray("x", [10], Enumerable.Range(0, 10).Select(i => (float)i).ToArray());

        foreach (var blockList in new[] { Fp16Options.DefaultOpBlockList, [] })
        {
            var converted = Fp16Harness.ConvertFile(source, temp, new Fp16Options { OpBlockList = blockList });

            var range = converted.Model.Graph.Nodes.Single(n => n.Is("Range"));
            Assert.IsTrue(range.Inputs.All(v => v!.Initializer!.DataType == DataType.Float));
            Assert.AreEqual(DataType.Float16, Fp16Harness.TypeOf(converted.Model, converted.Model.Graph.Nodes.Single(n => n.Is("Add")).Inputs[1]!));
            Assert.IsLessThanOrEqualTo(0.01, Fp16Harness.MaxAbsDiff(source, converted.Path, [x]));
        }
    }

    [TestMethod]
    public void ResizeScalesStayFloat32WhileTheImageIsConverted()
    {
        using var temp = new TempDirectory();
        var source = Save(temp, "resize", Graph("resize",
            [Node("Mul", ["x", "k"], ["m"]), Node("Resize", ["m", "", "scales"], ["y"], new Onnx.Protobuf.AttributeProto { Name = "mode", Type = Onnx.Protobuf.AttributeProto.Types.AttributeType.String, S = Google.Protobuf.ByteString.CopyFromUtf8("linear") })],
            [Info("x", DataType.Float, 1, 1, 2, 2)], [Info("y", DataType.Float, 1, 1, 4, 4)],
            [Floats("k", [], 3f), Floats("scales", [4], 1f, 1f, 2f, 2f)]), opset: 13);

        var converted = Fp16Harness.ConvertFile(source, temp);

        var resize = converted.Model.Graph.Nodes.Single(n => n.Is("Resize"));
        Assert.AreEqual(DataType.Float, resize.Inputs[2]!.Initializer!.DataType);
        Assert.AreEqual(DataType.Float16, Fp16Harness.TypeOf(converted.Model, resize.Inputs[0]!));
        var x = Tensor.FromArray("x", [1, 1, 2, 2], [1f, 2f, 3f, 4f]);
        Assert.IsLessThanOrEqualTo(0.01, Fp16Harness.MaxAbsDiff(source, converted.Path, [x]));
    }

    [TestMethod]
    public void AnUnknownNodeNameInTheBlockListIsReported()
    {
        using var temp = new TempDirectory();

        var converted = Fp16Harness.Convert("digits-mlp", temp, new Fp16Options { NodeBlockList = ["no-such-node"] });

        var warning = converted.Context.Diagnostics.Single();
        Assert.AreEqual(ErrorCodes.Fp16BlockedNodeNotFound, warning.Code);
        StringAssert.Contains(warning.Message, "'no-such-node'");
    }

    [TestMethod]
    public void OpsOfOtherDomainsStayFloat32BetweenCasts()
    {
        using var temp = new TempDirectory();
        var gelu = Node("Gelu", ["r"], ["g"]);
        gelu.Domain = "com.microsoft";
        var graph = Graph("contrib", [Node("Relu", ["x"], ["r"]), gelu, Node("Add", ["g", "k"], ["y"])],
            [Info("x", DataType.Float, 4)], [Info("y", DataType.Float, 4)], [Floats("k", [], 0.5f)]);
        var source = Save(temp, "contrib", graph);
        var model = Onnx.Protobuf.ModelProto.Parser.ParseFrom(File.ReadAllBytes(source));
        model.OpsetImport.Add(new Onnx.Protobuf.OperatorSetIdProto { Domain = "com.microsoft", Version = 1 });
        File.WriteAllBytes(source, Google.Protobuf.MessageExtensions.ToByteArray(model));

        var converted = Fp16Harness.ConvertFile(source, temp);

        var node = converted.Model.Graph.Nodes.Single(n => n.OpType == "Gelu");
        Assert.IsTrue(node.Inputs[0]!.Producer!.Is("Cast") && node.Inputs[0]!.Producer!.GetInt("to", 0) == (long)DataType.Float);
        Assert.AreEqual(1L, converted.Result.Counters[Fp16Pass.NodesKept]);
        var x = Tensor.FromArray("x", [4], [-1f, 0.5f, 1f, 2f]);
        Assert.IsLessThanOrEqualTo(0.01, Fp16Harness.MaxAbsDiff(source, converted.Path, [x]));
    }

    [TestMethod]
    public void AValueOfUnknownTypeReadByAFloat16NodeIsReported()
    {
        using var temp = new TempDirectory();
        var make = Node("MakeSomething", [], ["m"]);
        make.Domain = "com.example";
        var source = Save(temp, "unknown", Graph("unknown", [make, Node("Add", ["x", "m"], ["y"])],
            [Info("x", DataType.Float, 4)], [Info("y", DataType.Float, 4)]));

        var converted = Fp16Harness.ConvertFile(source, temp);

        var warning = converted.Context.Diagnostics.Single();
        Assert.AreEqual(ErrorCodes.Fp16UnknownElementType, warning.Code);
        StringAssert.Contains(warning.Message, "'m'");
    }
}
