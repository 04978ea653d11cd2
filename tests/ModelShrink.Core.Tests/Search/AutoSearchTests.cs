using System.Globalization;
using ModelShrink.Core.Budgets;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Plans;
using ModelShrink.Core.Search;
using ModelShrink.Core.Validation;
using ModelShrink.Core.Validation.Metrics;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Search;

[TestClass]
public sealed class AutoSearchTests
{
    private static readonly string Holdout = Path.Combine(Fixtures.Root, "digits-mlp");

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void TheSmallestCandidateWithinTheBudgetsWinsAndIsNoLargerThanAnyPlainModeThatFits()
    {
        using var temp = new TempDirectory();

        var result = ModelShrink.Core.Search.CompressionRun.Run(Fixtures.Model("digits-mlp"), temp.File("out.onnx"), Settings(new AccuracyBudget(0.01, null, null), Holdout), "digits-mlp");
        Log(result);

        // digits-mlp has Gemm weights only: int4 (MatMul weights) is not tried.
        Assert.IsFalse(result.Failed);
        Assert.AreEqual("int8 per-channel", result.Candidates[0].Name);
        Assert.IsFalse(result.Candidates.Any(c => c.Name == "int4"));
        AssertSmallestWinsUnlessSlower(result);
        Assert.AreEqual(new FileInfo(temp.File("out.onnx")).Length, result.Compression.CompressedBytes, "the size is the written file's");
        Assert.IsLessThanOrEqualTo(0.01, AccuracyBudget.Drop(result.Validation!));
        Assert.IsNotNull(result.Candidates.Single(c => c.Name == result.ChosenName).LatencyRatio, "the pick's latency was measured");
        StringAssert.StartsWith(result.Reason, $"chose {result.ChosenName}: ");
        Assert.IsEmpty(Directory.GetDirectories(temp.Path), "the search's scratch folder is gone");

        // The metric, measured again apart from the engine: the written model through ONNX Runtime.
        Assert.AreEqual(result.Validation!.Values.Cosine, OrtRunner.Cosine(Fixtures.Model("digits-mlp"), temp.File("out.onnx"), Holdout), 1e-5);
    }

    [TestMethod]
    public void OnAConvNetworkWithOneMatMulAMixedPlanBeatsEveryPlainModeWithInt4ConvsWhereTheyHold()
    {
        const string fixture = "digits-cnn-mixed";
        using var temp = new TempDirectory();
        var holdout = Path.Combine(Fixtures.Root, fixture);
        var settings = Settings(new AccuracyBudget(0.01, null, null), holdout);

        var result = ModelShrink.Core.Search.CompressionRun.Run(Fixtures.Model(fixture), temp.File("out.onnx"), settings, fixture);
        Log(result);

        Assert.IsFalse(result.Failed, string.Join("; ", result.Diagnostics));
        var plain = result.Candidates.Where(c => c.Options.Plan is null && c.Fits).ToArray();
        CollectionAssert.IsSubsetOf(new[] { "int4", "int8 per-channel" }, plain.Select(c => c.Name).ToArray());
        var smallestFit = result.Candidates.Where(c => c.Fits).MinBy(c => c.Result.Compression.CompressedBytes)!;
        Assert.IsLessThan(plain.Min(c => c.Result.Compression.CompressedBytes), smallestFit.Result.Compression.CompressedBytes, "mixing int4 and int8 pays here");
        Assert.IsNotNull(smallestFit.Options.Plan);
        AssertSmallestWinsUnlessSlower(result);
        var matmul = result.PlanTable.Single(r => r.OpType == "MatMul");
        Assert.AreEqual(1, matmul.Int4, "the MatMul takes int4");
        var conv = result.PlanTable.Single(r => r.OpType == "Conv");
        Assert.AreEqual(2, conv.Int4, "conv2 and conv3 take int4 (conv1's 9 weights per channel are too few for a block)");
        Assert.AreEqual(1, conv.Int8);

        // The outlier Conv, which one int8 scale per tensor collapses, holds in int4: its blocks run
        // along each output channel, so the outlier channel has scales of its own.
        Assert.AreEqual(LayerPrecision.Int4, smallestFit.Options.Plan!.Layers["/conv2/Conv"]);
        Assert.IsLessThan(0.7 * result.Candidates.Single(c => c.Name == "int8 per-channel").Result.Compression.CompressedBytes, smallestFit.Result.Compression.CompressedBytes);

        // Measured apart from the engine: the written model's accuracy through ONNX Runtime.
        var cosine = OrtRunner.Cosine(Fixtures.Model(fixture), temp.File("out.onnx"), holdout);
        Assert.AreEqual(result.Validation!.Values.Cosine, cosine, 1e-5);
        Assert.IsGreaterThanOrEqualTo(0.97, result.Validation.Value);
    }

