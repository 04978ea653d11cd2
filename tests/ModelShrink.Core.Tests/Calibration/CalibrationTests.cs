using ModelShrink.Core.Calibration;
using ModelShrink.Onnx.IO;
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
            data, "test", "Holdout", o => inGraph[o.Name] = o, prepare: copy => InGraphStatistics.AddChannelMeans(copy, layers));

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
