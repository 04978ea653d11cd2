using Microsoft.ML.OnnxRuntime;
using ModelShrink.Core.Calibration;
using ModelShrink.Core.Passes;
using ModelShrink.Core.Passes.Int8Static;
using ModelShrink.Core.Quantization;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Onnx.IO;
using ModelShrink.Shared;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Quantization;

/// <summary>
/// int8-static on the fixture models: calibrated on holdout sets 0-3, evaluated in ONNX Runtime on
/// sets 4-7 against the float model.
/// </summary>
[TestClass]
public sealed class StaticFixtureTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow("digits-cnn", 0.35)]
    [DataRow("digits-mlp", 0.35)]
    [DataRow("digits-transformer", 0.7)]
    public void StaticModelAgreesWithTheFloatModelOnAtLeast99PercentOfTheEvaluationSets(string fixture, double maxSizeRatio)
    {
        using var folder = new TempDirectory();
        var (path, result, context, _) = StaticQuantization.Apply(fixture, folder);

        var original = StaticQuantization.EvaluationLogits(Fixtures.Model(fixture), fixture);
        var quantized = StaticQuantization.EvaluationLogits(path, fixture);
        var labels = StaticQuantization.EvaluationLabels(fixture);

        var agreement = QuantizedModels.Agreement(original, quantized);
        var ratio = new FileInfo(path).Length / (double)new FileInfo(Fixtures.Model(fixture)).Length;
        TestContext.WriteLine($"{fixture}: agreement {agreement:P2}, accuracy {StaticQuantization.Accuracy(original, labels):P2} -> " +
            $"{StaticQuantization.Accuracy(quantized, labels):P2}, cosine {QuantizedModels.Cosine(original, quantized):F5}, size {ratio:P1}; " +
            string.Join(", ", result.Counters.Select(c => $"{c.Key} {c.Value}")));
        Assert.IsEmpty(context.Diagnostics, string.Join("; ", context.Diagnostics));
        Assert.IsGreaterThanOrEqualTo(0.99, agreement, $"top-1 agreement {agreement:P2}");
        Assert.IsLessThan(maxSizeRatio, ratio, "the transformer's LayerNorm, position and bias tensors stay float (and this raw fixture has Constant nodes the clean-up would fold)");
    }

    [TestMethod]
    public void OrtFusesTheCnnIntoQLinearConvQGemmAndInt8MaxPoolWithOnlyTheInputQuantizedAtRunTime()
    {
        using var folder = new TempDirectory();
        // Every Conv in int8 here (the thin-conv rule would keep the one-channel stem in float).
        var (path, _, _, _) = StaticQuantization.Apply("digits-cnn", folder, new Int8StaticOptions { ThinConvsFloat = false });

        foreach (var level in new[] { GraphOptimizationLevel.ORT_ENABLE_EXTENDED, GraphOptimizationLevel.ORT_ENABLE_ALL })
        {
            var ops = StaticQuantization.OptimizedOps(path, level);
            TestContext.WriteLine($"{level}: {string.Join(", ", ops.OrderBy(p => p.Key).Select(p => $"{p.Key} {p.Value}"))}");
            Assert.AreEqual(3, ops.GetValueOrDefault("QLinearConv") + ops.GetValueOrDefault("com.microsoft.QLinearConv"), level.ToString());
            Assert.AreEqual(2, ops.GetValueOrDefault("com.microsoft.QGemm"), level.ToString());
            Assert.AreEqual(1, ops.GetValueOrDefault("QuantizeLinear"), "only the model input is quantized at run time");
            Assert.IsFalse(ops.ContainsKey("DequantizeLinear"), "no DequantizeLinear is left: int8 flows from the first Conv to the logits");
            Assert.IsFalse(ops.ContainsKey("Conv") || ops.ContainsKey("Gemm") || ops.ContainsKey("Relu"), "no float Conv, Gemm or Relu is left");
        }
    }

    [TestMethod]
    public void OrtFusesTheMlpIntoQGemmAndTheTransformerIntoQLinearMatMulAndMatMulIntegerToFloat()
    {
        using var folder = new TempDirectory();
        var (mlp, _, _, _) = StaticQuantization.Apply("digits-mlp", folder, name: "mlp.onnx");
        var (transformer, _, _, _) = StaticQuantization.Apply("digits-transformer", folder, name: "transformer.onnx");

        var mlpOps = StaticQuantization.OptimizedOps(mlp, GraphOptimizationLevel.ORT_ENABLE_EXTENDED);
        var transformerOps = StaticQuantization.OptimizedOps(transformer, GraphOptimizationLevel.ORT_ENABLE_EXTENDED);
        TestContext.WriteLine($"mlp: {string.Join(", ", mlpOps.OrderBy(p => p.Key).Select(p => $"{p.Key} {p.Value}"))}");
        TestContext.WriteLine($"transformer: {string.Join(", ", transformerOps.OrderBy(p => p.Key).Select(p => $"{p.Key} {p.Value}"))}");

        Assert.AreEqual(3, mlpOps.GetValueOrDefault("com.microsoft.QGemm"));
        Assert.HasCount(2, mlpOps, "QGemm and the input's QuantizeLinear only");

        // 14 weight MatMuls and 4 attention MatMuls (activation x activation): each fused one way or the other, none left float.
        var fused = transformerOps.GetValueOrDefault("QLinearMatMul") + transformerOps.GetValueOrDefault("com.microsoft.MatMulIntegerToFloat");
        Assert.AreEqual(17, fused);
        Assert.AreEqual(1, transformerOps.GetValueOrDefault("com.microsoft.QGemm"));
        Assert.IsFalse(transformerOps.ContainsKey("MatMul"));
        Assert.IsFalse(transformerOps.ContainsKey("DequantizeLinear"));
    }

    // The data-passes benchmark times the calibration of CalibratedValues: they must be the values the pass
    // measures, each read by a QuantizeLinear of the result. On digits-cnn those are the Relus' outputs, not
    // the outputs of the Convs they are absorbed into (exposing those would keep ONNX Runtime from fusing
    // each Conv with its Relu), and not the input of the thin first Conv, which stays float.
    [TestMethod]
    [DataRow("digits-cnn")]
    [DataRow("digits-transformer")]
    public void CalibratedValuesAreTheValuesThePassMeasuresAndQuantizes(string fixture)
    {
        using var folder = new TempDirectory();
        var original = ModelReader.Load(Fixtures.Model(fixture));
        var values = new Int8StaticPass(new Int8StaticOptions { CalibrationData = folder.Path }).CalibratedValues(original, new PassContext(fixture));
        var (_, result, _, quantized) = StaticQuantization.Apply(fixture, folder);

        TestContext.WriteLine(string.Join(", ", values));
        Assert.AreEqual(result.Counters["values calibrated"], values.Count);
        var quantizedValues = quantized.Graph.Nodes.Where(n => n.Is("QuantizeLinear")).Select(n => n.Inputs[0]!.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var value in values)
        {
            Assert.Contains(value, quantizedValues);
        }

        if (fixture == "digits-cnn")
        {
            CollectionAssert.AreEqual(new[] { "Relu", "Relu", "Relu", "Relu" }, values.Select(v => original.Graph.FindValue(v)!.Producer!.OpType).ToArray());
        }
    }

    [TestMethod]
    [DataRow(CalibrationMethod.MinMax)]
    [DataRow(CalibrationMethod.Percentile)]
    [DataRow(CalibrationMethod.Entropy)]
    public void EachCalibrationMethodGivesAModelThatRunsAndAgrees(CalibrationMethod method)
    {
        using var folder = new TempDirectory();
        var (path, result, _, _) = StaticQuantization.Apply("digits-cnn", folder, new Int8StaticOptions { Method = method });

        var agreement = QuantizedModels.Agreement(
            StaticQuantization.EvaluationLogits(Fixtures.Model("digits-cnn"), "digits-cnn"), StaticQuantization.EvaluationLogits(path, "digits-cnn"));

        TestContext.WriteLine($"{method}: agreement {agreement:P2}");
        Assert.AreEqual(4L, result.Counters["values calibrated"]);

        // Entropy clips these small ReLU networks' activations hardest (96% measured): it suits long-tailed ones.
        Assert.IsGreaterThanOrEqualTo(method == CalibrationMethod.Entropy ? 0.95 : 0.99, agreement);
    }

    [TestMethod]
    [DataRow(WeightType.UInt8, false, true)]
    [DataRow(WeightType.Int8, false, true)]
    [DataRow(WeightType.Int8, true, true)]
    [DataRow(WeightType.UInt8, false, false)]
    public void ActivationTypesSymmetryAndPerTensorWeightsRunAndAgree(WeightType activations, bool symmetric, bool perChannel)
    {
        using var folder = new TempDirectory();
        var options = new Int8StaticOptions { ActivationType = activations, SymmetricActivations = symmetric, PerChannel = perChannel };
        var (path, _, _, model) = StaticQuantization.Apply("digits-cnn", folder, options);

        var agreement = QuantizedModels.Agreement(
            StaticQuantization.EvaluationLogits(Fixtures.Model("digits-cnn"), "digits-cnn"), StaticQuantization.EvaluationLogits(path, "digits-cnn"));
        var quantize = model.Graph.Nodes.First(n => n.OpType == "QuantizeLinear");

        TestContext.WriteLine($"{activations} symmetric {symmetric} per-channel {perChannel}: agreement {agreement:P2}");
        Assert.AreEqual(activations == WeightType.Int8 ? Onnx.Tensors.DataType.Int8 : Onnx.Tensors.DataType.UInt8, quantize.Inputs[2]!.Initializer!.DataType);
        Assert.IsGreaterThanOrEqualTo(0.99, agreement);
    }

    [TestMethod]
    public void SubgraphsStayFloatWithMSH2501AndANothingQuantizedWarning()
    {
        using var folder = new TempDirectory();
        var (path, result, context, _) = StaticQuantization.Apply("digits-cnn-if", folder);

        Assert.IsFalse(result.Modified);
        Assert.AreEqual(10L, result.Counters["nodes in subgraphs left float"]);
        CollectionAssert.AreEqual(new[] { ErrorCodes.StaticSubgraphsFloat, ErrorCodes.QuantNothingQuantized }, context.Diagnostics.Select(d => d.Code).ToArray());
        Assert.IsNotEmpty(OrtRunner.Run(path, Fixtures.Inputs(Fixtures.DataSets("digits-cnn-if")[0]))["logits"]);
    }

    [TestMethod]
    [DataRow("digits-mlp-constants")]
    [DataRow("digits-lstm")]
    public void OtherFixturesRunAndAgree(string fixture)
    {
        using var folder = new TempDirectory();
        var (path, result, context, _) = StaticQuantization.Apply(fixture, folder);

        var agreement = QuantizedModels.Agreement(StaticQuantization.EvaluationLogits(Fixtures.Model(fixture), fixture), StaticQuantization.EvaluationLogits(path, fixture));

        TestContext.WriteLine($"{fixture}: agreement {agreement:P2}; {string.Join(", ", result.Counters.Select(c => $"{c.Key} {c.Value}"))}; {string.Join("; ", context.Diagnostics)}");
        Assert.IsTrue(result.Modified);
        Assert.IsGreaterThanOrEqualTo(0.99, agreement);
    }

    [TestMethod]
    public void WeightsThatAreGraphInputsStayFloatWithMSH2200()
    {
        using var folder = new TempDirectory();
        var (_, result, context, _) = StaticQuantization.Apply("digits-mlp-inputs", folder);

        Assert.IsFalse(result.Modified);
        Assert.AreEqual(3, context.Diagnostics.Count(d => d.Code == ErrorCodes.QuantWeightIsGraphInput));
        Assert.AreEqual(ErrorCodes.QuantNothingQuantized, context.Diagnostics[^1].Code);
    }
}
