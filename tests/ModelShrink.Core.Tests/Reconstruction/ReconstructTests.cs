using ModelShrink.Core.Plans;
using ModelShrink.Core.Settings;
using ModelShrink.Core.Calibration;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Passes;
using ModelShrink.Core.Passes.Int8Dynamic;
using ModelShrink.Core.Passes.Reconstruction;
using ModelShrink.Core.Quantization;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Testing;
using static ModelShrink.Core.Tests.Reconstruction.ReconstructionHarness;

namespace ModelShrink.Core.Tests.Reconstruction;

[TestClass]
public sealed class ReconstructTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow("digits-cnn")]
    [DataRow("digits-transformer")]
    public void BiasCorrectionLowersHeldOutMeanErrorOfCorrectedLayersAndKeepsAgreement(string fixture)
    {
        using var temp = new TempDirectory();
        var (calibration, heldOut) = Split(fixture, temp);
        var source = Fixtures.Model(fixture);
        var plain = temp.File("plain.onnx");
        var corrected = temp.File("corrected.onnx");
        Compressor.Run(source, plain, Lossy(fixture));
        var result = Compressor.Run(source, corrected, Lossy(fixture) with { Reconstruct = ReconstructMode.Bias, ReconstructData = calibration });

        var counters = result.Passes.Single(p => p.Pass == "bias-correction").Result.Counters;
        var layers = CorrectedLayers(ModelReader.Load(source), ModelReader.Load(corrected), ModelReader.Load(plain));
        Assert.AreEqual(counters[BiasCorrectionPass.LayersCorrected], layers.Count);
        Assert.IsGreaterThan(0, layers.Count);

        // Per-layer error against the teacher (the original), on held-out data, from ONNX Runtime.
        var teacher = Outputs(ModelReader.Load(source), layers, heldOut);
        var before = Errors(teacher, Outputs(ModelReader.Load(plain), layers, heldOut));
        var after = Errors(teacher, Outputs(ModelReader.Load(corrected), layers, heldOut));
        foreach (var layer in layers)
        {
            TestContext.WriteLine($"{fixture} {layer}: |mean error| {before[layer].MeanShift:G4} -> {after[layer].MeanShift:G4}, rmse {before[layer].Rmse:G4} -> {after[layer].Rmse:G4}");
        }

        var shiftBefore = before.Values.Average(e => e.MeanShift);
        var shiftAfter = after.Values.Average(e => e.MeanShift);
        var agreementBefore = Agreement(source, plain, heldOut);
        var agreementAfter = Agreement(source, corrected, heldOut);
        TestContext.WriteLine($"{fixture}: layers {layers.Count}, mean |per-channel mean error| {shiftBefore:G4} -> {shiftAfter:G4}, "
            + $"mean rmse {before.Values.Average(e => e.Rmse):G4} -> {after.Values.Average(e => e.Rmse):G4}, top-1 agreement {agreementBefore:P2} -> {agreementAfter:P2}");
        Assert.IsLessThan(shiftBefore, shiftAfter, "bias correction lowers the held-out per-channel mean error of the corrected layers");
        Assert.IsGreaterThanOrEqualTo(agreementBefore, agreementAfter, "bias correction does not lower top-1 agreement with the original");
    }

    // The paired teacher/student pass measures every layer behind corrected predecessors in one run of
    // each model. The reference is the layer-by-layer correction: refinement rounds (plain runs of the
    // corrected student, each shifting every layer by what remains) repeated past the network's depth
    // reach it exactly, since a layer's mean is exact once every layer before it is.
    [TestMethod]
    [DataRow("digits-cnn")]
    [DataRow("digits-transformer")]
    public void PairedPassGivesTheLayerByLayerCorrectionsInTwoRunsOverTheData(string fixture)
    {
        using var temp = new TempDirectory();
        var (calibration, _) = Split(fixture, temp);
        var source = Fixtures.Model(fixture);
        var options = Lossy(fixture) with { Reconstruct = ReconstructMode.Bias, ReconstructData = calibration };

        var (plain, _) = Corrected(source, options, rounds: null);
        var (paired, pairedCounters) = Corrected(source, options, rounds: 0);
        var (reference, referenceCounters) = Corrected(source, options, rounds: 20);

        Assert.AreEqual(2L, pairedCounters[BiasCorrectionPass.Runs], "the teacher's pass and the student's");
        Assert.IsGreaterThan(3L, referenceCounters[BiasCorrectionPass.Runs], "the reference refines round after round");
        Assert.IsLessThan(1000L, referenceCounters[BiasCorrectionPass.ResidualPpm], "the reference ends at its fixed point");
        double worst = 0, largestShift = 0;
        foreach (var (name, expected) in reference)
        {
            var before = plain.GetValueOrDefault(name) ?? new float[expected.Length];
            for (var c = 0; c < expected.Length; c++)
            {
                largestShift = Math.Max(largestShift, Math.Abs(expected[c] - before[c]));
                worst = Math.Max(worst, Math.Abs(expected[c] - paired[name][c]));
            }
        }

        TestContext.WriteLine($"{fixture}: {reference.Count} biases, largest shift {largestShift:G4}, largest difference paired - layer by layer {worst:G4}");
        Assert.IsGreaterThan(0.0, largestShift);
        Assert.IsLessThan(0.05 * largestShift, worst, "the paired pass's corrections are the layer-by-layer ones");
    }

    // The float vectors of the model compressed with `options`, bias correction replaced by one with
    // `rounds` refinement rounds (none at all when null), and the bias correction's counters.
    private static (Dictionary<string, float[]> Biases, IReadOnlyDictionary<string, long> Counters) Corrected(string source, CompressionOptions options, int? rounds)
    {
        var passes = PipelineFactory.Create(options).Passes.Where(p => p is not BiasCorrectionPass).ToList();
        if (rounds is { } r)
        {
            passes.Add(new BiasCorrectionPass(new BiasCorrectionOptions(options.ReconstructData!) { Rounds = r, Tolerance = 0 }));
        }

        var model = ModelReader.Load(source);
        using var context = new PassContext(source);
        var records = new PassPipeline(passes).Run(model, context);
        var biases = model.Graph.Initializers.Where(v => v.Initializer is { DataType: Onnx.Tensors.DataType.Float, Dims.Count: 1 })
            .ToDictionary(v => v.Name, v => v.Initializer!.ToArray<float>());
        var counters = records.LastOrDefault(p => p.Pass == "bias-correction")?.Result.Counters ?? new Dictionary<string, long>();
        return (biases, counters);
    }

    [TestMethod]
    public void OnlyBiasTensorsChange()
    {
        using var temp = new TempDirectory();
        var (calibration, _) = Split("digits-cnn", temp);
        var source = Fixtures.Model("digits-cnn");
        Compressor.Run(source, temp.File("plain.onnx"), Lossy("digits-cnn"));
        Compressor.Run(source, temp.File("corrected.onnx"), Lossy("digits-cnn") with { Reconstruct = ReconstructMode.Bias, ReconstructData = calibration });
        var plain = ModelReader.Load(temp.File("plain.onnx"));
        var corrected = ModelReader.Load(temp.File("corrected.onnx"));

        // Same nodes, same wiring.
        CollectionAssert.AreEqual(Wiring(plain), Wiring(corrected));
        var plainWeights = plain.Graph.Initializers.ToDictionary(v => v.Name, v => v.Initializer!);
        var changed = new List<string>();
        foreach (var value in corrected.Graph.Initializers)
        {
            var before = plainWeights[value.Name];
            var after = value.Initializer!;
            Assert.AreEqual(before.DataType, after.DataType);
            CollectionAssert.AreEqual(before.Dims.ToArray(), after.Dims.ToArray());
            if (!before.GetRawData().Span.SequenceEqual(after.GetRawData().Span))
            {
                changed.Add(value.Name);
            }
        }

        Assert.HasCount(plainWeights.Count, corrected.Graph.Initializers);
        // Every changed tensor is the float bias of a corrected layer: a Conv/Gemm bias input or the constant operand of an Add.
        var biases = corrected.Graph.Nodes
            .SelectMany(n => n.OpType switch
            {
                "Conv" or "Gemm" => n.Inputs.Skip(2).Take(1),
                "Add" => n.Inputs,
                _ => [],
            })
            .OfType<Value>().Where(v => v.Initializer is { DataType: Onnx.Tensors.DataType.Float }).Select(v => v.Name).ToHashSet();
        Assert.IsNotEmpty(changed);
        Assert.IsTrue(changed.All(biases.Contains), $"changed: {string.Join(", ", changed)}");
    }

    [TestMethod]
    public void BiasNeedsDataAndIgnoresUnquantizedModes()
    {
        var error = Assert.ThrowsExactly<ModelShrinkException>(() =>
            PipelineFactory.Create(new CompressionOptions { Quantize = QuantizeMode.Int8, Reconstruct = ReconstructMode.Bias }));
        Assert.AreEqual(ErrorCodes.ReconstructNeedsData, error.Diagnostic.Code);
        var passes = PipelineFactory.Create(new CompressionOptions { Quantize = QuantizeMode.Fp16, Reconstruct = ReconstructMode.Bias, ReconstructData = "x" }).Passes;
        Assert.IsFalse(passes.Any(p => p is BiasCorrectionPass));
        var order = PipelineFactory.Create(new CompressionOptions { Quantize = QuantizeMode.Int4, Reconstruct = ReconstructMode.Bias, ReconstructData = "x" }).Passes
            .Select(p => p.Name).ToArray();
        CollectionAssert.AreEqual(new[] { "capture-teacher", "int4", "bias-correction" }, order[^3..]);
    }

    // The biased output of every layer whose bias differs between the plain and corrected students: the
    // Conv/Gemm output (bias inside, or in the Add that ends an integer chain), or the output of the Add
    // after a MatMul whose constant operand changed.
    private static List<string> CorrectedLayers(Model teacher, Model corrected, Model plain)
    {
        var plainWeights = plain.Graph.Initializers.ToDictionary(v => v.Name, v => v.Initializer!);
        var changed = corrected.Graph.Initializers
            .Where(v => !plainWeights[v.Name].GetRawData().Span.SequenceEqual(v.Initializer!.GetRawData().Span))
            .Select(v => v.Name).ToHashSet();
        var values = corrected.Graph.Values.ToDictionary(v => v.Name);
        var layers = new List<string>();
        foreach (var name in teacher.Graph.Nodes.Where(n => n.OpType is "Conv" or "Gemm" or "MatMul").Select(n => n.Outputs[0]!.Name))
        {
            if (!values.TryGetValue(name, out var value))
            {
                continue;
            }

            if (value.Producer!.Inputs.Any(i => i is not null && changed.Contains(i.Name)))
            {
                layers.Add(name);
            }
            else if (value.Uses is [{ Node: { OpType: "Add" } add }] && add.Inputs.Any(i => i is not null && changed.Contains(i.Name)))
            {
                layers.Add(add.Outputs[0]!.Name);
            }
        }

        return layers;
    }

    private static double Agreement(string original, string candidate, string heldOut)
    {
        var same = 0;
        var total = 0;
        foreach (var set in Directory.GetDirectories(heldOut).Order())
        {
            var inputs = Fixtures.Inputs(set);
            var a = OrtRunner.ArgMax(OrtRunner.Run(original, inputs)["logits"], 10);
            var b = OrtRunner.ArgMax(OrtRunner.Run(candidate, inputs)["logits"], 10);
            same += a.Zip(b).Count(p => p.First == p.Second);
            total += a.Length;
        }

        return (double)same / total;
    }

    private static string[] Wiring(Model model) =>
        model.Graph.Nodes.Select(n => $"{n.OpType}({string.Join(",", n.Inputs.Select(i => i?.Name))})->{string.Join(",", n.Outputs.Select(o => o?.Name))}").ToArray();
}

