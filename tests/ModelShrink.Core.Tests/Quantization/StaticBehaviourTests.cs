using Microsoft.ML.OnnxRuntime;
using ModelShrink.Core.Passes;
using ModelShrink.Core.Passes.Int8Static;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Testing;
using Attribute = ModelShrink.Onnx.Ir.Attribute;

namespace ModelShrink.Core.Tests.Quantization;

/// <summary>int8-static on small hand-made models whose numbers can be worked out by hand.</summary>
[TestClass]
public sealed class StaticBehaviourTests
{
    [TestMethod]
    public void ConvBiasIsInt32AtInputScaleTimesWeightScalePerChannel()
    {
        using var folder = new TempDirectory();
        // Weights with per-channel max |w| 1.27, 0.635, 2.54: symmetric int8 scales 0.01, 0.005, 0.02.
        float[] weight = [1.27f, 0.5f, -0.2f, 0.1f, 0.3f, -0.635f, 0.2f, 0.1f, 2.54f, -1f, 0.5f, 0.25f];
        var source = WriteConv(folder.File("conv.onnx"), 13, Tensor.FromArray<float>("W", [3, 4, 1, 1], weight), [0.5f, -0.25f, 1f]);
        // Calibration input in [-1, 1.55]: uint8 scale 2.55 / 255 = 0.01, zero point 100.
        var calibration = folder.File("calibration");
        StaticQuantization.WriteDataSet(calibration, 0, Tensor.FromArray<float>("x", [1, 4, 2, 2], Ramp(16, -1f, 1.55f)));

        var (path, result, _, model) = QuantizedModels.Apply(source, new Int8StaticPass(new Int8StaticOptions { CalibrationData = calibration }), folder);

        var x = QuantizeOf(model, "x");
        Assert.AreEqual(0.01f, Scalar<float>(x.Inputs[1]!), 1e-9f);
        Assert.AreEqual((byte)100, Scalar<byte>(x.Inputs[2]!));
        var weightDq = DequantizeOf(model, DataType.Int8, 12);
        Assert.AreEqual(0L, weightDq.GetInt("axis", -1), "Conv weights are per output channel: axis 0");
        var weightScales = weightDq.Inputs[1]!.Initializer!.ToArray<float>();
        CollectionAssert.AreEqual(new[] { 0.01f, 0.005f, 0.02f }, weightScales, new FloatComparer(1e-9f));

        var biasDq = DequantizeOf(model, DataType.Int32, 3);
        CollectionAssert.AreEqual(new[] { 5000, -5000, 5000 }, biasDq.Inputs[0]!.Initializer!.ToArray<int>(), "0.5 / (0.01 * 0.01) and so on");
        var expected = weightScales.Select(s => Scalar<float>(x.Inputs[1]!) * s).ToArray();
        CollectionAssert.AreEqual(expected, biasDq.Inputs[1]!.Initializer!.ToArray<float>(), "bias scale = input scale x weight scale, in float32");
        Assert.HasCount(2, biasDq.Inputs, "zero point 0, left implicit");
        Assert.AreEqual(0L, biasDq.GetInt("axis", -1));
        Assert.AreEqual(1L, result.Counters["biases quantized"]);
        Assert.IsNull(model.Graph.FindValue("B"), "the float bias is gone");
        Assert.IsNull(model.Graph.FindValue("W"), "the float weight is gone");

        var ops = StaticQuantization.OptimizedOps(path, GraphOptimizationLevel.ORT_ENABLE_EXTENDED);
        Assert.AreEqual(1, ops.GetValueOrDefault("QLinearConv"), string.Join(", ", ops.Keys));
        var input = Tensor.FromArray<float>("x", [1, 4, 2, 2], Ramp(16, -1f, 1.55f));
        Assert.IsGreaterThan(0.999, QuantizedModels.Cosine(QuantizedModels.Run(source, input), QuantizedModels.Run(path, input)));
    }