    [TestMethod]
    public void APlainModeThatCollapsesTheModelSaysSoAndNamesTheMeasuredBetterSetting()
    {
        const string fixture = "digits-cnn-mixed";
        using var temp = new TempDirectory();
        var holdout = Path.Combine(Fixtures.Root, fixture);
        var perTensor = new CompressionOptions { Quantize = QuantizeMode.Int8, Int8 = new() { PerChannel = false } };
        var settings = new JobSettings(perTensor, new SizeBudget(null, null), new AccuracyBudget(null, null, null), holdout, new ValidationOptions());

        var collapsed = CompressionRun.Run(Fixtures.Model(fixture), temp.File("out.onnx"), settings, fixture);
        var fine = CompressionRun.Run(Fixtures.Model(fixture), temp.File("fine.onnx"), settings with { Compression = new CompressionOptions { Quantize = QuantizeMode.Int8 } }, fixture);

        // No budget was set, so the run succeeds; but 89 points lost is said, with the per-channel result measured.
        Assert.IsFalse(collapsed.Failed);
        var warning = collapsed.Diagnostics.Single(d => d.Code == ErrorCodes.AccuracyLossHint);
        Assert.AreEqual(DiagnosticSeverity.Warning, warning.Severity);
        StringAssert.Contains(warning.Message, "Int8 with one scale per tensor lost 89.1 points of Accuracy");
        StringAssert.Contains(warning.Message, "with one scale per channel (--per-channel true, the default) it loses 0.4 points");
        Assert.IsFalse(fine.Diagnostics.Any(d => d.Code == ErrorCodes.AccuracyLossHint), "per channel loses under 5 points");
        Assert.HasCount(2, Directory.GetFiles(temp.Path), "the measured alternative leaves no file");
    }

    [TestMethod]
    public void ALayerPlanRunsEachPrecisionsPassOnItsOwnLayers()
    {
        const string fixture = "digits-cnn-mixed";
        using var temp = new TempDirectory();
        var plan = new LayerPlan(new Dictionary<string, LayerPrecision> { ["fc1_MatMul"] = LayerPrecision.Int4, ["/conv3/Conv"] = LayerPrecision.Float });
        var options = new CompressionOptions { Quantize = QuantizeMode.Int8, Plan = plan };

        var result = Compressor.Run(Fixtures.Model(fixture), temp.File("out.onnx"), options);

        CollectionAssert.AreEqual(new[] { "cleanup", "int4", "int8-dynamic" }, result.Passes.Select(p => p.Pass).ToArray());
        Assert.AreEqual(1, result.Passes[1].Result.Counters["nodes quantized"]);
        Assert.AreEqual(3, result.Passes[2].Result.Counters["nodes quantized"], "two Convs and the Gemm; conv3 stays float");
        var model = ModelShrink.Onnx.IO.ModelReader.Load(temp.File("out.onnx"));
        Assert.AreEqual("MatMulNBits", model.Graph.Nodes.Single(n => n.Name == "fc1_MatMul").OpType);
        Assert.AreEqual(ModelShrink.Onnx.Tensors.DataType.Float, model.Graph.Nodes.Single(n => n.Name == "/conv3/Conv").Inputs[1]!.ConstantTensor!.DataType);
    }

