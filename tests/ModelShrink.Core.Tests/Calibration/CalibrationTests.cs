using ModelShrink.Core.Calibration;
using ModelShrink.Core.Tests.Quantization;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Calibration;

[TestClass]
public sealed class CalibrationTests
{
    [TestMethod]
    public void MinMaxRangesAreTheExtremesOrtComputesForEachActivation()
    {
        var model = ModelReader.Load(Fixtures.Model("digits-mlp"));
        var relus = model.Graph.Nodes.Where(n => n.Is("Relu")).Select(n => n.Outputs[0]!.Name).ToArray();

        var ranges = ActivationCalibration.Measure(model, [.. relus, "logits"], Path.Combine(Fixtures.Root, "digits-mlp"), CalibrationMethod.MinMax, "digits-mlp");

        // The logits are a real output: their extremes come straight from a separate ORT run.
        var logits = Fixtures.DataSets("digits-mlp").SelectMany(s => OrtRunner.Run(Fixtures.Model("digits-mlp"), Fixtures.Inputs(s))["logits"]).ToArray();
        Assert.AreEqual(Math.Min(0, logits.Min()), ranges["logits"].Min);
        Assert.AreEqual(Math.Max(0, logits.Max()), ranges["logits"].Max);
        foreach (var relu in relus)
        {
            Assert.AreEqual(0f, ranges[relu].Min, "a ReLU output is never negative");
            Assert.IsGreaterThan(0f, ranges[relu].Max);
        }
    }

    [TestMethod]
    public void CalibratingAModelWithExternalDataCopiesNoWeightAndLeavesTheModelAsItWas()
    {
        // Four 1024x1024 MatMuls (16 MB) in external data. The augmented copy used to go through one
        // in-memory protobuf: every weight copied three more times (4.5x the weights allocated), and
        // MSH2000 (overflow) past 2 GB of weights; then it was written to disk beside a copy of the
        // weights. Now it stays in memory with its weights in their own file: neither copied nor written.
        const int side = 1024;
        const long weightBytes = 4L * side * side * 4;
        using var temp = new TempDirectory();
        var source = GeneratedModels.WriteMatMulChain(temp.File("model.onnx"), side, 4, new ModelSaveOptions { ExternalDataThreshold = 1024 });
        var random = new Random(11);
        var sets = Enumerable.Range(0, 3).Select(i => StaticQuantization.WriteDataSet(temp.Path, i,
            Tensor.FromArray<float>("x", [2, side], Enumerable.Range(0, 2 * side).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()))).ToArray();
        var model = ModelReader.Load(source);
        var outputs = model.Graph.Outputs.Select(v => v.Name).ToArray();
        var types = model.Graph.Values.Where(v => v.Name is "h0" or "h1").Select(v => v.Type).ToArray();

        var before = GC.GetAllocatedBytesForCurrentThread();
        var written = BytesWrittenByThisProcess();
        var ranges = ActivationCalibration.Measure(model, ["x", "h0", "h1"], temp.Path, CalibrationMethod.MinMax, "model.onnx");
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        written = BytesWrittenByThisProcess() - written;

        Assert.IsLessThan(weightBytes / 4, allocated, $"allocated {allocated} bytes for {weightBytes} bytes of weights");
        Assert.IsLessThan(weightBytes / 4, written, $"wrote {written} bytes for {weightBytes} bytes of weights (other tests may write meanwhile, but not 4 MB)");
        // The same generator with two layers draws the same first two weights: its output is h1.
        var twoLayers = GeneratedModels.WriteMatMulChain(temp.File("two-layers.onnx"), side, 2);
        var h1 = sets.SelectMany(s => OrtRunner.Run(twoLayers, Fixtures.Inputs(s))["h1"]).ToArray();
        Assert.AreEqual(h1.Max(), ranges["h1"].Max, 1e-5 * Math.Abs(h1.Max()));
        Assert.AreEqual(h1.Min(), ranges["h1"].Min, 1e-5 * Math.Abs(h1.Min()));
        CollectionAssert.AreEqual(outputs, model.Graph.Outputs.Select(v => v.Name).ToArray(), "the outputs added for the run are gone");
        CollectionAssert.AreEqual(types, model.Graph.Values.Where(v => v.Name is "h0" or "h1").Select(v => v.Type).ToArray());
    }