    [TestMethod]
    [DataRow("Gemm", 1L, 0L)]
    [DataRow("Gemm", 0L, 1L)]
    [DataRow("MatMul", 0L, 1L)]
    public void WeightScalesRunAlongTheOutputAxis(string op, long transB, long axis)
    {
        using var folder = new TempDirectory();
        long[] dims = transB == 1 ? [3, 8] : [8, 3];
        var model = Model.Create("linear", 8, ("", 17));
        var graph = model.Graph;
        var xIn = graph.AddInput("x", TensorType.Of(DataType.Float, "N", 8));
        var w = graph.AddInitializer(Tensor.FromArray<float>("W", dims, QuantizedModels.RandomValues(24, 3, 0.5f)));
        var node = op == "Gemm"
            ? graph.AddNode("Gemm", [xIn, w, graph.AddInitializer(Tensor.FromArray<float>("B", [3], [0.1f, -0.2f, 0.3f]))], ["y"], [Attribute.FromInt("transB", transB)])
            : graph.AddNode("MatMul", [xIn, w], ["y"]);
        node.Outputs[0]!.Type = TensorType.Of(DataType.Float, "N", 3);
        graph.Outputs.Add(node.Outputs[0]!);
        var source = folder.File("linear.onnx");
        ModelWriter.Save(model, source);
        var calibration = folder.File("calibration");
        StaticQuantization.WriteDataSet(calibration, 0, Tensor.FromArray<float>("x", [4, 8], QuantizedModels.RandomValues(32, 5, 1f)));

        var (path, _, _, quantized) = QuantizedModels.Apply(source, new Int8StaticPass(new Int8StaticOptions { CalibrationData = calibration }), folder);

        var weightDq = DequantizeOf(quantized, DataType.Int8, 24);
        Assert.AreEqual(axis, weightDq.GetInt("axis", 1), "DequantizeLinear's axis defaults to 1");
        Assert.HasCount(3, weightDq.Inputs[1]!.Initializer!.ToArray<float>());
        if (op == "Gemm")
        {
            Assert.AreEqual(1f, quantized.Graph.Nodes.Single(n => n.OpType == "Gemm").GetFloat("beta", 0f), "beta is written out for ONNX Runtime's QGemm fusion");
            Assert.AreEqual(0L, DequantizeOf(quantized, DataType.Int32, 3).GetInt("axis", -1));
        }

        var ops = StaticQuantization.OptimizedOps(path, GraphOptimizationLevel.ORT_ENABLE_EXTENDED);
        Assert.AreEqual(1, ops.GetValueOrDefault(op == "Gemm" ? "com.microsoft.QGemm" : "com.microsoft.MatMulIntegerToFloat"), string.Join(", ", ops.Keys));
        var input = Tensor.FromArray<float>("x", [4, 8], QuantizedModels.RandomValues(32, 6, 1f));
        Assert.IsGreaterThan(0.999, QuantizedModels.Cosine(QuantizedModels.Run(source, input), QuantizedModels.Run(path, input)));
    }

    [TestMethod]
    public void MissingCalibrationDataIsMSH2500()
    {
        var model = ModelReader.Load(Fixtures.Model("digits-cnn"));

        var none = Assert.ThrowsExactly<ModelShrinkException>(() => new Int8StaticPass(new Int8StaticOptions()).Run(model, new PassContext("m.onnx")));
        var absent = Assert.ThrowsExactly<ModelShrinkException>(() =>
            new Int8StaticPass(new Int8StaticOptions { CalibrationData = "/no/such/calibration" }).Run(model, new PassContext("m.onnx")));

        Assert.AreEqual(ErrorCodes.StaticCalibrationMissing, none.Diagnostic.Code);
        Assert.AreEqual(ErrorCodes.StaticCalibrationMissing, absent.Diagnostic.Code);
        StringAssert.Contains(absent.Diagnostic.Message, "'/no/such/calibration' does not exist");
        Assert.AreEqual("Calibration", absent.Diagnostic.Setting);
    }

    [TestMethod]
    public void CalibratingOnTheHoldoutIsWarnedAboutWithMSH2506()
    {
        using var folder = new TempDirectory();
        var options = new Int8StaticOptions { CalibrationFromHoldout = true };

        var (_, _, context, _) = StaticQuantization.Apply("digits-mlp", folder, options);

        Assert.AreEqual(ErrorCodes.StaticCalibratedOnHoldout, context.Diagnostics.Single().Code);
    }

    [TestMethod]
    public void UnknownOperatorTypeIsRefusedWithMSH2204()
    {
        var model = ModelReader.Load(Fixtures.Model("digits-mlp"));

        var error = Assert.ThrowsExactly<ModelShrinkException>(() =>
            new Int8StaticPass(new Int8StaticOptions { CalibrationData = Fixtures.Root, OpTypes = ["Gemm", "LSTM"] }).Run(model, new PassContext("m.onnx")));

        Assert.AreEqual(ErrorCodes.QuantInvalidOption, error.Diagnostic.Code);
        StringAssert.Contains(error.Diagnostic.Message, "LSTM");
    }