    [TestMethod]
    public void ACandidateThatBreaksTheAccuracyBudgetGivesWayToTheNextLargest()
    {
        using var temp = new TempDirectory();

        var result = ModelShrink.Core.Search.CompressionRun.Run(Fixtures.Model("digits-mlp"), temp.File("out.onnx"), Settings(new AccuracyBudget(null, null, 1.0), Holdout), "digits-mlp");

        Assert.AreEqual(QuantizeMode.None, result.Chosen);
        CollectionAssert.IsSubsetOf(new[] { "int8 per-channel", "fp16", "float32" }, result.Candidates.Select(c => c.Name).ToArray());
        Assert.AreEqual("float32", result.Candidates[^1].Name);
        Assert.IsTrue(result.Candidates.Any(c => c.Options.Plan is not null), "mixed plans were tried before growing to fp16");
        Assert.IsNotEmpty(result.Sensitivity, "layers were measured to order the mixed plans");
        Assert.AreEqual(ErrorCodes.CosineBelowMinimum, result.Candidates.Single(c => c.Name == "fp16").Result.Diagnostics.Single().Code);
        Assert.AreEqual(1.0, result.Validation!.Values.Cosine, 1e-12);
    }

    [TestMethod]
    public void WhenNothingFitsTheErrorGivesTheBestSizeAndMetricAndTheFailedBudgets()
    {
        using var temp = new TempDirectory();
        var settings = Settings(new AccuracyBudget(null, null, 1.0), Holdout) with { Size = new SizeBudget(10_000, null) };

        var result = ModelShrink.Core.Search.CompressionRun.Run(Fixtures.Model("digits-mlp"), temp.File("out.onnx"), settings, "digits-mlp");
        var error = result.Diagnostics.Single();

        Assert.IsTrue(result.Failed);
        Assert.IsNull(result.Chosen);
        Assert.IsGreaterThanOrEqualTo(3, result.Candidates.Count, "every candidate stays in the result for the report");
        Assert.AreEqual(ErrorCodes.SearchFoundNothing, error.Code);
        StringAssert.Contains(error.Message, "no candidate fits the budgets: tried ");
        StringAssert.Matches(error.Message, new System.Text.RegularExpressions.Regex(@"smallest \d+(\.\d+)?KB \((int8|mixed|fp16)"));
        StringAssert.Contains(error.Message, "MaxSize");
        StringAssert.Contains(error.Message, "MinCosine");
        // The ways out: for the smallest candidates, the budgets set to the values each reached; then pruning and a warning.
        var smallest = result.Candidates.Where(c => c.Applies).MinBy(c => c.Result.Compression.CompressedBytes)!;
        var cosine = Math.Floor(smallest.Result.Validation!.Values.Cosine * 10000) / 10000;
        StringAssert.Contains(error.Message, $"; ways out: MaxSize={ByteSize.FormatAtLeast(smallest.Result.Compression.CompressedBytes)} and MinCosine={cosine.ToString(System.Globalization.CultureInfo.InvariantCulture)} lets {smallest.Name} (");
        StringAssert.EndsWith(error.Message, ", Prune=auto (or a Prune sparsity) before the search, or BudgetSeverity=Warning to place it anyway");
        Assert.IsTrue(ByteSize.TryParse(ByteSize.FormatAtLeast(smallest.Result.Compression.CompressedBytes), out var raised) && raised >= smallest.Result.Compression.CompressedBytes, "the raised budget holds");
        Assert.IsFalse(File.Exists(temp.File("out.onnx")));
    }

    [TestMethod]
    public void WithoutHoldoutDataOnlyTheRobustModesCompeteAndTheChoiceSaysSo()
    {
        using var temp = new TempDirectory();

        // digits-transformer has MatMuls: int4 would be smaller, but unmeasured it is not the robust choice.
        var result = ModelShrink.Core.Search.CompressionRun.Run(Fixtures.Model("digits-transformer"), temp.File("out.onnx"), Settings(new AccuracyBudget(null, null, null), null), "digits-transformer");

        Assert.IsNull(result.Validation);
        Assert.AreEqual(QuantizeMode.Int8, result.Chosen);
        CollectionAssert.AreEqual(new[] { "int8 per-channel" }, result.Candidates.Select(c => c.Name).ToArray());
        Assert.AreEqual(ErrorCodes.SearchUnvalidated, result.Diagnostics.Single(d => d.Code.StartsWith("MSH41", StringComparison.Ordinal)).Code);
    }