[TestClass]
public sealed class BiasCorrectionConvTests
{
    public TestContext TestContext { get; set; } = null!;

    // digits-cnn with the biases of its Convs removed (as an exporter leaves a Conv a batch norm follows).
    [TestMethod]
    public void AConvWithoutBiasGetsOneAndItsHeldOutMeanErrorFalls()
    {
        using var temp = new TempDirectory();
        var (calibration, heldOut) = Split("digits-cnn", temp);
        var teacher = ModelReader.Load(Fixtures.Model("digits-cnn"));
        var convs = teacher.Graph.Nodes.Where(n => n.Is("Conv")).ToArray();
        foreach (var conv in convs)
        {
            conv.TruncateInputs(2);
        }

        var source = temp.File("no-bias.onnx");
        ModelWriter.Save(teacher, source);
        Compressor.Run(source, temp.File("plain.onnx"), Lossy("digits-cnn"));
        var result = Compressor.Run(source, temp.File("corrected.onnx"), Lossy("digits-cnn") with { Reconstruct = ReconstructMode.Bias, ReconstructData = calibration });

        var counters = result.Passes.Single(p => p.Pass == "bias-correction").Result.Counters;
        Assert.AreEqual(5, counters[BiasCorrectionPass.LayersCorrected], "3 Convs (given a bias) and 2 Gemms");
        Assert.AreEqual(0, counters[BiasCorrectionPass.LayersSkipped]);
        var corrected = ModelReader.Load(temp.File("corrected.onnx"));
        Assert.IsTrue(corrected.Graph.Nodes.Where(n => n.Is("Conv")).All(n => n.Inputs.Count == 3 && n.Inputs[2]?.Initializer is not null));

        var layers = convs.Select(c => c.Outputs[0]!.Name).ToArray();
        var reference = Outputs(ModelReader.Load(source), layers, heldOut);
        var before = Errors(reference, Outputs(ModelReader.Load(temp.File("plain.onnx")), layers, heldOut));
        var after = Errors(reference, Outputs(corrected, layers, heldOut));
        foreach (var layer in layers)
        {
            TestContext.WriteLine($"{layer}: |mean error| {before[layer].MeanShift:G4} -> {after[layer].MeanShift:G4}");
        }

        Assert.IsLessThan(before.Values.Average(e => e.MeanShift), after.Values.Average(e => e.MeanShift));
    }