    [TestMethod]
    public void PerChannelFallsBackToPerTensorWithMSH2202WhenOpset13IsOutOfReach()
    {
        using var folder = new TempDirectory();
        var source = WriteMatMulThen(folder.File("opset11.onnx"), 11, "Unsqueeze", Attribute.FromInts("axes", [0]));
        var calibration = folder.File("calibration");
        StaticQuantization.WriteDataSet(calibration, 0, Tensor.FromArray<float>("x", [4, 64], QuantizedModels.RandomValues(256, 2, 1f)));

        var (path, _, context, model) = QuantizedModels.Apply(source, new Int8StaticPass(new Int8StaticOptions { CalibrationData = calibration }), folder);

        StringAssert.Contains(context.Diagnostics.Single(d => d.Code == ErrorCodes.QuantPerTensorFallback).Message, "Unsqueeze(changed) changed in opset 13");
        Assert.AreEqual(11L, model.Opsets.Default);
        Assert.IsFalse(model.Graph.Nodes.Any(n => n.FindAttribute("axis") is not null), "no per-channel DequantizeLinear in an opset-11 graph");
        var input = Tensor.FromArray<float>("x", [2, 64], QuantizedModels.RandomValues(128, 4, 1f));
        Assert.IsGreaterThan(0.999, QuantizedModels.Cosine(QuantizedModels.Run(source, input), QuantizedModels.Run(path, input)));
        StaticQuantization.OptimizedOps(path, GraphOptimizationLevel.ORT_ENABLE_ALL);
    }

    [TestMethod]
    public void Opset9ModelThatCannotTakeANewNumberIsUpgradedTo13AndStillLoadsOptimized()
    {
        using var folder = new TempDirectory();
        var source = WriteMatMulThen(folder.File("opset9.onnx"), 9, "Slice",
            Attribute.FromInts("axes", [1]), Attribute.FromInts("starts", [0]), Attribute.FromInts("ends", [8]));
        var calibration = folder.File("calibration");
        StaticQuantization.WriteDataSet(calibration, 0, Tensor.FromArray<float>("x", [4, 64], QuantizedModels.RandomValues(256, 2, 1f)));

        var (path, result, context, model) = QuantizedModels.Apply(source, new Int8StaticPass(new Int8StaticOptions { CalibrationData = calibration }), folder);

        // com.microsoft Q/DQ in an opset-9 graph would run unoptimized but not once ONNX Runtime fuses it (QLinear* need opset 10).
        Assert.AreEqual(13L, model.Opsets.Default);
        Assert.AreEqual(9L, result.Counters["opset upgraded from"]);
        Assert.AreEqual(13L, result.Counters["opset upgraded to"]);
        Assert.IsFalse(model.Graph.Nodes.Any(n => n.Domain == "com.microsoft"));
        Assert.IsEmpty(context.Diagnostics);
        Assert.IsNotNull(model.Graph.Nodes.Single(n => n.OpType == "DequantizeLinear" && n.Inputs[0]!.Initializer is not null).FindAttribute("axis"));
        var ops = StaticQuantization.OptimizedOps(path, GraphOptimizationLevel.ORT_ENABLE_ALL);
        Assert.AreEqual(1, ops.GetValueOrDefault("com.microsoft.MatMulIntegerToFloat"));
        var input = Tensor.FromArray<float>("x", [2, 64], QuantizedModels.RandomValues(128, 4, 1f));
        Assert.IsGreaterThan(0.999, QuantizedModels.Cosine(QuantizedModels.Run(source, input), QuantizedModels.Run(path, input)));
    }

