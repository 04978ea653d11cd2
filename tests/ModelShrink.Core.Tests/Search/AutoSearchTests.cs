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

        // digits-mlp has Gemm weights only: int4 (MatMul weights) does not apply; int8 keeps the accuracy.
        Assert.IsFalse(result.Failed);
        Assert.AreEqual(QuantizeMode.Int8, result.Chosen);
        CollectionAssert.AreEqual(new[] { "Int4", "Int8" }, result.Candidates.Select(c => c.Name).ToArray());
        Assert.IsFalse(result.Candidates[0].Applies);
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
        CollectionAssert.AreEqual(new[] { "Int4", "Int8", "Fp16", "None" }, result.Candidates.Select(c => c.Name).Where(n => !n.Contains('(')).ToArray());
        Assert.IsTrue(result.Candidates.Any(c => c.Name.StartsWith("Int8 (", StringComparison.Ordinal)), "int8 first tried keeping sensitive layers float");
        Assert.IsFalse(result.Candidates.Single(c => c.Name == "Fp16").Fits);
        Assert.AreEqual(ErrorCodes.CosineBelowMinimum, result.Candidates.Single(c => c.Name == "Fp16").Result.Diagnostics.Single().Code);
        Assert.AreEqual(1.0, result.Validation!.Values.Cosine, 1e-12);
    }

    [TestMethod]
    public void WhenNothingFitsTheErrorGivesTheBestSizeAndMetricAndTheFailedBudgets()
    {
        using var temp = new TempDirectory();
        var settings = Settings(new AccuracyBudget(null, null, 1.0), Holdout) with { Size = new SizeBudget(10_000, null) };

        var result = CompressionJob.Run(Fixtures.Model("digits-mlp"), temp.File("out.onnx"), settings, "digits-mlp");
        var error = new { Diagnostic = result.Diagnostics.Single() };

        Assert.IsTrue(result.Failed);
        Assert.IsNull(result.Chosen);
        Assert.IsTrue(result.Candidates.Count >= 4, "every candidate stays in the result for the report");
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

[TestClass]
public sealed class SensitivitySearchTests
{
    private static readonly string Holdout = Path.Combine(Fixtures.Root, "digits-cnn");

    [TestMethod]
    public void LayersAreRankedByTheDamageEachDoesAlone()
    {
        using var temp = new TempDirectory();
        var settings = new JobSettings(new CompressionOptions { Quantize = QuantizeMode.Int8 }, new SizeBudget(null, null), new AccuracyBudget(null, null, null), Holdout, new ValidationOptions(Metric: ModelShrink.Core.Validation.Metrics.Metric.Cosine));

        var ranked = ModelShrink.Core.Search.SensitivityAnalysis.Rank(Fixtures.Model("digits-cnn"), temp.Path, settings, "digits-cnn", default);

        Assert.HasCount(5, ranked, "3 Conv and 2 Gemm layers");
        CollectionAssert.AreEquivalent(new[] { "Conv", "Conv", "Conv", "Gemm", "Gemm" }, ranked.Select(r => r.OpType).ToArray());
        Assert.IsTrue(ranked.Zip(ranked.Skip(1)).All(p => p.First.Drop >= p.Second.Drop), "most sensitive first");
        Assert.IsTrue(ranked.All(r => r.Drop >= 0 && r.Drop < 0.01), "each layer alone costs a little cosine");
    }

    [TestMethod]
    public void WhenInt8BreaksTheBudgetTheMostSensitiveLayerIsKeptFloatAndTheResultStaysInt8()
    {
        using var temp = new TempDirectory();
        var int8 = new CompressionOptions { Quantize = QuantizeMode.Int8 };
        var probe = new JobSettings(int8, new SizeBudget(null, null), new AccuracyBudget(null, null, null), Holdout, new ValidationOptions(Metric: ModelShrink.Core.Validation.Metrics.Metric.Cosine));
        var ranked = ModelShrink.Core.Search.SensitivityAnalysis.Rank(Fixtures.Model("digits-cnn"), temp.Path, probe, "digits-cnn", default);
        var full = CompressionJob.Run(Fixtures.Model("digits-cnn"), temp.File("full.onnx"), probe, "digits-cnn").Validation!.Value;
        var oneFloat = CompressionJob.Run(Fixtures.Model("digits-cnn"), temp.File("one.onnx"),
            probe with { Compression = ModelShrink.Core.Search.SensitivityAnalysis.Excluding(int8, [ranked[0].Layer]) }, "digits-cnn").Validation!.Value;
        Assert.IsGreaterThan(full, oneFloat, "keeping the most sensitive layer float must help");

        var auto = probe with { Compression = new CompressionOptions { Quantize = QuantizeMode.Auto }, Accuracy = new AccuracyBudget(null, null, (full + oneFloat) / 2) };
        var result = CompressionJob.Run(Fixtures.Model("digits-cnn"), temp.File("out.onnx"), auto, "digits-cnn");

        Assert.AreEqual(QuantizeMode.Int8, result.Chosen);
        CollectionAssert.AreEqual(new[] { ranked[0].Layer }, result.KeptFloat.ToArray());
        Assert.AreEqual("Int8 (1 layer float)", result.Candidates[^1].Name);
        Assert.HasCount(5, result.Sensitivity);
        Assert.IsGreaterThanOrEqualTo((full + oneFloat) / 2, result.Validation!.Values.Cosine);
    }
}