    // Channel pruning leaves the student fewer channels than the teacher, and fp16 computes in float16:
    // no float32 bias may be added to those layers, and nothing is added that is not then used.
    [TestMethod]
    [DataRow("channels")]
    [DataRow("fp16")]
    public void NoBiasIsAddedWhereItCannotBeUsed(string scenario)
    {
        using var temp = new TempDirectory();
        var (calibration, _) = Split("digits-cnn", temp);
        var model = ModelReader.Load(Fixtures.Model("digits-cnn"));
        foreach (var conv in model.Graph.Nodes.Where(n => n.Is("Conv")))
        {
            conv.TruncateInputs(2);
        }

        var source = temp.File("no-bias.onnx");
        ModelWriter.Save(model, source);
        var options = scenario == "channels"
            ? new CompressionOptions { Quantize = QuantizeMode.Int8, Prune = new Passes.Pruning.PruneOptions { Method = Passes.Pruning.PruneMethod.Channels, Sparsity = 0.5 } }
            : new CompressionOptions { Quantize = QuantizeMode.Fp16, Prune = new Passes.Pruning.PruneOptions { Sparsity = 0.5, Storage = Passes.Pruning.PruneStorage.Dense } };

        var result = Compressor.Run(source, temp.File("out.onnx"), options with { Reconstruct = ReconstructMode.Layerwise, ReconstructData = calibration });

        var written = ModelReader.Load(temp.File("out.onnx"));
        // ONNX Runtime loads and runs what was written.
        Assert.IsNotEmpty(OrtRunner.Run(temp.File("out.onnx"), Fixtures.Inputs(Fixtures.DataSets("digits-cnn")[5])));
        var passes = result.Passes.Select(p => p.Pass).ToArray();
        if (scenario == "fp16")
        {
            CollectionAssert.DoesNotContain(passes, "bias-correction");
            Assert.IsTrue(written.Graph.Nodes.Where(n => n.Is("Conv")).All(n => n.Inputs.Count == 2));
        }
        else
        {
            var counters = result.Passes.Single(p => p.Pass == "bias-correction").Result.Counters;
            var convsWithBias = written.Graph.Nodes.Count(n => n.Is("Conv") && n.Inputs.Count == 3);
            TestContext.WriteLine($"corrected {counters[BiasCorrectionPass.LayersCorrected]}, skipped {counters[BiasCorrectionPass.LayersSkipped]}, convs given a bias {convsWithBias}");
            Assert.IsGreaterThan(0, counters[BiasCorrectionPass.LayersSkipped], "channel-pruned layers no longer match the teacher");
            Assert.IsLessThan(3, convsWithBias, "no bias for the layers skipped");
        }
    }
}