    [TestMethod]
    public void ATimeLimitEndsTheSearchWithTheFirstFitOnceThereIsOne()
    {
        using var temp = new TempDirectory();
        var settings = Settings(new AccuracyBudget(0.01, null, null), Path.Combine(Fixtures.Root, "digits-cnn-mixed")) with { SearchTimeLimit = TimeSpan.Zero };

        var result = ModelShrink.Core.Search.CompressionRun.Run(Fixtures.Model("digits-cnn-mixed"), temp.File("out.onnx"), settings, "digits-cnn-mixed");

        // Past the limit from the start: the search goes on only until something fits. The plain
        // modes run side by side as one step (int4 and int8 both fit here), and nothing follows them.
        Assert.IsFalse(result.Failed);
        CollectionAssert.AreEqual(new[] { "int4", "int8 per-channel" }, result.Candidates.Select(c => c.Name).ToArray());
        StringAssert.Contains(result.Reason, "time limit");
    }

    // The pick is the smallest fitting candidate, or a larger one because every smaller fitting one
    // was measured slower than the original (latency on a loaded test machine is noisy).
    /// <summary>The smallest fitting candidate wins unless it ran measurably slower than the original (a timing of this machine).</summary>
    internal static void AssertSmallestWinsUnlessSlower(JobResult result)
    {
        var fitting = result.Candidates.Where(c => c.Fits && c.Applies).ToArray();
        var smaller = fitting.Where(c => c.Result.Compression.CompressedBytes < result.Compression.CompressedBytes).ToArray();
        Assert.IsTrue(smaller.All(c => c.LatencyRatio > AutoSearch.SlowerThanOriginal), "a smaller fitting candidate lost only by being slower");
        Assert.IsTrue(fitting.Any(c => c.Name == result.ChosenName));
    }

    private void Log(JobResult result)
    {
        foreach (var c in result.Candidates)
        {
            TestContext.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{c.Name}: {c.Result.Compression.CompressedBytes} B, {c.Result.Validation?.Metric} {c.Result.Validation?.Value:0.####}, fits {c.Fits}, latency {c.LatencyRatio:0.00}"));
        }

        TestContext.WriteLine(result.Reason ?? "");
    }

    private static JobSettings Settings(AccuracyBudget accuracy, string? holdout) => new(
        new CompressionOptions { Quantize = QuantizeMode.Auto },
        new SizeBudget(null, null),
        accuracy,
        holdout,
        new ValidationOptions());
}

[TestClass]
public sealed class SensitivitySearchTests
{
    private static readonly string Holdout = Path.Combine(Fixtures.Root, "digits-cnn-mixed");

    [TestMethod]
    public void EachLayerIsMeasuredAtEachPrecisionAndTheOutlierConvIsTheMostSensitivePerTensor()
    {
        using var temp = new TempDirectory();
        var model = Fixtures.Model("digits-cnn-mixed");
        var settings = new JobSettings(new CompressionOptions(), new SizeBudget(null, null), new AccuracyBudget(null, null, null), Holdout, new ValidationOptions());
        var inventory = LayerInventory.Read(model, settings.Compression);

        var measured = SensitivityAnalysis.Measure(model, temp.Path, settings, inventory.Layers, "digits-cnn-mixed", default);

        Assert.HasCount(inventory.Layers.Sum(l => l.Ladder.Count - 1), measured, "a row for every layer at every precision below float");
        Assert.IsLessThan(measured.Count, SensitivityAnalysis.ProbeCount(inventory.Layers), "per-channel int8 is estimated, not probed");
        Assert.HasCount(5, inventory.Layers, "3 Conv, the MatMul, the Gemm");
        var worst = measured[0];
        Assert.AreEqual(("/conv2/Conv", LayerPrecision.Int8PerTensor), (worst.Layer, worst.Precision), "the Conv with one outlier channel, one scale per tensor");
        Assert.IsTrue(measured.Zip(measured.Skip(1)).All(p => p.First.Noise >= p.Second.Noise), "most sensitive first");
        var conv2 = measured.Where(m => m.Layer == "/conv2/Conv").ToDictionary(m => m.Precision, m => m.Noise);
        Assert.IsLessThan(conv2[LayerPrecision.Int8PerTensor] / 100, conv2[LayerPrecision.Int8], "per channel is far closer");
    }