    // Bytes this process passed to write calls (Linux's /proc/self/io "wchar"); 0 where there is no such file.
    private static long BytesWrittenByThisProcess() => File.Exists("/proc/self/io")
        ? long.Parse(File.ReadLines("/proc/self/io").First(l => l.StartsWith("wchar:", StringComparison.Ordinal))[6..].Trim(), System.Globalization.CultureInfo.InvariantCulture)
        : 0;

    [TestMethod]
    public void CalibratingOnlyGraphInputsRunsNoModel()
    {
        // x feeds an operator ONNX Runtime does not know: a session could not even be created. The range
        // of an input comes from the data alone (a one-MatMul model: no copy of its weights written, none loaded).
        using var temp = new TempDirectory();
        var model = Model.Create("unknown-op", 8, ("", 17), ("test.unknown", 1));
        var x = model.Graph.AddInput("x", TensorType.Of(DataType.Float, "N", 4));
        var y = model.Graph.AddNode("Mystery", [x], ["y"], domain: "test.unknown").Outputs[0]!;
        y.Type = TensorType.Of(DataType.Float, "N", 4);
        model.Graph.Outputs.Add(y);
        StaticQuantization.WriteDataSet(temp.Path, 0, Tensor.FromArray<float>("x", [2, 4], [-3f, 0.5f, 1f, 2f, 0f, 7f, -1f, 4f]));

        var ranges = ActivationCalibration.Measure(model, ["x"], temp.Path, CalibrationMethod.MinMax, "unknown-op.onnx");

        Assert.AreEqual(-3f, ranges["x"].Min);
        Assert.AreEqual(7f, ranges["x"].Max);
    }

    [TestMethod]
    public void PercentileAndEntropyRangesLieWithinMinMax()
    {
        var model = ModelReader.Load(Fixtures.Model("digits-cnn"));
        var values = model.Graph.Nodes.Where(n => n.Is("Relu")).Select(n => n.Outputs[0]!.Name).ToArray();
        var data = Path.Combine(Fixtures.Root, "digits-cnn");

        var minMax = ActivationCalibration.Measure(model, values, data, CalibrationMethod.MinMax, "digits-cnn");
        var percentile = ActivationCalibration.Measure(model, values, data, CalibrationMethod.Percentile, "digits-cnn");
        var entropy = ActivationCalibration.Measure(model, values, data, CalibrationMethod.Entropy, "digits-cnn");

        foreach (var value in values)
        {
            Assert.IsLessThanOrEqualTo(minMax[value].Max, percentile[value].Max);
            Assert.IsLessThanOrEqualTo(minMax[value].Max, entropy[value].Max);
            Assert.IsGreaterThan(0.2f * minMax[value].Max, entropy[value].Max, "entropy keeps the bulk of the distribution");
        }
    }

    [TestMethod]
    public void TheHistogramWidensWithoutLosingCountsAndFindsPercentiles()
    {
        var histogram = new AbsHistogram(bins: 1000);
        var random = new Random(3);
        var first = Enumerable.Range(0, 10_000).Select(_ => (float)random.NextDouble()).ToArray();
        var second = Enumerable.Range(0, 10_000).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();

        histogram.Add(first);
        histogram.Add(second);
        var median = histogram.Percentile(50).Max;

        Assert.AreEqual(20_000L, histogram.Count);
        Assert.AreEqual(-2, histogram.Min, 0.01);
        Assert.AreEqual(2, histogram.Max, 0.01);
        // Half of |x| lies below about 0.67 for this mixture (uniform[0,1) and |uniform[-2,2)|).
        Assert.AreEqual(0.667, median, 0.03);
    }