[TestClass]
public sealed class ReconstructSettingsTests
{
    [TestMethod]
    public void ItemMetadataReconstructUsesHoldoutUnlessReconstructDataIsGiven()
    {
        var project = Path.GetTempPath();
        var withHoldout = ModelShrink.Core.Settings.ItemSettings.Parse(
            new Dictionary<string, string> { ["Quantize"] = "Int8", ["Reconstruct"] = "bias", ["Holdout"] = "holdout" }, "m.onnx", "m.onnx", project);
        Assert.AreEqual(ReconstructMode.Bias, withHoldout.Job.Compression.Reconstruct);
        Assert.AreEqual(Path.GetFullPath("holdout", project), withHoldout.Job.Compression.ReconstructData);

        var withData = ModelShrink.Core.Settings.ItemSettings.Parse(
            new Dictionary<string, string> { ["Quantize"] = "Int4", ["Reconstruct"] = "Bias", ["Holdout"] = "holdout", ["ReconstructData"] = "cal" }, "m.onnx", "m.onnx", project);
        Assert.AreEqual(Path.GetFullPath("cal", project), withData.Job.Compression.ReconstructData);

        Assert.ThrowsExactly<ModelShrinkException>(() => ModelShrink.Core.Settings.ItemSettings.Parse(
            new Dictionary<string, string> { ["Quantize"] = "Int8", ["Reconstruct"] = "Bias" }, "m.onnx", "m.onnx", project));
        Assert.ThrowsExactly<ModelShrinkException>(() => ModelShrink.Core.Settings.ItemSettings.Parse(
            new Dictionary<string, string> { ["Reconstruct"] = "Layerwise" }, "m.onnx", "m.onnx", project));
        Assert.AreEqual(ReconstructMode.None, ModelShrink.Core.Settings.ItemSettings.Parse(new Dictionary<string, string>(), "m.onnx", "m.onnx", project).Job.Compression.Reconstruct);
    }
}