    [TestMethod]
    public void ThePerChannelEstimateIsCheckedAgainstAMeasuredProbeOfEveryLayer()
    {
        using var temp = new TempDirectory();
        var model = Fixtures.Model("digits-cnn-mixed");
        var holdout = Path.Combine(Fixtures.Root, "digits-cnn-mixed");
        var settings = new JobSettings(new CompressionOptions(), new SizeBudget(null, null), new AccuracyBudget(null, null, null), holdout, new ValidationOptions());
        var inventory = LayerInventory.Read(model, settings.Compression);

        var estimated = SensitivityAnalysis.Measure(model, temp.Path, settings, inventory.Layers, "digits-cnn-mixed", default)
            .Where(r => r.Precision == LayerPrecision.Int8).ToDictionary(r => r.Layer, r => r.Noise);

        Assert.HasCount(5, estimated);
        foreach (var (layer, noise) in estimated)
        {
            var plan = new CompressionOptions { Plan = new LayerPlan(new Dictionary<string, LayerPrecision> { [layer] = LayerPrecision.Int8 }) };
            var job = CompressionJob.Run(model, temp.File("probe.onnx"), settings with { Compression = plan, Validation = settings.Validation with { MaxSamples = SensitivityAnalysis.ProbeSamples } }, layer);
            var probed = SensitivityAnalysis.Noise(job.Validation!);
            Console.WriteLine($"{layer}: per-channel noise estimated {noise:G3}, measured {probed:G3}");
            // Within a factor of 6, or both negligible (an error share under 1e-5: over 50 dB SNR, below what any plan trades on).
            Assert.IsTrue((noise <= 6 * probed && probed <= 6 * noise) || Math.Abs(noise - probed) < 1e-5, $"{layer}: estimated {noise:G3}, measured {probed:G3}");
        }
    }

    [TestMethod]
    public void TheChainStartsAtTheSmallestPlanAndRaisesTheMostErrorPerByteFirst()
    {
        var layers = new[]
        {
            new PlanLayer("a", "Conv", 1000, 10, [LayerPrecision.Int8PerTensor, LayerPrecision.Int8, LayerPrecision.Float]),
            new PlanLayer("b", "MatMul", 4000, 10, [LayerPrecision.Int4, LayerPrecision.Int8PerTensor, LayerPrecision.Int8, LayerPrecision.Float]),
        };
        var noise = new[]
        {
            new LayerSensitivity("a", "Conv", 0, 0) { Precision = LayerPrecision.Int8PerTensor, Noise = 0.5 },
            new LayerSensitivity("a", "Conv", 0, 0) { Precision = LayerPrecision.Int8, Noise = 0.001 },
            new LayerSensitivity("b", "MatMul", 0, 0) { Precision = LayerPrecision.Int4, Noise = 0.01 },
            new LayerSensitivity("b", "MatMul", 0, 0) { Precision = LayerPrecision.Int8PerTensor, Noise = 0.02 },
            new LayerSensitivity("b", "MatMul", 0, 0) { Precision = LayerPrecision.Int8, Noise = 0.0001 },
        };

        var chain = PlanChain.Build(layers, noise);

        Assert.AreEqual(LayerPrecision.Int8PerTensor, chain.Plan(0)["a"]);
        Assert.AreEqual(LayerPrecision.Int4, chain.Plan(0)["b"]);
        // a: per tensor -> per channel removes 0.499 for 45 bytes, by far the best step.
        Assert.AreEqual(LayerPrecision.Int8, chain.Plan(1)["a"]);
        Assert.AreEqual(LayerPrecision.Int4, chain.Plan(1)["b"]);
        // b's per-tensor int8 is larger and no more accurate than its int4: the chain skips it.
        Assert.IsFalse(Enumerable.Range(0, chain.Count).Any(k => chain.Plan(k)["b"] == LayerPrecision.Int8PerTensor));
        Assert.IsTrue(chain.Plan(chain.Count - 1).Values.All(p => p == LayerPrecision.Float), "the chain ends with every layer float");
    }
}