    // The SIMD binning (blocks of 4096: |v| * scale, clamped, truncated) against the value-by-value
    // definition, over batches that widen the histogram, a length that is no multiple of the block or of
    // the vector width, values on bin edges and the largest value (last bin).
    [TestMethod]
    public void HistogramCountsEqualValueByValueBinning()
    {
        var histogram = new AbsHistogram(bins: 2048);
        var random = new Random(11);
        var batches = new[]
        {
            Enumerable.Range(0, 10_007).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray(),
            Enumerable.Range(0, 4_099).Select(i => i % 7 == 0 ? i / 4099f * 3 : (float)(random.NextDouble() * 6 - 3)).ToArray(),
            [0f, -0f, 2.5f, -2.5f, 1e-30f, 3f],
        };
        var expected = new double[2048];
        float width = 0;
        foreach (var batch in batches)
        {
            histogram.Add(batch);
            // The reference: widen as the histogram did, then bin one value at a time.
            var absMax = batch.Max(Math.Abs);
            width = width == 0 ? absMax * 1.0001f : width;
            while (absMax >= width)
            {
                for (var i = 0; i < 1024; i++)
                {
                    expected[i] = expected[2 * i] + expected[2 * i + 1];
                }

                Array.Clear(expected, 1024, 1024);
                width *= 2;
            }

            var scale = 2048 / width;
            foreach (var v in batch)
            {
                expected[Math.Min((int)(Math.Abs(v) * scale), 2047)]++;
            }
        }

        Assert.AreEqual(width, histogram.Width);
        CollectionAssert.AreEqual(expected, histogram.Counts.ToArray());
        Assert.AreEqual(batches.Sum(b => b.Length), histogram.Count);
    }

    // Per-channel means computed by ONNX Runtime in the graph (whatever the rank: a Conv's [N, C, H, W],
    // a Gemm's [N, C], a MatMul's [N, T, C]) against the means of the whole activation, on one batch.
    [TestMethod]
    [DataRow("digits-cnn")]
    [DataRow("digits-transformer")]
    public void InGraphChannelMeansEqualTheMeansOfTheWholeActivation(string fixture)
    {
        var model = ModelReader.Load(Fixtures.Model(fixture));
        var layers = model.Graph.Nodes.Where(n => n.OpType is "Conv" or "Gemm" or "MatMul" && n.Inputs[1]?.Initializer is not null)
            .Select(n => (Value: n.Outputs[0]!.Name, ChannelsOnAxis1: n.OpType == "Conv")).ToArray();
        var data = Fixtures.DataSets(fixture)[0];
        var whole = new Dictionary<string, ModelShrink.Core.Validation.Running.OutputValues>();
        AugmentedRun.ForEachBatch(model, layers.Select(l => l.Value).ToArray(), data, "test", "Holdout", o => whole[o.Name] = o);
        var inGraph = new Dictionary<string, ModelShrink.Core.Validation.Running.OutputValues>();
        AugmentedRun.ForEachBatch(model, layers.SelectMany(l => new[] { InGraphStatistics.ChannelMean(l.Value), InGraphStatistics.Shape(l.Value) }).ToArray(),
            data, "test", "Holdout", o => inGraph[o.Name] = o, addNodes: copy => InGraphStatistics.AddChannelMeans(copy, layers));

        Assert.IsNotEmpty(layers);
        foreach (var (value, axis1) in layers)
        {
            var shape = whole[value].Shape;
            CollectionAssert.AreEqual(shape.Select(d => (float)d).ToArray(), inGraph[InGraphStatistics.Shape(value)].Values, value);
            var axis = axis1 ? 1 : shape.Length - 1;
            var channels = (int)shape[axis];
            var inner = shape.Skip(axis + 1).Aggregate(1L, (a, b) => a * b);
            var sums = new double[channels];
            var values = whole[value].Values;
            for (long i = 0; i < values.Length; i++)
            {
                sums[i / inner % channels] += values[i];
            }

            var means = inGraph[InGraphStatistics.ChannelMean(value)].Values;
            Assert.HasCount(channels, means, value);
            for (var c = 0; c < channels; c++)
            {
                var expected = sums[c] / (values.Length / channels);
                Assert.AreEqual(expected, means[c], 1e-5 * (1 + Math.Abs(expected)), $"{value} channel {c}");
            }
        }
    }

    [TestMethod]
    public void EntropyClipsALoneOutlier()
    {
        var histogram = new AbsHistogram();
        var random = new Random(5);
        var values = Enumerable.Range(0, 50_000).Select(_ => (float)(random.NextDouble() * 2 - 1)).Append(100f).ToArray();

        histogram.Add(values);
        var range = histogram.EntropyThreshold();

        Assert.AreEqual(100f, histogram.Max);
        Assert.IsLessThan(10f, range.Max, "one value at 100 should not stretch the range of values in [-1, 1]");
        Assert.IsGreaterThanOrEqualTo(0.9f, range.Max);
    }
}