[TestClass]
public sealed class BiasCorrectionGraphTests
{
    // x -> MatMul(W1) -> h (no bias: skipped) -> Relu -> MatMul(W2) -> p -> Add(p, B) -> y
    //                                         \-> Gemm(W3, C, beta = 2) -> g;   B is also read by Add(x, B) -> z.
    [TestMethod]
    [DataRow(Int8Form.Integer)]
    [DataRow(Int8Form.WeightOnly)]
    [DataRow(Int8Form.Qdq)]
    public void LastLayersMatchTheTeacherMeansExactlyOnTheirOwnDataAndSharedBiasesAreCopied(Int8Form form)
    {
        using var temp = new TempDirectory();
        var model = Onnx.Ir.Model.Create("bias", 7, ("", 13));
        var graph = model.Graph;
        var x = graph.AddInput("x", Onnx.Ir.TensorType.Of(Onnx.Tensors.DataType.Float, "N", 32));
        var w1 = graph.AddInitializer(Onnx.Tensors.Tensor.FromArray<float>("W1", [32, 32], Quantization.QuantizedModels.RandomValues(32 * 32, 1, 0.5f)));
        var w2 = graph.AddInitializer(Onnx.Tensors.Tensor.FromArray<float>("W2", [32, 32], Quantization.QuantizedModels.RandomValues(32 * 32, 2, 0.5f)));
        var w3 = graph.AddInitializer(Onnx.Tensors.Tensor.FromArray<float>("W3", [32, 32], Quantization.QuantizedModels.RandomValues(32 * 32, 3, 0.5f)));
        var b = graph.AddInitializer(Onnx.Tensors.Tensor.FromArray<float>("B", [32], Quantization.QuantizedModels.RandomValues(32, 4, 1f)));
        var c = graph.AddInitializer(Onnx.Tensors.Tensor.FromArray<float>("C", [1, 32], Quantization.QuantizedModels.RandomValues(32, 5, 1f)));
        var h = graph.AddNode("MatMul", [x, w1], ["h"]).Outputs[0]!;
        var r = graph.AddNode("Relu", [h], ["r"]).Outputs[0]!;
        var p = graph.AddNode("MatMul", [r, w2], ["p"]).Outputs[0]!;
        graph.Outputs.Add(graph.AddNode("Add", [p, b], ["y"]).Outputs[0]!);
        graph.Outputs.Add(graph.AddNode("Gemm", [r, w3, c], ["g"], [Onnx.Ir.Attribute.FromFloat("beta", 2f)]).Outputs[0]!);
        graph.Outputs.Add(graph.AddNode("Add", [x, b], ["z"]).Outputs[0]!);
        var source = temp.File("bias.onnx");
        ModelWriter.Save(model, source);
        var data = Path.Combine(temp.Path, "data", "test_data_set_0");
        Directory.CreateDirectory(data);
        var input = Onnx.Tensors.Tensor.FromArray<float>("x", [64, 32], Quantization.QuantizedModels.RandomValues(64 * 32, 6, 1f));
        TensorFile.Write(input, Path.Combine(data, "input_0.pb"));

        var options = new CompressionOptions
        {
            Quantize = QuantizeMode.Int8,
            Int8 = new Int8DynamicOptions { WeightType = WeightType.UInt8, ReduceRange = true, Form = form },
            Reconstruct = ReconstructMode.Bias,
            ReconstructData = Path.GetDirectoryName(data),
        };
        var result = Compressor.Run(source, temp.File("out.onnx"), options);

        var counters = result.Passes.Single(p => p.Pass == "bias-correction").Result.Counters;
        Assert.AreEqual(2, counters[BiasCorrectionPass.LayersCorrected]);
        Assert.AreEqual(1, counters[BiasCorrectionPass.LayersSkipped]);
        Assert.IsTrue(result.Warnings.Any(w => w.Code == ErrorCodes.ReconstructLayerSkipped && w.Message.Contains("h", StringComparison.Ordinal)));
        // Measured as the pass measures and as apps run by default (ONNX Runtime, all optimizations): in the
        // qdq form ORT's fused kernels compute differently from the unfused graph (3e-4 here at the basic level).
        var teacher = Run(source, data);
        var student = Run(temp.File("out.onnx"), data);
        foreach (var output in new[] { "y", "g" })
        {
            for (var channel = 0; channel < 32; channel++)
            {
                var t = Enumerable.Range(0, 64).Average(n => teacher[output][n * 32 + channel]);
                var s = Enumerable.Range(0, 64).Average(n => student[output][n * 32 + channel]);
                Assert.AreEqual(t, s, 1e-4, $"{output}[{channel}]: teacher {t}, student {s}");
            }
        }

        // z reads the original B, untouched; y reads a corrected copy.
        CollectionAssert.AreEqual(teacher["z"], student["z"]);
        var corrected = ModelReader.Load(temp.File("out.onnx"));
        Assert.AreEqual("B", corrected.Graph.Nodes.Single(n => n.Outputs[0]!.Name == "z").Inputs[1]!.Name);
        Assert.AreNotEqual("B", corrected.Graph.Nodes.Single(n => n.Outputs[0]!.Name == "y").Inputs[1]!.Name);
    }

    private static Dictionary<string, float[]> Run(string model, string dataSet)
    {
        var outputs = new Dictionary<string, float[]>();
        AugmentedRun.ForEachBatch(ModelReader.Load(model), ["y", "g", "z"], Path.GetDirectoryName(dataSet)!, model, "test", o => outputs[o.Name] = o.Values);
        return outputs;
    }
}