    [TestMethod]
    public void BatchNormalizationAfterAConvIsFoldedIntoItAndAConvGraphOutputKeepsItsName()
    {
        using var folder = new TempDirectory();
        var model = Model.Create("convbn", 7, ("", 13));
        var graph = model.Graph;
        var x = graph.AddInput("x", TensorType.Of(DataType.Float, "N", 8, 4, 4));
        var w = graph.AddInitializer(Tensor.FromArray<float>("W", [6, 8, 3, 3], QuantizedModels.RandomValues(6 * 8 * 9, 11, 0.3f)));
        var conv = graph.AddNode("Conv", [x, w], ["conv"], [Attribute.FromInts("pads", [1, 1, 1, 1])]).Outputs[0]!;
        Value Param(string name, float[] values) => graph.AddInitializer(Tensor.FromArray<float>(name, [6], values));
        var bn = graph.AddNode("BatchNormalization",
            [conv, Param("gamma", [1.5f, 0.5f, 2f, 1f, 0.8f, 1.2f]), Param("beta", [0.1f, -0.3f, 0.2f, 0f, 0.5f, -0.1f]),
             Param("mean", [0.2f, -0.1f, 0.05f, 0.3f, 0f, -0.2f]), Param("var", [1f, 0.5f, 2f, 0.25f, 1.5f, 0.8f])],
            ["y"], [Attribute.FromFloat("epsilon", 1e-5f)]).Outputs[0]!;
        bn.Type = TensorType.Of(DataType.Float, "N", 6, 4, 4);
        graph.Outputs.Add(bn);
        var source = folder.File("convbn.onnx");
        ModelWriter.Save(model, source);
        var calibration = folder.File("calibration");
        StaticQuantization.WriteDataSet(calibration, 0, Tensor.FromArray<float>("x", [4, 8, 4, 4], QuantizedModels.RandomValues(512, 12, 1f)));

        var (path, result, _, quantized) = QuantizedModels.Apply(source, new Int8StaticPass(new Int8StaticOptions { CalibrationData = calibration }), folder);

        Assert.AreEqual(1L, result.Counters["batch norms folded"]);
        Assert.IsFalse(quantized.Graph.Nodes.Any(n => n.OpType == "BatchNormalization"));
        Assert.AreEqual("y", quantized.Graph.Outputs.Single().Name);
        Assert.AreEqual("DequantizeLinear", quantized.Graph.Outputs.Single().Producer!.OpType);
        Assert.AreEqual(1, StaticQuantization.OptimizedOps(path, GraphOptimizationLevel.ORT_ENABLE_EXTENDED).GetValueOrDefault("QLinearConv"));
        var input = Tensor.FromArray<float>("x", [2, 8, 4, 4], QuantizedModels.RandomValues(256, 13, 1f));
        Assert.IsGreaterThan(0.999, QuantizedModels.Cosine(OrtRunner.Run(source, [input])["y"], OrtRunner.Run(path, [input])["y"]));
    }

    [TestMethod]
    public void ThinConvsKeepFloatComputeOnInt8WeightsThatOrtFoldsAtLoad()
    {
        using var folder = new TempDirectory();
        var (path, result, _, model) = StaticQuantization.Apply("digits-cnn", folder);

        // conv1 reads one channel: its weight is int8 rebuilt by Cast/Mul, folded by ONNX Runtime into a float Conv.
        Assert.AreEqual(1L, result.Counters["thin convs in float (int8 weights)"]);
        Assert.AreEqual(1, model.Graph.Nodes.Count(n => n.OpType == "Cast"));
        Assert.AreEqual(5, model.Graph.Initializers.Count(v => v.Initializer!.DataType == DataType.Int8 && v.Initializer.Dims.Count >= 2));
        var ops = StaticQuantization.OptimizedOps(path, GraphOptimizationLevel.ORT_ENABLE_EXTENDED);
        Assert.AreEqual(2, ops.GetValueOrDefault("QLinearConv"));
        Assert.IsFalse(ops.ContainsKey("Cast") || ops.ContainsKey("DequantizeLinear"), string.Join(", ", ops.Keys));
    }

