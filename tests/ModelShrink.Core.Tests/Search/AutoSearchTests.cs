using ModelShrink.Core.Budgets;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Validation;
using ModelShrink.Diagnostics;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Search;

[TestClass]
public sealed class AutoSearchTests
{
    private static readonly string Holdout = Path.Combine(Fixtures.Root, "digits-mlp");

    [TestMethod]
    public void TheSmallestCandidateWithinTheBudgetsWinsAndTheSearchStopsThere()
    {
        using var temp = new TempDirectory();

        var result = CompressionJob.Run(Fixtures.Model("digits-mlp"), temp.File("out.onnx"), Settings(new AccuracyBudget(0.01, null, null), Holdout), "digits-mlp");

        Assert.IsFalse(result.Failed);
        Assert.AreEqual(QuantizeMode.Fp16, result.Chosen);
        Assert.AreEqual(PipelineFactory.SupportedModes.Contains(QuantizeMode.Int8) ? 2 : 1, result.Candidates.Count);
        Assert.AreEqual(new FileInfo(temp.File("out.onnx")).Length, result.Compression.CompressedBytes);
        Assert.IsLessThanOrEqualTo(0.01, AccuracyBudget.Drop(result.Validation!));
        Assert.IsEmpty(Directory.GetDirectories(temp.Path), "the search's scratch folder is gone");
    }

    [TestMethod]
    public void ACandidateThatBreaksTheAccuracyBudgetGivesWayToTheNextLargest()
    {
        using var temp = new TempDirectory();

        var result = CompressionJob.Run(Fixtures.Model("digits-mlp"), temp.File("out.onnx"), Settings(new AccuracyBudget(null, null, 1.0), Holdout), "digits-mlp");

        Assert.AreEqual(QuantizeMode.None, result.Chosen);
        CollectionAssert.AreEqual(new[] { "Fp16", "None" }, result.Candidates.Select(c => c.Name).Where(n => n is "Fp16" or "None").ToArray());
        Assert.IsFalse(result.Candidates.Single(c => c.Name == "Fp16").Fits);
        Assert.AreEqual(ErrorCodes.CosineBelowMinimum, result.Candidates.Single(c => c.Name == "Fp16").Result.Diagnostics.Single().Code);
        Assert.AreEqual(1.0, result.Validation!.Values.Cosine, 1e-12);
    }

    [TestMethod]
    public void WhenNothingFitsTheErrorGivesTheBestSizeAndMetricAndTheFailedBudgets()
    {
        using var temp = new TempDirectory();
        var settings = Settings(new AccuracyBudget(null, null, 1.0), Holdout) with { Size = new SizeBudget(10_000, null) };

        var error = Assert.ThrowsExactly<ModelShrinkException>(() => CompressionJob.Run(Fixtures.Model("digits-mlp"), temp.File("out.onnx"), settings, "digits-mlp"));

        Assert.AreEqual(ErrorCodes.SearchFoundNothing, error.Diagnostic.Code);
        StringAssert.Contains(error.Diagnostic.Message, "no candidate fits the budgets: tried ");
        StringAssert.Matches(error.Diagnostic.Message, new System.Text.RegularExpressions.Regex(@"smallest \d+(\.\d+)?KB \((Int4|Int8|Fp16)\)"));
        StringAssert.Contains(error.Diagnostic.Message, "best Accuracy 0.9844");
        StringAssert.Contains(error.Diagnostic.Message, "failed: MaxSize, MinCosine");
        Assert.IsFalse(File.Exists(temp.File("out.onnx")));
    }

    [TestMethod]
    public void WithoutHoldoutDataTheChoiceIsBySizeAndSaysSo()
    {
        using var temp = new TempDirectory();

        var result = CompressionJob.Run(Fixtures.Model("digits-mlp"), temp.File("out.onnx"), Settings(new AccuracyBudget(null, null, null), null), "digits-mlp");

        Assert.IsNull(result.Validation);
        Assert.AreEqual(ErrorCodes.SearchUnvalidated, result.Diagnostics.Single(d => d.Code.StartsWith("MSH41")).Code);
    }

    private static JobSettings Settings(AccuracyBudget accuracy, string? holdout) => new(
        new CompressionOptions { Quantize = QuantizeMode.Auto },
        new SizeBudget(null, null),
        accuracy,
        holdout,
        new ValidationOptions());
}
