using ModelShrink.Core.Plans;
using ModelShrink.Core.Budgets;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Passes.Pruning;
using ModelShrink.Core.Validation;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Search;

[TestClass]
public sealed class PruneSearchTests
{
    [TestMethod]
    public void PruneAutoPicksTheHighestSparsityWithinTheAccuracyBudget()
    {
        using var temp = new TempDirectory();
        var settings = Settings(new PruneOptions { Auto = true }, QuantizeMode.None);

        var result = ModelShrink.Core.Search.CompressionRun.Run(Fixtures.Model("digits-mlp"), temp.File("out.onnx"), settings, "digits-mlp");

        // The sweep on this fixture: 0.8 loses 0.8 points of accuracy, 0.9 loses 3.9.
        Assert.IsFalse(result.Failed);
        Assert.AreEqual(0.8, result.ChosenSparsity!.Value, 1e-9);
        // A binary search over the 10 levels: about four trials, among them the two that decide.
        CollectionAssert.IsSubsetOf(new[] { "pruned 0.8 (magnitude) + float32", "pruned 0.9 (magnitude) + float32" }, result.Candidates.Select(c => c.Name).ToArray());
        Assert.IsLessThanOrEqualTo(5, result.Candidates.Count);
        Assert.IsFalse(result.Candidates.Single(c => c.Name == "pruned 0.9 (magnitude) + float32").Fits);
        Assert.IsLessThanOrEqualTo(0.01, AccuracyBudget.Drop(result.Validation!));
        var prune = result.Compression.Passes.Single(p => p.Pass == "prune");
        Assert.IsGreaterThan(0L, prune.Result.Counters.Values.Max());
    }

    [TestMethod]
    public void PruneAutoThenInt8RunsInOneJob()
    {
        using var temp = new TempDirectory();

        var result = ModelShrink.Core.Search.CompressionRun.Run(Fixtures.Model("digits-mlp"), temp.File("out.onnx"), Settings(new PruneOptions { Auto = true }, QuantizeMode.Int8), "digits-mlp");

        Assert.IsFalse(result.Failed);
        CollectionAssert.AreEqual(new[] { "cleanup", "prune", "int8-dynamic", "sparse-storage" }, result.Compression.Passes.Select(p => p.Pass).ToArray());
        Assert.IsGreaterThanOrEqualTo(0.5, result.ChosenSparsity!.Value);
        Assert.IsLessThan(0.3, result.Compression.SizeRatio);
    }

    [TestMethod]
    public void PruneAutoWithoutHoldoutOrBudgetIsRefused()
    {
        using var temp = new TempDirectory();
        var noBudget = Settings(new PruneOptions { Auto = true }, QuantizeMode.None) with { Accuracy = new AccuracyBudget(null, null, null) };

        var error = Assert.ThrowsExactly<ModelShrinkException>(() => ModelShrink.Core.Search.CompressionRun.Run(Fixtures.Model("digits-mlp"), temp.File("out.onnx"), noBudget, "digits-mlp"));

        Assert.AreEqual(ErrorCodes.InvalidMetadata, error.Diagnostic.Code);
        Assert.AreEqual("Prune", error.Diagnostic.Setting);
    }

    [TestMethod]
    public void AutoIsASparsityForMagnitudeAndChannelsButNotForNm()
    {
        static Exception Invalid(string setting, string message) => new ArgumentException($"{setting}: {message}");

        Assert.IsTrue(PruneModeText.FromSettings("auto", "channels", "Prune", "PruneMode", Invalid)!.Auto);
        Assert.IsTrue(PruneModeText.FromSettings("AUTO", null, "Prune", "PruneMode", Invalid)!.Auto);
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => PruneModeText.FromSettings("auto", "nm:2:4", "Prune", "PruneMode", Invalid)).Message, "fixes its sparsity");
    }

    private static JobSettings Settings(PruneOptions prune, QuantizeMode quantize) => new(
        new CompressionOptions { Quantize = quantize, Prune = prune },
        new SizeBudget(null, null),
        new AccuracyBudget(0.01, null, null),
        Path.Combine(Fixtures.Root, "digits-mlp"),
        new ValidationOptions());
}
