using ModelShrink.Core.Plans;
using ModelShrink.Core.Budgets;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Validation;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Validation;

[TestClass]
public sealed class ProgressTests
{
    [TestMethod]
    public void ValidationReportsBatchesDoneOutOfTheKnownCount()
    {
        var lines = new Lines();

        ModelComparer.Compare(Fixtures.Model("digits-mlp"), Fixtures.Model("digits-mlp"), Path.Combine(Fixtures.Root, "digits-mlp"), progress: lines);

        Assert.HasCount(8, lines.All);
        Assert.AreEqual("validating: 1/8 batches, 32 samples (12%)", lines.All[0]);
        Assert.AreEqual("validating: 8/8 batches, 256 samples (100%)", lines.All[^1]);
    }

    [TestMethod]
    public void ManyBatchesGiveAboutTenLinesAndAnUnknownCountGivesPowersOfTwoAndTheEnd()
    {
        var known = new Lines();
        var tracker = new BatchProgress(known, 1000);
        for (var i = 0; i < 1000; i++)
        {
            tracker.Done(64);
        }

        tracker.Finish();
        var unknown = new Lines();
        tracker = new BatchProgress(unknown, null);
        for (var i = 0; i < 6; i++)
        {
            tracker.Done(50);
        }

        tracker.Finish();

        Assert.HasCount(11, known.All);
        Assert.AreEqual("validating: 1000/1000 batches, 64000 samples (100%)", known.All[^1]);
        CollectionAssert.AreEqual(new[]
        {
            "validating: 1 batches, 50 samples", "validating: 2 batches, 100 samples", "validating: 4 batches, 200 samples",
            "validating: 6 batches, 300 samples (done)",
        }, unknown.All);
    }

    [TestMethod]
    public void AJobReportsLoadingEachPassWritingAndValidating()
    {
        using var temp = new TempDirectory();
        var lines = new Lines();
        var settings = new JobSettings(new CompressionOptions { Quantize = QuantizeMode.Fp16 }, new SizeBudget(null, null), new AccuracyBudget(null, null, null),
            Path.Combine(Fixtures.Root, "digits-mlp"), new ValidationOptions());

        ModelShrink.Core.Search.CompressionRun.Run(Fixtures.Model("digits-mlp"), temp.File("out.onnx"), settings, "digits", progress: lines);

        // Fp16 with holdout data first measures the activations' float16 error (Fp16BlockSearch).
        Assert.AreEqual("fp16: measuring activation ranges on the holdout data", lines.All[0]);
        Assert.AreEqual($"compressing: loading {Fixtures.Model("digits-mlp")}", lines.All[1]);
        CollectionAssert.AreEqual(new[] { "compressing: pass 1/2 cleanup", "compressing: pass 2/2 fp16", "compressing: writing the result" }, lines.All[2..5]);
        Assert.AreEqual("validating: 8/8 batches, 256 samples (100%)", lines.All[^1]);
    }

    // Synchronous, unlike Progress<T>, which posts to the thread pool.
    private sealed class Lines : IProgress<string>
    {
        public List<string> All { get; } = [];

        public void Report(string value) => All.Add(value);
    }
}
