using ModelShrink.Core.Plans;
using System.Globalization;
using ModelShrink.Core.Calibration;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Passes.Int8Dynamic;
using ModelShrink.Core.Passes.Pruning;
using ModelShrink.Core.Passes.Reconstruction;
using ModelShrink.Core.Passes.Reconstruction.Layerwise;
using ModelShrink.Core.Quantization;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Testing;
using static ModelShrink.Core.Tests.Reconstruction.ReconstructionHarness;

namespace ModelShrink.Core.Tests.Reconstruction;

/// <summary>
/// Reconstruct=Layerwise end to end on the fixtures: GPTQ (int8, int4) and SparseGPT (magnitude, N:M)
/// measured on calibration sets, judged against the teacher on held-out sets through ONNX Runtime.
/// </summary>
[TestClass]
public sealed class LayerwiseTests
{
    public TestContext TestContext { get; set; } = null!;

    // "int8" and "int4": the lossy settings of the bias-correction tests; "prune": 50% magnitude, every
    // layer (first and last too); "nm": 2:4, every layer. Weights stay dense on disk.
    private static CompressionOptions Scenario(string fixture, string scenario) => scenario switch
    {
        "int8" or "int4" => Lossy(fixture),
        "prune" => new CompressionOptions { Prune = new PruneOptions { Sparsity = 0.5, KeepFirstAndLast = false, Storage = PruneStorage.Dense } },
        "nm" => new CompressionOptions { Prune = new PruneOptions { Method = PruneMethod.NM, N = 2, M = 4, KeepFirstAndLast = false, Storage = PruneStorage.Dense } },
        _ => throw new ArgumentException(scenario, nameof(scenario)),
    };

