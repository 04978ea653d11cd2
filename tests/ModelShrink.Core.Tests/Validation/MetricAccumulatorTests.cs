using ModelShrink.Core.Validation.Metrics;

namespace ModelShrink.Core.Tests.Validation;

[TestClass]
public sealed class MetricAccumulatorTests
{
    [TestMethod]
    public void ClassMetricsCountRowsOfTheLastAxis()
    {
        var accumulator = new MetricAccumulator(topK: 2);
        float[] original = [0.1f, 0.7f, 0.2f, 0.5f, 0.3f, 0.2f];
        float[] candidate = [0.1f, 0.2f, 0.7f, 0.5f, 0.3f, 0.2f];

        accumulator.Add(original, candidate, [2, 3], [1, 1]);
        var result = accumulator.Result();

        Assert.AreEqual(2L, result.Samples);
        Assert.AreEqual(0.5, result.Agreement);
        Assert.AreEqual(0.0, result.Accuracy);
        Assert.AreEqual(0.5, result.OriginalAccuracy);
        Assert.AreEqual(1.0, result.TopK, "label 1 is second in the candidate's first row and second in the second");
        Assert.AreEqual(0.5, result.MaxAbs, 1e-6);
        Assert.AreEqual(Math.Sqrt(0.5 / 6), result.Rmse, 1e-6);
    }

    [TestMethod]
    public void NumericMetricsMatchTheirFormulas()
    {
        var accumulator = new MetricAccumulator();
        float[] original = [3, 4];
        float[] candidate = [3, 3];

        accumulator.Add(original, candidate, [2, 1], null);
        var result = accumulator.Result();

        Assert.IsNull(result.Agreement, "a last axis of 1 has no classes");
        Assert.AreEqual(21 / (5 * Math.Sqrt(18)), result.Cosine, 1e-12);
        Assert.AreEqual(1.0, result.MaxAbs);
        Assert.AreEqual(Math.Sqrt(0.5), result.Rmse, 1e-12);
        Assert.AreEqual(10 * Math.Log10(25), result.Snr, 1e-9);
    }

    [TestMethod]
    public void PerPositionOutputsAreScoredPerPosition()
    {
        var accumulator = new MetricAccumulator();
        float[] logits = [1, 0, 0, 1, 1, 0, 0, 1];

        accumulator.Add(logits, logits, [2, 2, 2], [0, 1, 1, 1]);
        var result = accumulator.Result();

        Assert.AreEqual(4L, result.Samples);
        Assert.AreEqual(0.75, result.Accuracy);
        Assert.AreEqual(1.0, result.Agreement);
    }

    [TestMethod]
    public void AOneChannelProbabilityMapIsScoredPerElementAtTheThreshold()
    {
        var accumulator = new MetricAccumulator(threshold: 0.5);
        // [1, 1, 2, 4]: the last axis is the image width, not classes.
        float[] original = [0.9f, 0.8f, 0.1f, 0.0f, 0.6f, 0.2f, 0.3f, 0.7f];
        float[] candidate = [0.9f, 0.4f, 0.1f, 0.0f, 0.6f, 0.6f, 0.3f, 0.7f];

        accumulator.Add(original, candidate, [1, 1, 2, 4], null);
        var result = accumulator.Result();

        Assert.IsTrue(result.IsDenseMap);
        Assert.AreEqual(6 / 8.0, result.ElementAgreement!.Value, 1e-12, "elements 1 and 5 cross the threshold");
        Assert.AreEqual(3 / 5.0, result.Iou!.Value, 1e-12, "above in both: 0, 4, 7; in either: 0, 1, 4, 5, 7");
        Assert.AreEqual(result.ElementAgreement, result.Get(Metric.ElementAgreement));
    }

    [TestMethod]
    public void LogitsOrSeveralChannelsAreNoProbabilityMap()
    {
        var logits = new MetricAccumulator();
        logits.Add([1.5f, -0.2f, 0.3f, 0.1f], [1.5f, -0.2f, 0.3f, 0.1f], [1, 1, 2, 2], null);
        var channels = new MetricAccumulator();
        channels.Add([0.1f, 0.2f, 0.3f, 0.4f], [0.1f, 0.2f, 0.3f, 0.4f], [1, 2, 1, 2], null);

        Assert.IsNull(logits.Result().ElementAgreement, "values outside 0-1");
        Assert.IsNull(channels.Result().Iou, "two channels");
    }
}
