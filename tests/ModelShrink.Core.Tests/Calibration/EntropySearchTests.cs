using ModelShrink.Core.Calibration;
using ModelShrink.Core.Validation.Holdout;
using ModelShrink.Core.Validation.Running;
using ModelShrink.Onnx.IO;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Calibration;

/// <summary>
/// The fast calibration paths against their plain definitions: the entropy search (prefix-sum estimates,
/// then exact divergences for a shortlist) against the bin-by-bin search over every candidate, and
/// histograms filled from ONNX Runtime's buffers without copies against histograms of copied outputs.
/// </summary>
[TestClass]
public sealed class EntropySearchTests
{
    public static IEnumerable<object[]> Distributions =>
    [
        ["uniform"], ["gaussian"], ["relu"], ["heavy tail"], ["lone outlier"], ["zeros"], ["two spikes"], ["sparse"], ["widened"],
    ];

    [TestMethod]
    [DynamicData(nameof(Distributions))]
    public void EntropyThresholdIsTheOneTheBinByBinSearchPicks(string distribution)
    {
        var histogram = new AbsHistogram();
        foreach (var batch in Batches(distribution, new Random(distribution.Length)))
        {
            histogram.Add(batch);
        }

        Assert.AreEqual(ReferenceThreshold(histogram), histogram.EntropyThreshold(), distribution);
    }

    [TestMethod]
    public void EntropyThresholdOfNothingIsTheFirstCandidate()
    {
        var histogram = new AbsHistogram();

        Assert.AreEqual(ReferenceThreshold(histogram), histogram.EntropyThreshold());
    }

    // Every activation (and the graph input) binned where ONNX Runtime left it, on every core, against the
    // same calibrators fed copies of each output one at a time.
    [TestMethod]
    [DataRow("digits-cnn")]
    [DataRow("digits-transformer")]
    public void HistogramsFromOrtBuffersEqualHistogramsOfCopies(string fixture)
    {
        var model = ModelReader.Load(Fixtures.Model(fixture));
        var values = model.Graph.Nodes.Where(n => n.OpType is "Conv" or "MatMul" or "Gemm")
            .SelectMany(n => new[] { n.Inputs[0]!.Name, n.Outputs[0]!.Name }).Append(model.Graph.Inputs[0].Name).Distinct().ToArray();
        var data = Path.Combine(Fixtures.Root, fixture);

        foreach (var method in new[] { CalibrationMethod.Entropy, CalibrationMethod.Percentile })
        {
            var inPlace = ActivationCalibration.Measure(model, values, data, method, fixture);
            var copied = values.ToDictionary(v => v, _ => Calibrators.Create(method));
            AugmentedRun.ForEachBatch(model, values, data, fixture, "Calibration", output => copied[output.Name].Add(output.Values));

            Assert.HasCount(values.Length, inPlace);
            foreach (var value in values)
            {
                Assert.AreEqual(copied[value].Range(), inPlace[value], $"{method} {value}");
            }
        }
    }

    private static IEnumerable<float[]> Batches(string distribution, Random random)
    {
        float Gaussian() => (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        float[] Of(int count, Func<int, float> value) => Enumerable.Range(0, count).Select(value).ToArray();
        return distribution switch
        {
            "uniform" => [Of(30_000, _ => (float)(random.NextDouble() * 2 - 1))],
            "gaussian" => [Of(20_000, _ => Gaussian()), Of(20_000, _ => Gaussian())],
            "relu" => [Of(50_000, _ => Math.Max(0, Gaussian()))],
            "heavy tail" => [Of(40_000, _ => Gaussian() * MathF.Exp(2 * Gaussian()))],
            "lone outlier" => [Of(50_000, _ => (float)(random.NextDouble() * 2 - 1)).Append(100f).ToArray()],
            "zeros" => [new float[1000]],
            "two spikes" => [Of(10_000, i => i % 2 == 0 ? 0.25f : -1f)],
            "sparse" => [Of(5_000, i => i % 97 == 0 ? Gaussian() * 50 : 0)],
            // A narrow batch first, then ten times wider ones: the histogram widens and merges bins.
            "widened" => [Of(10_000, _ => Gaussian() * 0.1f), Of(10_000, _ => Gaussian()), Of(10_000, _ => Gaussian() * 3)],
            _ => throw new ArgumentException(distribution),
        };
    }

    // The definition: every candidate's KL(P || Q) computed bin by bin (the search before the estimates).
    private static ActivationRange ReferenceThreshold(AbsHistogram histogram, int levels = 128)
    {
        var counts = histogram.Counts.ToArray();
        var bestBins = counts.Length;
        var bestDivergence = double.MaxValue;
        for (var used = levels; used <= counts.Length; used += Math.Max(1, levels / 8))
        {
            var reference = new double[used];
            Array.Copy(counts, reference, used);
            for (var i = used; i < counts.Length; i++)
            {
                reference[used - 1] += counts[i];
            }

            var quantized = new double[used];
            var perLevel = used / (double)levels;
            for (var level = 0; level < levels; level++)
            {
                var start = (int)(level * perLevel);
                var end = level == levels - 1 ? used : (int)((level + 1) * perLevel);
                double total = 0;
                var nonEmpty = 0;
                for (var i = start; i < end; i++)
                {
                    total += counts[i];
                    nonEmpty += counts[i] > 0 ? 1 : 0;
                }

                for (var i = start; i < end; i++)
                {
                    quantized[i] = counts[i] > 0 ? total / nonEmpty : 0;
                }
            }

            double pSum = reference.Sum(), qSum = quantized.Sum(), divergence = 0;
            for (var i = 0; i < used; i++)
            {
                if (reference[i] > 0)
                {
                    var p = reference[i] / pSum;
                    var q = quantized[i] > 0 ? quantized[i] / qSum : 1e-10;
                    divergence += p * Math.Log(p / q);
                }
            }

            if (divergence < bestDivergence)
            {
                bestDivergence = divergence;
                bestBins = used;
            }
        }

        var threshold = bestBins * histogram.Width / counts.Length;
        return new ActivationRange(Math.Max(histogram.Min, -threshold), Math.Min(histogram.Max, threshold));
    }
}
