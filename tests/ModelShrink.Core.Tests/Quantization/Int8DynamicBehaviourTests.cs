using ModelShrink.Core.Passes;
using ModelShrink.Core.Passes.Int8Dynamic;
using ModelShrink.Core.Quantization;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Testing;
using Attribute = ModelShrink.Onnx.Ir.Attribute;

namespace ModelShrink.Core.Tests.Quantization;

[TestClass]
public sealed class Int8DynamicBehaviourTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void WeightDominatedInt8ModelIsAtMost27PercentAndKeepsCosineAbove099(bool perChannel)
    {
        using var folder = new TempDirectory();
        var source = QuantizedModels.WriteMatMulModel(folder.File("float.onnx"), 1024, 1024);
        var (path, _, _, _) = QuantizedModels.Apply(source, new Int8DynamicPass(new Int8DynamicOptions { PerChannel = perChannel }), folder);
        var input = Tensor.FromArray<float>("x", [4, 1024], QuantizedModels.RandomValues(4096, 7, 1f));

        var cosine = QuantizedModels.Cosine(QuantizedModels.Run(source, input), QuantizedModels.Run(path, input));
        var ratio = new FileInfo(path).Length / (double)new FileInfo(source).Length;

        TestContext.WriteLine($"per-channel {perChannel}: size {ratio:P2}, cosine {cosine:F6}");
        Assert.IsLessThanOrEqualTo(0.27, ratio);
        Assert.IsGreaterThan(0.99, cosine);
    }

    [TestMethod]
    public void WeightsThatAreGraphInputsStayFloatWithMSH2200()
    {
        using var folder = new TempDirectory();
        var (path, result, context, _) = QuantizedModels.Apply(Fixtures.Model("digits-mlp-inputs"), new Int8DynamicPass(new Int8DynamicOptions()), folder);

        var skipped = context.Diagnostics.Where(d => d.Code == ErrorCodes.QuantWeightIsGraphInput).Select(d => d.Message).ToArray();
        Assert.HasCount(3, skipped);
        StringAssert.Contains(skipped[0], "'fc1.weight' is also a graph input");
        Assert.IsFalse(result.Modified);
        Assert.AreEqual(3L, result.Counters["weights skipped"]);
        Assert.AreEqual(ErrorCodes.QuantNothingQuantized, context.Diagnostics[^1].Code);
        Assert.IsFalse(QuantizedModels.OpCounts(path).ContainsKey("MatMulInteger"));
    }

    [TestMethod]
    public void WeightsReadInsideBothIfBranchesAreQuantizedOnceAndBothBranchesStillAgree()
    {
        using var folder = new TempDirectory();
        var (path, result, _, _) = QuantizedModels.Apply(Fixtures.Model("digits-cnn-if"), new Int8DynamicPass(new Int8DynamicOptions()), folder);
        var model = ModelReader.Load(path);
        var set = Fixtures.Inputs(Fixtures.DataSets("digits-cnn-if")[0]);
        var elseInputs = new[] { set[0], Tensor.FromArray<bool>("use_cnn", [], [false]) };

        var thenLogits = OrtRunner.Run(path, set)["logits"];
        var elseLogits = OrtRunner.Run(path, elseInputs)["logits"];
        var original = OrtRunner.Run(Fixtures.Model("digits-cnn-if"), set)["logits"];

        Assert.AreEqual(5L, result.Counters["weights quantized"]);
        Assert.AreEqual(10L, result.Counters["nodes quantized"]);
        Assert.AreEqual(5, model.Graph.Initializers.Count(v => v.Initializer!.DataType == DataType.Int8 && v.Initializer.Dims.Count >= 2),
            "one int8 copy of each weight, in the main graph");
        // (per-channel scales of the Convs are float [C,1,1,1]; weights are larger)
        Assert.IsFalse(model.Graph.Initializers.Any(v => v.Initializer!.DataType == DataType.Float && v.Initializer.Dims.Count >= 2 && v.Initializer.ElementCount > 64), "no float weight left");
        Assert.AreEqual(3, model.Graph.Nodes.Count(n => n.OpType == "Cast"), "the Conv weights are rebuilt once, in the main graph, for both branches");
        foreach (var branch in model.Graph.Nodes.Single(n => n.OpType == "If").Subgraphs)
        {
            Assert.AreEqual(3, branch.Nodes.Count(n => n.OpType == "Conv"), branch.Name);
            Assert.AreEqual(2, branch.Nodes.Count(n => n.OpType == "MatMulInteger"), branch.Name);
        }

        CollectionAssert.AreEqual(thenLogits, elseLogits);
        Assert.AreEqual(1.0, QuantizedModels.Agreement(original, thenLogits));
    }

    [TestMethod]
    public void WeightsHeldInConstantNodesAreReplacedByInt8Initializers()
    {
        using var folder = new TempDirectory();
        var (path, result, _, _) = QuantizedModels.Apply(Fixtures.Model("digits-mlp-constants"), new Int8DynamicPass(new Int8DynamicOptions()), folder);
        var model = ModelReader.Load(path);

        Assert.AreEqual(3L, result.Counters["weights quantized"]);
        Assert.IsFalse(model.Graph.Nodes.Any(n => n.IsConstant && n.ConstantValue()!.Dims.Count == 2), "no float matrix left in a Constant node");
        Assert.AreEqual(3, model.Graph.Initializers.Count(v => v.Initializer!.DataType == DataType.Int8 && v.Initializer.Dims.Count == 2));
    }

    [TestMethod]
    public void EachOperatorTakesItsMeasuredForm()
    {
        using var folder = new TempDirectory();
        IReadOnlyDictionary<string, int> Ops(Int8Form form) => QuantizedModels.OpCounts(QuantizedModels.Apply(Fixtures.Model("digits-cnn"),
            new Int8DynamicPass(new Int8DynamicOptions { Form = form }), folder, $"{form}.onnx").Path);

        var auto = Ops(Int8Form.Auto);
        var integer = Ops(Int8Form.Integer);
        var weightOnly = Ops(Int8Form.WeightOnly);
        var qdq = Ops(Int8Form.Qdq);

        // Auto: the 3 Conv read weights rebuilt by Cast/Mul (folded by ORT at load), the 2 Gemm become MatMulInteger.
        Assert.AreEqual(3, auto["Conv"]);
        Assert.AreEqual(5, auto["Cast"], "3 weight casts and the int32 casts of the 2 MatMulInteger chains");
        Assert.AreEqual(2, auto["MatMulInteger"]);
        Assert.IsFalse(auto.ContainsKey("DequantizeLinear"));
        Assert.AreEqual(3, integer["ConvInteger"]);
        Assert.AreEqual(2, integer["MatMulInteger"]);
        Assert.AreEqual(5, weightOnly["Cast"]);
        Assert.AreEqual(2, weightOnly["Gemm"]);
        Assert.IsFalse(weightOnly.ContainsKey("MatMulInteger"));
        Assert.AreEqual(5, qdq["DequantizeLinear"]);
        Assert.AreEqual(3, qdq["Conv"]);
    }

    [TestMethod]
    [DataRow(Int8Form.Integer, WeightType.Int8, false)]
    [DataRow(Int8Form.Integer, WeightType.UInt8, true)]
    [DataRow(Int8Form.WeightOnly, WeightType.UInt8, false)]
    [DataRow(Int8Form.Qdq, WeightType.Int8, false)]
    public void EveryFormAndWeightTypeRunsInOrtAndAgreesOnTheCnn(Int8Form form, WeightType type, bool reduceRange)
    {
        using var folder = new TempDirectory();
        var options = new Int8DynamicOptions { Form = form, WeightType = type, ReduceRange = reduceRange, PerChannel = form != Int8Form.Integer };
        var (path, _, _, _) = QuantizedModels.Apply(Fixtures.Model("digits-cnn"), new Int8DynamicPass(options), folder);

        var agreement = QuantizedModels.Agreement(QuantizedModels.Logits(Fixtures.Model("digits-cnn"), "digits-cnn"), QuantizedModels.Logits(path, "digits-cnn"));

        TestContext.WriteLine($"{form} {type} reduce-range {reduceRange}: agreement {agreement:P2}");
        Assert.IsGreaterThanOrEqualTo(0.99, agreement);
    }

    [TestMethod]
    public void GemmAlphaBetaAndTransBAreHonouredByTheIntegerForm()
    {
        using var folder = new TempDirectory();
        var model = Model.Create("gemm", 7, ("", 13));
        var graph = model.Graph;
        var x = graph.AddInput("x", TensorType.Of(DataType.Float, "N", 64));
        var w = graph.AddInitializer(Tensor.FromArray<float>("W", [32, 64], QuantizedModels.RandomValues(32 * 64, 1, 0.2f)));
        var c = graph.AddInitializer(Tensor.FromArray<float>("C", [32], QuantizedModels.RandomValues(32, 2, 1f)));
        var y = graph.AddNode("Gemm", [x, w, c], ["y"],
            [Attribute.FromFloat("alpha", 0.5f), Attribute.FromFloat("beta", 2f), Attribute.FromInt("transB", 1)]).Outputs[0]!;
        graph.Outputs.Add(y);
        var source = folder.File("gemm.onnx");
        ModelWriter.Save(model, source);
        var input = Tensor.FromArray<float>("x", [8, 64], QuantizedModels.RandomValues(8 * 64, 3, 1f));

        var (path, _, _, _) = QuantizedModels.Apply(source, new Int8DynamicPass(new Int8DynamicOptions { PerChannel = true }), folder);
        var expected = QuantizedModels.Run(source, input);
        var actual = QuantizedModels.Run(path, input);

        Assert.AreEqual(1, QuantizedModels.OpCounts(path)["MatMulInteger"]);
        Assert.IsGreaterThan(0.9999, QuantizedModels.Cosine(expected, actual));
        Assert.IsLessThan(0.05, expected.Zip(actual).Max(p => Math.Abs(p.First - p.Second)));
    }

    [TestMethod]
    public void AWeightReadInTwoFormsIsStoredOnce()
    {
        // W [32, 16] feeds a MatMul (integer form) and a Gemm with transA=1 (weight-only form).
        using var folder = new TempDirectory();
        var model = Model.Create("shared", 7, ("", 13));
        var graph = model.Graph;
        var x = graph.AddInput("x", TensorType.Of(DataType.Float, 4, 32));
        var xt = graph.AddInput("xt", TensorType.Of(DataType.Float, 32, 4));
        var w = graph.AddInitializer(Tensor.FromArray<float>("W", [32, 16], QuantizedModels.RandomValues(32 * 16, 5, 0.3f)));
        graph.Outputs.Add(graph.AddNode("MatMul", [x, w], ["y"]).Outputs[0]!);
        graph.Outputs.Add(graph.AddNode("Gemm", [xt, w], ["z"], [Attribute.FromInt("transA", 1)]).Outputs[0]!);
        var source = folder.File("shared.onnx");
        ModelWriter.Save(model, source);
        var inputs = new[]
        {
            Tensor.FromArray<float>("x", [4, 32], QuantizedModels.RandomValues(128, 6, 1f)),
            Tensor.FromArray<float>("xt", [32, 4], QuantizedModels.RandomValues(128, 7, 1f)),
        };

        var (path, result, _, quantized) = QuantizedModels.Apply(source, new Int8DynamicPass(new Int8DynamicOptions()), folder);
        var expected = OrtRunner.Run(source, inputs);
        var actual = OrtRunner.Run(path, inputs);

        Assert.AreEqual(1L, result.Counters["integer nodes"]);
        Assert.AreEqual(1L, result.Counters["weight-only nodes"]);
        Assert.AreEqual(1, quantized.Graph.Initializers.Count(v => v.Initializer!.Dims.Count == 2), "one int8 copy, no float copy");
        Assert.IsGreaterThan(0.999, QuantizedModels.Cosine(expected["y"], actual["y"]));
        Assert.IsGreaterThan(0.999, QuantizedModels.Cosine(expected["z"], actual["z"]));
    }

    [TestMethod]
    public void PerChannelDequantizeLinearRaisesOpset11To13WhenNoOperatorChanged()
    {
        using var folder = new TempDirectory();
        var source = QuantizedModels.WriteMatMulModel(folder.File("float.onnx"), 64, 16, opset: 11);
        var options = new Int8DynamicOptions { PerChannel = true, Form = Int8Form.Qdq };
        var (path, result, context, _) = QuantizedModels.Apply(source, new Int8DynamicPass(options), folder);
        var model = ModelReader.Load(path);
        var input = Tensor.FromArray<float>("x", [2, 64], QuantizedModels.RandomValues(128, 4, 1f));

        Assert.AreEqual(13L, model.Opsets.Default);
        Assert.AreEqual(13L, result.Counters["opset raised to"]);
        Assert.IsGreaterThanOrEqualTo(7L, model.IrVersion);
        Assert.IsEmpty(context.Diagnostics);
        Assert.IsGreaterThan(0.999, QuantizedModels.Cosine(QuantizedModels.Run(source, input), QuantizedModels.Run(path, input)));
    }

    [TestMethod]
    public void PerChannelFallsBackToPerTensorWithMSH2202WhenAnOperatorChangedBeforeOpset13()
    {
        using var folder = new TempDirectory();
        var source = WriteModelWithChangedOperator(folder.File("float.onnx"), 11, "Unsqueeze", Attribute.FromInts("axes", [0]));
        var options = new Int8DynamicOptions { PerChannel = true, Form = Int8Form.Qdq };
        var (path, _, context, model) = QuantizedModels.Apply(source, new Int8DynamicPass(options), folder);
        var input = Tensor.FromArray<float>("x", [2, 64], QuantizedModels.RandomValues(128, 4, 1f));

        var warning = context.Diagnostics.Single(d => d.Code == ErrorCodes.QuantPerTensorFallback);
        StringAssert.Contains(warning.Message, "Unsqueeze(changed) changed in opset 13");
        Assert.AreEqual(11L, model.Opsets.Default);
        Assert.IsNull(model.Graph.Nodes.Single(n => n.OpType == "DequantizeLinear").FindAttribute("axis"));
        Assert.IsGreaterThan(0.999, QuantizedModels.Cosine(QuantizedModels.Run(source, input), QuantizedModels.Run(path, input)));
    }

    [TestMethod]
    public void Opset9ModelThatCannotBeRaisedGetsWeightOnlyMatMulsAndKeepsItsOpset()
    {
        using var folder = new TempDirectory();
        var source = WriteModelWithChangedOperator(folder.File("float.onnx"), 9, "Slice",
            Attribute.FromInts("axes", [1]), Attribute.FromInts("starts", [0]), Attribute.FromInts("ends", [8]));
        var (path, result, context, model) = QuantizedModels.Apply(source, new Int8DynamicPass(new Int8DynamicOptions { PerChannel = true }), folder);
        var input = Tensor.FromArray<float>("x", [2, 64], QuantizedModels.RandomValues(128, 4, 1f));

        // MatMulInteger needs opset 10, which Slice's attributes forbid: the weight is rebuilt by Cast/Mul instead.
        Assert.AreEqual(9L, model.Opsets.Default);
        Assert.AreEqual(1L, result.Counters["weight-only nodes"]);
        Assert.AreEqual(1, model.Graph.Nodes.Count(n => n.OpType == "Cast"));
        Assert.IsEmpty(context.Diagnostics);
        Assert.IsGreaterThan(0.999, QuantizedModels.Cosine(QuantizedModels.Run(source, input), QuantizedModels.Run(path, input)));
    }

    [TestMethod]
    public void Opset9ModelThatCannotBeRaisedUsesContribDequantizeLinearForQdqWithMSH2203()
    {
        using var folder = new TempDirectory();
        var source = WriteModelWithChangedOperator(folder.File("float.onnx"), 9, "Slice",
            Attribute.FromInts("axes", [1]), Attribute.FromInts("starts", [0]), Attribute.FromInts("ends", [8]));
        var options = new Int8DynamicOptions { PerChannel = true, Form = Int8Form.Qdq };
        var (path, result, context, model) = QuantizedModels.Apply(source, new Int8DynamicPass(options), folder);
        var input = Tensor.FromArray<float>("x", [2, 64], QuantizedModels.RandomValues(128, 4, 1f));

        var dequantize = model.Graph.Nodes.Single(n => n.OpType == "DequantizeLinear");
        Assert.AreEqual("com.microsoft", dequantize.Domain);
        Assert.AreEqual(1L, dequantize.GetInt("axis", -1));
        Assert.AreEqual(9L, model.Opsets.Default);
        Assert.AreEqual(1L, model.Opsets["com.microsoft"]);
        Assert.AreEqual(1L, result.Counters["dequantize nodes"]);
        StringAssert.Contains(context.Diagnostics.Single(d => d.Code == ErrorCodes.QuantContribDequantize).Message, "Slice(changed) changed in opset 10");
        Assert.IsGreaterThan(0.999, QuantizedModels.Cosine(QuantizedModels.Run(source, input), QuantizedModels.Run(path, input)));
    }

    [TestMethod]
    public void UnknownOperatorTypeIsRefusedWithMSH2204()
    {
        var model = ModelReader.Load(Fixtures.Model("digits-mlp"));

        var error = Assert.ThrowsExactly<ModelShrinkException>(() =>
            new Int8DynamicPass(new Int8DynamicOptions { OpTypes = ["Gemm", "Softmax"] }).Run(model, new PassContext("m.onnx")));

        Assert.AreEqual(ErrorCodes.QuantInvalidOption, error.Diagnostic.Code);
        StringAssert.Contains(error.Diagnostic.Message, "Softmax");
        StringAssert.Contains(error.Diagnostic.Message, "supported: Conv, Gemm, GRU, LSTM, MatMul, RNN");
    }

    [TestMethod]
    public void ExcludedNodesStayFloatAndUnknownNamesWarnWithMSH2205()
    {
        var model = ModelReader.Load(Fixtures.Model("digits-mlp"));
        var first = model.Graph.Nodes.First(n => n.OpType == "Gemm").Name;
        var context = new PassContext("m.onnx");

        var result = new Int8DynamicPass(new Int8DynamicOptions { ExcludeNodes = [first, "no-such-node"] }).Run(model, context);

        Assert.AreEqual(2L, result.Counters["nodes quantized"]);
        Assert.AreEqual("Gemm", model.Graph.Nodes.Single(n => n.Name == first).OpType);
        StringAssert.Contains(context.Diagnostics.Single(d => d.Code == ErrorCodes.QuantNodeNotFound).Message, "no-such-node");
    }

    [TestMethod]
    public void MatMulConstBOnlyOffAlsoQuantizesActivationTimesActivation()
    {
        using var folder = new TempDirectory();
        var constB = QuantizedModels.Apply(Fixtures.Model("digits-transformer"), new Int8DynamicPass(new Int8DynamicOptions()), folder, "const.onnx");
        var both = QuantizedModels.Apply(Fixtures.Model("digits-transformer"),
            new Int8DynamicPass(new Int8DynamicOptions { MatMulConstBOnly = false }), folder, "both.onnx");

        var agreement = QuantizedModels.Agreement(QuantizedModels.Logits(Fixtures.Model("digits-transformer"), "digits-transformer"),
            QuantizedModels.Logits(both.Path, "digits-transformer"));

        // 4 attention MatMuls (Q·K' and P·V in 2 blocks) have no weight.
        Assert.AreEqual(constB.Result.Counters["nodes quantized"] + 4, both.Result.Counters["nodes quantized"]);
        TestContext.WriteLine($"agreement {agreement:P2}");
        Assert.IsGreaterThanOrEqualTo(0.99, agreement);
    }

    // x [N, 64] -> MatMul(W [64, 16]) -> `op` with `attributes` (an operator whose spec changed after `opset`) -> y.
    private static string WriteModelWithChangedOperator(string path, long opset, string op, params Attribute[] attributes)
    {
        var model = Model.Create("changed", opset == 9 ? 4 : 6, ("", opset));
        var graph = model.Graph;
        var x = graph.AddInput("x", TensorType.Of(DataType.Float, "N", 64));
        var w = graph.AddInitializer(Tensor.FromArray<float>("W", [64, 16], QuantizedModels.RandomValues(64 * 16, 8, 0.1f)));
        var product = graph.AddNode("MatMul", [x, w], ["product"]).Outputs[0]!;
        var y = graph.AddNode(op, [product], ["y"], attributes, name: "changed").Outputs[0]!;
        graph.Outputs.Add(y);
        ModelWriter.Save(model, path);
        return path;
    }
}