    [TestMethod]
    [DataRow("digits-transformer", "int4")]
    [DataRow("digits-cnn", "int8")]
    [DataRow("digits-mlp", "prune")]
    [DataRow("digits-cnn", "nm")]
    public void LayerwiseLowersHeldOutLayerAndLogitErrorsAgainstTheTeacher(string fixture, string scenario)
    {
        using var temp = new TempDirectory();
        var (calibration, heldOut) = Split(fixture, temp);
        var source = Fixtures.Model(fixture);
        var options = Scenario(fixture, scenario);
        var paths = new Dictionary<ReconstructMode, string>();
        var results = new Dictionary<ReconstructMode, CompressionResult>();
        foreach (var mode in new[] { ReconstructMode.None, ReconstructMode.Bias, ReconstructMode.Layerwise })
        {
            paths[mode] = temp.File($"{mode}.onnx");
            results[mode] = Compressor.Run(source, paths[mode], options with { Reconstruct = mode, ReconstructData = mode == ReconstructMode.None ? null : calibration });
        }

        // The reconstructed layers: every measured layer whose student node changed (quantized or pruned).
        var teacher = ModelReader.Load(source);
        var layerwise = ModelReader.Load(paths[ReconstructMode.Layerwise]);
        var layers = teacher.Graph.Nodes.Where(n => LayerGeometry.Of(n) is not null && Changed(n, layerwise)).Select(n => n.Outputs[0]!.Name).ToList();
        var counters = results[ReconstructMode.Layerwise].Passes.SelectMany(p => p.Result.Counters).ToDictionary();
        var reconstructed = scenario.StartsWith("int", StringComparison.Ordinal)
            ? counters[LayerwiseReconstruction.WeightsReconstructed]
            : counters[LayerwiseReconstruction.LayersPruned];
        Assert.IsGreaterThanOrEqualTo(3, layers.Count);
        Assert.AreEqual(reconstructed, layers.Count, $"layers: {string.Join(", ", layers)}");

        // Per-layer outputs and logits of each student against the teacher's, on held-out data, from ONNX Runtime.
        var logits = teacher.Graph.Outputs[0].Name;
        var values = layers.Append(logits).Distinct().ToList();
        var expected = Outputs(teacher, values, heldOut);
        var errors = paths.ToDictionary(p => p.Key, p => Errors(expected, Outputs(ModelReader.Load(p.Value), values, heldOut)));
        foreach (var layer in values)
        {
            TestContext.WriteLine($"{fixture} {scenario} {layer}: rmse none/bias/layerwise "
                + string.Join(" / ", errors.Values.Select(e => e[layer].Rmse.ToString("G4", CultureInfo.InvariantCulture))));
        }

        var meanRmse = errors.ToDictionary(e => e.Key, e => layers.Average(l => e.Value[l].Rmse));
        var logitRmse = errors.ToDictionary(e => e.Key, e => e.Value[logits].Rmse);
        TestContext.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{fixture} {scenario}: {layers.Count} layers, held-out mean layer rmse none {meanRmse[ReconstructMode.None]:G4}, bias {meanRmse[ReconstructMode.Bias]:G4}, "
            + $"layerwise {meanRmse[ReconstructMode.Layerwise]:G4}; logits rmse {logitRmse[ReconstructMode.None]:G4} / {logitRmse[ReconstructMode.Bias]:G4} / {logitRmse[ReconstructMode.Layerwise]:G4}"));

        // Layerwise (SparseGPT or GPTQ, then bias correction) beats no reconstruction, and bias correction
        // alone too: the weights themselves, not only the biases, came closer to the teacher.
        foreach (var other in new[] { ReconstructMode.None, ReconstructMode.Bias })
        {
            Assert.IsLessThan(meanRmse[other], meanRmse[ReconstructMode.Layerwise], $"mean held-out layer rmse, layerwise vs {other}");
            Assert.IsLessThan(logitRmse[other], logitRmse[ReconstructMode.Layerwise], $"held-out logits rmse, layerwise vs {other}");
        }

        foreach (var layer in layers)
        {
            Assert.IsLessThan(errors[ReconstructMode.None][layer].Rmse, errors[ReconstructMode.Layerwise][layer].Rmse, $"{layer}: held-out rmse, layerwise vs none");
        }
    }

    [TestMethod]
    [DataRow("digits-mlp")]
    [DataRow("digits-cnn")]
    [DataRow("digits-transformer")]
    public void SparseGptZeroesAsManyWeightsPerLayerAsMagnitudePruningAndCompensatesTheRest(string fixture)
    {
        using var temp = new TempDirectory();
        var (calibration, _) = Split(fixture, temp);
        var options = Scenario(fixture, "prune");
        var teacher = ModelReader.Load(Fixtures.Model(fixture));
        var magnitude = Compress(fixture, options, temp, "magnitude.onnx");
        var (layerwise, result) = CompressWithCounters(fixture, options with { Reconstruct = ReconstructMode.Layerwise, ReconstructData = calibration }, temp, "layerwise.onnx");

        var pruned = PrunedLayers(teacher, magnitude);
        Assert.AreEqual(result[LayerwiseReconstruction.LayersPruned], pruned.Count);
        Assert.AreEqual(result["layers pruned"], pruned.Count);
        long moved = 0, compensated = 0;
        foreach (var (node, weight) in pruned)
        {
            var original = Weight(teacher, weight);
            var byMagnitude = Weight(magnitude, weight);
            var bySparseGpt = Weight(layerwise, weight);
            var zeros = byMagnitude.Count(v => v == 0);
            TestContext.WriteLine($"{fixture} {node.Name}: {original.Length} weights, zeros magnitude {zeros}, SparseGPT {bySparseGpt.Count(v => v == 0)}");
            Assert.AreEqual(zeros, bySparseGpt.Count(v => v == 0), $"{node.Name}: zeros");
            Assert.AreEqual(original.Length / 2, zeros, 1, $"{node.Name}: half the weights");
            moved += byMagnitude.Zip(bySparseGpt).Count(p => (p.First == 0) != (p.Second == 0));
            compensated += original.Zip(bySparseGpt).Count(p => p.Second != 0 && p.Second != p.First);
        }

        // SparseGPT chose other zeros than magnitude alone, and moved the weights it kept.
        TestContext.WriteLine($"{fixture}: zeros placed elsewhere than by magnitude {moved}, kept weights changed {compensated}");
        Assert.IsGreaterThan(0, moved);
        Assert.IsGreaterThan(0, compensated);
    }

    [TestMethod]
    [DataRow("digits-cnn")]
    [DataRow("digits-transformer")]
    public void SparseGptTwoFourKeepsAtMostTwoOfEveryFourAlongTheReductionAxis(string fixture)
    {
        using var temp = new TempDirectory();
        var (calibration, _) = Split(fixture, temp);
        var teacher = ModelReader.Load(Fixtures.Model(fixture));
        var (layerwise, result) = CompressWithCounters(fixture, Scenario(fixture, "nm") with { Reconstruct = ReconstructMode.Layerwise, ReconstructData = calibration }, temp, "layerwise.onnx");

        var pruned = PrunedLayers(teacher, layerwise);
        Assert.AreEqual(result[LayerwiseReconstruction.LayersPruned], pruned.Count);
        Assert.AreEqual(result["layers pruned"], pruned.Count);
        Assert.IsTrue(pruned.Any(p => p.Node.OpType == (fixture == "digits-cnn" ? "Conv" : "MatMul")));
        foreach (var (node, weight) in pruned)
        {
            var values = Weight(layerwise, weight);
            var dims = teacher.Graph.FindValue(weight)!.ConstantTensor!.Dims.ToArray();
            var groups = Groups(dims, ReductionAxis(node), 4).ToList();
            Assert.AreEqual(values.Length, groups.Sum(g => g.Length), $"{node.Name}: the groups cover the weight");
            var worst = groups.Max(g => g.Count(i => values[i] != 0));
            TestContext.WriteLine($"{fixture} {node.Name} ({node.OpType} [{string.Join(",", dims)}]): {groups.Count} groups of 4, most non-zeros in one {worst}, sparsity {values.Count(v => v == 0) / (double)values.Length:P2}");
            Assert.IsLessThanOrEqualTo(2, worst, $"{node.Name}: a group keeps more than 2 of 4");
            Assert.IsGreaterThanOrEqualTo(values.Length / 2, values.Count(v => v == 0), $"{node.Name}: sparsity");
        }
    }

    // Prune, then int8 with GPTQ: the zeros SparseGPT chose (the same as without quantization) are
    // still exactly zero once ONNX Runtime dequantizes the weights (QDQ form: DequantizeLinear outputs).
    [TestMethod]
    [DataRow("prune")]
    [DataRow("nm")]
    public void PrunedZerosStayZeroAfterInt8QuantizationWithGptq(string scenario)
    {
        const string fixture = "digits-cnn";
        using var temp = new TempDirectory();
        var (calibration, _) = Split(fixture, temp);
        var pruneOnly = Scenario(fixture, scenario) with { Reconstruct = ReconstructMode.Layerwise, ReconstructData = calibration };
        var quantized = pruneOnly with
        {
            Quantize = QuantizeMode.Int8,
            Int8 = new Int8DynamicOptions { WeightType = WeightType.UInt8, ReduceRange = true, Form = Int8Form.Qdq },
        };
        var teacher = ModelReader.Load(Fixtures.Model(fixture));
        var floatPruned = Compress(fixture, pruneOnly, temp, "pruned.onnx");
        var (student, counters) = CompressWithCounters(fixture, quantized, temp, "quantized.onnx");
        Assert.AreEqual(counters["weights quantized"], counters[LayerwiseReconstruction.WeightsReconstructed], "GPTQ rounded every quantized weight");

        var pruned = PrunedLayers(teacher, floatPruned);
        Assert.AreEqual(counters[LayerwiseReconstruction.LayersPruned], pruned.Count);
        // The weight each pruned layer reads in the student: a DequantizeLinear output.
        var dequantized = pruned.ToDictionary(p => p.Weight, p => student.Graph.FindValue(p.Node.Outputs[0]!.Name)!.Producer!.Inputs[1]!);
        Assert.IsTrue(dequantized.Values.All(v => v.Producer?.OpType == "DequantizeLinear"), "QDQ weights");
        var names = dequantized.Values.Select(v => v.Name).ToList();
        var fromOrt = new Dictionary<string, float[]>();
        AugmentedRun.ForEachBatch(student, names, Fixtures.DataSets(fixture)[0], "test", "Holdout", o => fromOrt[o.Name] = o.Values);
        foreach (var (node, weight) in pruned)
        {
            var zeros = Weight(floatPruned, weight);
            var values = fromOrt[dequantized[weight].Name];
            Assert.HasCount(zeros.Length, values);
            var zeroed = Enumerable.Range(0, zeros.Length).Where(i => zeros[i] == 0).ToList();
            var kept = Enumerable.Range(0, zeros.Length).Count(i => zeros[i] != 0 && values[i] != 0);
            TestContext.WriteLine($"{scenario} {node.Name}: pruned {zeroed.Count} of {zeros.Length}, dequantized non-zero there {zeroed.Count(i => values[i] != 0)}, kept weights non-zero {kept}");
            Assert.IsTrue(zeroed.All(i => values[i] == 0), $"{node.Name}: a pruned weight came back non-zero");
            Assert.IsGreaterThan(zeros.Length / 4, kept, $"{node.Name}: most kept weights stay non-zero");
        }
    }

    // A memory budget smaller than any layer's H: one run over the data per input, every H after the
    // first moved to a file and read back, the same model written, and no file left behind.
    [TestMethod]
    public void LayerwiseMeasuredInSeveralRunsWithinTheMemoryBudgetWritesTheSameModel()
    {
        using var temp = new TempDirectory();
        var (calibration, _) = Split("digits-cnn", temp);
        var options = Lossy("digits-cnn") with { Reconstruct = ReconstructMode.Layerwise, ReconstructData = calibration };
        var (_, once) = CompressWithCounters("digits-cnn", options, temp, "once.onnx");
        var spillFolders = Directory.GetDirectories(Path.GetTempPath(), "modelshrink-h-*").Length;
        var (_, several) = CompressWithCounters("digits-cnn", options with { Layerwise = new LayerwiseOptions { MemoryBudget = 1 } }, temp, "several.onnx");
        Assert.AreEqual(spillFolders, Directory.GetDirectories(Path.GetTempPath(), "modelshrink-h-*").Length, "the spilled matrices are deleted with the run");

        TestContext.WriteLine($"runs over the data: {once[CaptureLayerInputsPass.Runs]} -> {several[CaptureLayerInputsPass.Runs]} for {several[CaptureLayerInputsPass.InputsMeasured]} inputs");
        Assert.AreEqual(1, once[CaptureLayerInputsPass.Runs]);
        Assert.AreEqual(several[CaptureLayerInputsPass.InputsMeasured], several[CaptureLayerInputsPass.Runs]);
        Assert.AreEqual(0, once[CaptureLayerInputsPass.InputsSpilled]);
        Assert.AreEqual(several[CaptureLayerInputsPass.InputsMeasured] - 1, several[CaptureLayerInputsPass.InputsSpilled]);
        Assert.AreEqual(once[CaptureLayerInputsPass.LayersMeasured], several[CaptureLayerInputsPass.LayersMeasured]);
        CollectionAssert.AreEqual(File.ReadAllBytes(temp.File("once.onnx")), File.ReadAllBytes(temp.File("several.onnx")));
    }

    // digits-cnn has layers on both sides of 100 inputs; the narrow ones are counted from the model.
    [TestMethod]
    public void LayersWiderThanTheLimitKeepPlainRoundingWithOneWarning()
    {
        using var temp = new TempDirectory();
        var (calibration, _) = Split("digits-cnn", temp);
        var options = Lossy("digits-cnn") with { Reconstruct = ReconstructMode.Layerwise, ReconstructData = calibration, Layerwise = new LayerwiseOptions { MaxInputWidth = 100 } };

        var result = Compressor.Run(Fixtures.Model("digits-cnn"), temp.File("out.onnx"), options);

        var counters = result.Passes.SelectMany(p => p.Result.Counters).ToDictionary();
        var teacher = ModelReader.Load(Fixtures.Model("digits-cnn"));
        var narrow = teacher.Graph.Nodes.Select(LayerGeometry.Of).Count(g => g is not null && g.Columns <= 100);
        Assert.IsGreaterThan(0, narrow);
        Assert.AreEqual(narrow, counters[CaptureLayerInputsPass.LayersMeasured]);
        Assert.AreEqual(narrow, counters[LayerwiseReconstruction.WeightsReconstructed]);
        var warning = result.Warnings.Single(w => w.Code == ErrorCodes.ReconstructLayerTooWide);
        StringAssert.Contains(warning.Message, $"{5 - narrow} layer(s) have more than 100 inputs");
    }

    // digits-cnn with a BatchNormalization after each Conv: Int8Static folds them into new weight
    // names, and GPTQ follows the weights there (the folded weight reads the same input, so the same H).
    [TestMethod]
    public void Int8StaticReconstructsConvWeightsAfterFoldingTheirBatchNorms()
    {
        using var temp = new TempDirectory();
        var (calibration, heldOut) = Split("digits-cnn", temp);
        var model = ModelReader.Load(Fixtures.Model("digits-cnn"));
        var convs = model.Graph.Nodes.Where(n => n.Is("Conv")).ToArray();
        var random = new Random(7);
        foreach (var conv in convs)
        {
            var output = conv.Outputs[0]!;
            var channels = (int)conv.Inputs[1]!.ConstantTensor!.Dims[0];
            float[] Values(float low, float high) => Enumerable.Range(0, channels).Select(_ => low + (float)random.NextDouble() * (high - low)).ToArray();
            var parameters = new[] { ("scale", Values(0.5f, 1.5f)), ("shift", Values(-0.2f, 0.2f)), ("mean", Values(-0.1f, 0.1f)), ("var", Values(0.5f, 2f)) }
                .Select(p => (Value?)model.Graph.AddInitializer(Onnx.Tensors.Tensor.FromArray<float>($"{conv.Name}_bn_{p.Item1}", [channels], p.Item2)));
            var bn = model.Graph.AddNode("BatchNormalization", [output, .. parameters], [$"{output.Name}_bn"]);
            output.ReplaceAllUsesWith(bn.Outputs[0]!, except: bn);
        }

        var source = temp.File("bn.onnx");
        ModelWriter.Save(model, source);
        var options = new CompressionOptions
        {
            Quantize = QuantizeMode.Int8Static,
            Int8Static = new Passes.Int8Static.Int8StaticOptions { CalibrationData = calibration },
            ReconstructData = calibration,
        };

        var plain = Compressor.Run(source, temp.File("plain.onnx"), options);
        var layerwise = Compressor.Run(source, temp.File("layerwise.onnx"), options with { Reconstruct = ReconstructMode.Layerwise });

        var counters = layerwise.Passes.Single(p => p.Pass == "int8-static").Result.Counters;
        Assert.AreEqual(convs.Length, counters["batch norms folded"]);
        Assert.AreEqual(counters["weights quantized"], counters[LayerwiseReconstruction.WeightsReconstructed], "every weight, folded Convs included");
        var before = OrtRunner.Cosine(source, temp.File("plain.onnx"), heldOut);
        var after = OrtRunner.Cosine(source, temp.File("layerwise.onnx"), heldOut);
        TestContext.WriteLine($"held-out cosine to the float model: {before:F6} -> {after:F6}");
        Assert.IsGreaterThan(before, after);
        Assert.IsFalse(plain.Passes.Any(p => p.Pass == "capture-layer-inputs"));
    }

    [TestMethod]
    public void LayerwiseWithoutDataIsOneLineReconstructNeedsDataAndNothingIsWritten()
    {
        using var temp = new TempDirectory();
        foreach (var options in new[] { new CompressionOptions { Quantize = QuantizeMode.Int8 }, Scenario("digits-mlp", "prune"), Scenario("digits-cnn", "nm") with { Quantize = QuantizeMode.Int4 } })
        {
            var output = temp.File("out.onnx");
            var error = Assert.ThrowsExactly<ModelShrinkException>(() =>
                Compressor.Run(Fixtures.Model("digits-mlp"), output, options with { Reconstruct = ReconstructMode.Layerwise }));

            TestContext.WriteLine(error.Message);
            Assert.AreEqual(ErrorCodes.ReconstructNeedsData, error.Diagnostic.Code);
            Assert.AreEqual("Reconstruct", error.Diagnostic.Setting);
            Assert.DoesNotContain('\n', error.Message);
            StringAssert.Contains(error.Message, "Layerwise");
            Assert.IsFalse(File.Exists(output));
        }
    }

    // Data the model cannot read (another width, another element type, no sample at all) is refused with
    // the holdout codes before anything is written.
    [TestMethod]
    [DataRow("width", ErrorCodes.HoldoutMismatch)]
    [DataRow("type", ErrorCodes.HoldoutMismatch)]
    [DataRow("empty", ErrorCodes.HoldoutUnreadable)]
    public void LayerwiseWithDataThatDoesNotFitTheModelIsAHoldoutError(string problem, string code)
    {
        using var temp = new TempDirectory();
        var data = Directory.CreateDirectory(temp.File("data")).FullName;
        if (problem != "empty")
        {
            var set = Directory.CreateDirectory(Path.Combine(data, "test_data_set_0")).FullName;
            var tensor = problem == "width"
                ? Onnx.Tensors.Tensor.FromArray<float>("input", [4, 63], new float[4 * 63])
                : Onnx.Tensors.Tensor.FromArray<long>("input", [4, 64], new long[4 * 64]);
            TensorFile.Write(tensor, Path.Combine(set, "input_0.pb"));
        }

        var output = temp.File("out.onnx");
        var error = Assert.ThrowsExactly<ModelShrinkException>(() =>
            Compressor.Run(Fixtures.Model("digits-mlp"), output, new CompressionOptions { Quantize = QuantizeMode.Int8, Reconstruct = ReconstructMode.Layerwise, ReconstructData = data }));

        TestContext.WriteLine(error.Message);
        Assert.AreEqual(code, error.Diagnostic.Code);
        Assert.DoesNotContain('\n', error.Message);
        Assert.IsFalse(File.Exists(output));
    }

    // Nothing rounded to integers and nothing pruned: Layerwise has nothing to reconstruct, needs no data
    // and measures nothing; the model is written as without it (clean-up, or fp16).
    [TestMethod]
    [DataRow(QuantizeMode.None)]
    [DataRow(QuantizeMode.Fp16)]
    public void LayerwiseWithNothingToReconstructWritesTheModelAsWithoutIt(QuantizeMode quantize)
    {
        using var temp = new TempDirectory();
        var (calibration, _) = Split("digits-cnn", temp);
        var source = Fixtures.Model("digits-cnn");
        var plain = Compressor.Run(source, temp.File("plain.onnx"), new CompressionOptions { Quantize = quantize });
        foreach (var data in new[] { calibration, null })
        {
            var options = new CompressionOptions { Quantize = quantize, Reconstruct = ReconstructMode.Layerwise, ReconstructData = data };
            var result = Compressor.Run(source, temp.File("layerwise.onnx"), options);

            CollectionAssert.AreEqual(plain.Passes.Select(p => p.Pass).ToArray(), result.Passes.Select(p => p.Pass).ToArray());
            Assert.IsFalse(result.Passes.Any(p => p.Pass is "capture-layer-inputs" or "bias-correction"));
            CollectionAssert.AreEqual(File.ReadAllBytes(temp.File("plain.onnx")), File.ReadAllBytes(temp.File("layerwise.onnx")), $"data {data ?? "none"}");
        }

        TestContext.WriteLine($"{quantize}: passes {string.Join(", ", plain.Passes.Select(p => p.Pass))}");
    }

    // Whether the student computes the teacher's layer otherwise: another op in its place (MatMulNBits,
    // an integer chain ending in the layer's output), or a weight that is no longer the same float constant.
    private static bool Changed(Node layer, Model student)
    {
        if (student.Graph.FindValue(layer.Outputs[0]!.Name)?.Producer is not { } node)
        {
            return false;
        }

        return node.OpType != layer.OpType || node.Inputs.Count < 2 || node.Inputs[1]?.ConstantTensor is not { DataType: Onnx.Tensors.DataType.Float } weight
            || !weight.GetRawData().Span.SequenceEqual(layer.Inputs[1]!.ConstantTensor!.GetRawData().Span);
    }

    private static (Model Model, Dictionary<string, long> Counters) CompressWithCounters(string fixture, CompressionOptions options, TempDirectory temp, string name)
    {
        var result = Compressor.Run(Fixtures.Model(fixture), temp.File(name), options);
        return (ModelReader.Load(temp.File(name)), result.Passes.SelectMany(p => p.Result.Counters).ToDictionary());
    }

    private static Model Compress(string fixture, CompressionOptions options, TempDirectory temp, string name) =>
        CompressWithCounters(fixture, options, temp, name).Model;

    // The measured layers whose float weight the student holds with other values, and that weight's name.
    private static List<(Node Node, string Weight)> PrunedLayers(Model teacher, Model student) =>
        teacher.Graph.Nodes.Where(n => LayerGeometry.Of(n) is not null)
            .Select(n => (Node: n, Weight: n.Inputs[1]!.Name))
            .Where(p => student.Graph.FindValue(p.Weight)?.ConstantTensor is { } weight
                && !weight.GetRawData().Span.SequenceEqual(p.Node.Inputs[1]!.ConstantTensor!.GetRawData().Span))
            .ToList();

    private static float[] Weight(Model model, string name) => model.Graph.FindValue(name)!.ConstantTensor!.ToFloatArray();

    // The axis a layer's dot products run along: Conv W[O, I/g, k...] its input channels, Gemm B[N, K]
    // (transB) its rows, MatMul and Gemm B[K, N] its columns.
    private static int ReductionAxis(Node node) => node.OpType switch
    {
        "Conv" => 1,
        "Gemm" when node.GetInt("transB", 0) != 0 => 1,
        _ => 0,
    };

    // Flat indices of each run of m consecutive elements along `axis`, the other indices fixed.
    private static IEnumerable<long[]> Groups(long[] dims, int axis, int m)
    {
        var outer = dims.Take(axis).Aggregate(1L, (a, b) => a * b);
        var inner = dims.Skip(axis + 1).Aggregate(1L, (a, b) => a * b);
        var length = dims[axis];
        for (long o = 0; o < outer; o++)
        {
            for (long start = 0; start < length; start += m)
            {
                for (long p = 0; p < inner; p++)
                {
                    var (first, position) = (start, p);
                    yield return Enumerable.Range(0, m).Select(t => ((o * length) + first + t) * inner + position).ToArray();
                }
            }
        }
    }
}