    [TestMethod]
    public void ConcatPoolingAndFlattenBetweenQuantizedNodesRunInInt8()
    {
        using var folder = new TempDirectory();
        var model = Model.Create("branches", 8, ("", 17));
        var graph = model.Graph;
        var x = graph.AddInput("x", TensorType.Of(DataType.Float, "N", 4, 8, 8));
        Value Weight(string name, long[] dims, int seed) => graph.AddInitializer(Tensor.FromArray<float>(name, dims, QuantizedModels.RandomValues((int)dims.Aggregate(1L, (a, b) => a * b), seed, 0.4f)));
        var a = graph.AddNode("Relu", [graph.AddNode("Conv", [x, Weight("A", [8, 4, 3, 3], 1)], ["a"], [Attribute.FromInts("pads", [1, 1, 1, 1])]).Outputs[0]], ["a_relu"]).Outputs[0]!;
        var b = graph.AddNode("Conv", [x, Weight("B", [8, 4, 1, 1], 2)], ["b"]).Outputs[0]!;
        var concat = graph.AddNode("Concat", [a, b], ["concat"], [Attribute.FromInt("axis", 1)]).Outputs[0]!;
        var pooled = graph.AddNode("AveragePool", [concat], ["pooled"], [Attribute.FromInts("kernel_shape", [2, 2]), Attribute.FromInts("strides", [2, 2])]).Outputs[0]!;
        var c = graph.AddNode("Conv", [pooled, Weight("C", [16, 16, 1, 1], 3)], ["c"]).Outputs[0]!;
        var gap = graph.AddNode("GlobalAveragePool", [c], ["gap"]).Outputs[0]!;
        var flat = graph.AddNode("Flatten", [gap], ["flat"]).Outputs[0]!;
        var y = graph.AddNode("Gemm", [flat, Weight("G", [10, 16], 4)], ["y"], [Attribute.FromInt("transB", 1)]).Outputs[0]!;
        y.Type = TensorType.Of(DataType.Float, "N", 10);
        graph.Outputs.Add(y);
        var source = folder.File("branches.onnx");
        ModelWriter.Save(model, source);
        var calibration = folder.File("calibration");
        StaticQuantization.WriteDataSet(calibration, 0, Tensor.FromArray<float>("x", [16, 4, 8, 8], QuantizedModels.RandomValues(16 * 256, 5, 1f)));

        var (path, result, _, _) = QuantizedModels.Apply(source, new Int8StaticPass(new Int8StaticOptions { CalibrationData = calibration }), folder);

        Assert.AreEqual(4L, result.Counters["int8 operators"], "Concat, AveragePool, GlobalAveragePool, Flatten");
        Assert.AreEqual(1L, result.Counters["activation functions absorbed"]);
        var ops = StaticQuantization.OptimizedOps(path, GraphOptimizationLevel.ORT_ENABLE_EXTENDED);
        Assert.AreEqual(3, ops.GetValueOrDefault("QLinearConv"), string.Join(", ", ops.Keys));
        Assert.AreEqual(1, ops.GetValueOrDefault("com.microsoft.QLinearConcat"), string.Join(", ", ops.Keys));
        Assert.AreEqual(1, ops.GetValueOrDefault("com.microsoft.QLinearAveragePool"), string.Join(", ", ops.Keys));
        Assert.AreEqual(1, ops.GetValueOrDefault("com.microsoft.QLinearGlobalAveragePool"), string.Join(", ", ops.Keys));
        Assert.AreEqual(1, ops.GetValueOrDefault("com.microsoft.QGemm"), string.Join(", ", ops.Keys));
        Assert.AreEqual(1, ops.GetValueOrDefault("QuantizeLinear"), "only the input is quantized at run time");
        Assert.IsFalse(ops.ContainsKey("DequantizeLinear"), string.Join(", ", ops.Keys));
        var input = Tensor.FromArray<float>("x", [4, 4, 8, 8], QuantizedModels.RandomValues(4 * 256, 6, 1f));
        Assert.IsGreaterThan(0.999, QuantizedModels.Cosine(QuantizedModels.Run(source, input), QuantizedModels.Run(path, input)));
    }

    private static string WriteConv(string path, long opset, Tensor weight, float[] bias)
    {
        var model = Model.Create("conv", 7, ("", opset));
        var graph = model.Graph;
        var x = graph.AddInput("x", TensorType.Of(DataType.Float, "N", weight.Dims[1], 2, 2));
        var w = graph.AddInitializer(weight);
        var b = graph.AddInitializer(Tensor.FromArray<float>("B", [bias.Length], bias));
        var y = graph.AddNode("Conv", [x, w, b], ["y"]).Outputs[0]!;
        y.Type = TensorType.Of(DataType.Float, "N", weight.Dims[0], 2, 2);
        graph.Outputs.Add(y);
        ModelWriter.Save(model, path);
        return path;
    }

    // x [N, 64] -> MatMul W [64, 16] -> op(attributes) -> y, at the given opset.
    private static string WriteMatMulThen(string path, long opset, string op, params Attribute[] attributes)
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

    private static float[] Ramp(int count, float from, float to) =>
        Enumerable.Range(0, count).Select(i => from + (to - from) * i / (count - 1)).ToArray();

    private static Node QuantizeOf(Model model, string value) => model.Graph.Nodes.Single(n => n.OpType == "QuantizeLinear" && n.Inputs[0]!.Name == value);

    private static Node DequantizeOf(Model model, DataType type, long elements) =>
        model.Graph.Nodes.Single(n => n.OpType == "DequantizeLinear" && n.Inputs[0]!.Initializer is { } t && t.DataType == type && t.ElementCount == elements);

    private static T Scalar<T>(Value value) where T : unmanaged => value.Initializer!.ToArray<T>().Single();

    private sealed class FloatComparer(float tolerance) : System.Collections.IComparer
    {
        public int Compare(object? x, object? y) => Math.Abs((float)x! - (float)y!) <= tolerance ? 0 : 1;
    }
}
