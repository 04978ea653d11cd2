using ModelShrink.Core.Plans;
using System.Globalization;
using ModelShrink.Core.Budgets;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Passes.Pruning;
using ModelShrink.Core.Passes.Reconstruction;
using ModelShrink.Core.Search;
using ModelShrink.Core.Validation;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Search;

/// <summary>
/// The searches add layer-wise reconstruction to a candidate that missed only the accuracy budget,
/// when reconstruction data of its own is named (never the holdout the candidate is judged on).
/// digits-transformer, fitted on holdout sets 0-3 and judged on sets 4-7.
/// </summary>
[TestClass]
public sealed class ReconstructionSearchTests
{
    private const string Fixture = "digits-transformer";

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow("/data/holdout", "/data/holdout", true)]
    [DataRow("/data/holdout/", "/data/holdout", true)]
    [DataRow("/data/holdout/test_data_set_0", "/data/holdout", true)]
    [DataRow("/data", "/data/holdout", true)]
    [DataRow("/data/calibration", "/data/holdout", false)]
    [DataRow("/data/holdout-2", "/data/holdout", false)]
    public void DataOverlappingTheHoldoutIsNeverUsedToReconstructInASearch(string data, string holdout, bool overlaps)
    {
        var options = new CompressionOptions { Quantize = QuantizeMode.Int4, ReconstructData = data };
        var settings = new JobSettings(options, new SizeBudget(null, null), new AccuracyBudget(null, null, 0.999), holdout, new ValidationOptions(null, null));

        Assert.AreEqual(overlaps, ReconstructionChoice.FitsOnHoldout(settings, options));
        Assert.AreEqual(overlaps, ReconstructionChoice.Layerwise(settings, options) is null);
    }

    [TestMethod]
    public void AutoRetriesInt4WithLayerwiseReconstructionWhenItMissesOnlyTheAccuracyBudget()
    {
        using var temp = new TempDirectory();
        var (calibration, heldOut) = Fixtures.SplitHoldout(Fixture, temp.Path);
        var options = new CompressionOptions { Quantize = QuantizeMode.Auto, ReconstructData = calibration };

        var result = ModelShrink.Core.Search.CompressionRun.Run(Fixtures.Model(Fixture), temp.File("out.onnx"), Settings(options, 0.999, heldOut), Fixture);
        Log(result);

        // Plain int4 (cosine about 0.997 here) misses 0.999; the same int4 with GPTQ (about 0.9992) fits.
        Assert.IsFalse(result.Failed, string.Join("; ", result.Diagnostics));
        var names = result.Candidates.Select(c => c.Name).ToList();
        Assert.IsLessThan(names.IndexOf("int4 + layerwise reconstruction"), names.IndexOf("int4 + no reconstruction"), "the retry follows the plain modes");
        var (plain, reconstructed) = (result.Candidates.Single(c => c.Name == "int4 + no reconstruction"), result.Candidates.Single(c => c.Name == "int4 + layerwise reconstruction"));
        Assert.IsFalse(plain.Fits);
        Assert.AreEqual("MinCosine", plain.Result.Diagnostics.Single(d => d.Severity == ModelShrink.Onnx.Diagnostics.DiagnosticSeverity.Error).Setting);
        Assert.IsTrue(reconstructed.Fits);
        Assert.AreEqual(ReconstructMode.Layerwise, reconstructed.Options.Reconstruct);
        Assert.AreEqual(calibration, reconstructed.Options.ReconstructData);
        Assert.IsLessThan(0.999, plain.Result.Validation!.Values.Cosine);
        // Not "the smallest fitting wins" outright: a CI run on the loaded 2-core VM once measured the smallest over 1.1x the original's latency.
        AutoSearchTests.AssertSmallestWinsUnlessSlower(result);

        Assert.AreEqual(ReconstructMode.Layerwise, result.Candidates.Single(c => c.Name == result.ChosenName).Options.Reconstruct, "with reconstruction data of its own every fitting candidate here reconstructs");
        CollectionAssert.Contains(result.Compression.Passes.Select(p => p.Pass).ToArray(), "capture-layer-inputs");

        // Measured again, apart from the engine: the written model through ONNX Runtime on the held-out sets.
        var cosine = OrtRunner.Cosine(Fixtures.Model(Fixture), temp.File("out.onnx"), heldOut);
        TestContext.WriteLine(string.Create(CultureInfo.InvariantCulture, $"written model: ORT cosine {cosine:0.######}"));
        Assert.IsGreaterThanOrEqualTo(0.999, cosine);
        Assert.AreEqual(result.Validation!.Values.Cosine, cosine, 1e-5);
    }

    [TestMethod]
    public void AutoNeverReconstructsOnTheHoldoutItIsJudgedOn()
    {
        using var temp = new TempDirectory();
        var (_, heldOut) = Fixtures.SplitHoldout(Fixture, temp.Path);
        // The same folder, spelled with a trailing separator.
        var options = new CompressionOptions { Quantize = QuantizeMode.Auto, ReconstructData = heldOut + Path.DirectorySeparatorChar };

        var result = ModelShrink.Core.Search.CompressionRun.Run(Fixtures.Model(Fixture), temp.File("out.onnx"), Settings(options, 0.999, heldOut), Fixture);
        Log(result);

        Assert.AreEqual("int4", result.Candidates[0].Name, "reconstruction data that is the holdout: no label names a reconstruction");
        Assert.IsFalse(result.Candidates[0].Fits);
        Assert.IsTrue(result.Candidates.All(c => c.Options.Reconstruct == ReconstructMode.None), "no candidate reconstructs");
        Assert.IsFalse(result.Candidates.Any(c => c.Name.Contains("reconstruction", StringComparison.Ordinal)));
        Assert.IsFalse(result.Compression.Passes.Any(p => p.Pass == "capture-layer-inputs"));
    }

    [TestMethod]
    public void PruneAutoGoesHigherWithSeparateReconstructionDataAndTheFinalRunKeepsTheReconstruction()
    {
        using var temp = new TempDirectory();
        var (calibration, heldOut) = Fixtures.SplitHoldout(Fixture, temp.Path);
        var prune = new CompressionOptions { Prune = new PruneOptions { Auto = true } };
        const double MinCosine = 0.95;

        var without = ModelShrink.Core.Search.CompressionRun.Run(Fixtures.Model(Fixture), temp.File("without.onnx"), Settings(prune, MinCosine, heldOut), Fixture);
        var with = ModelShrink.Core.Search.CompressionRun.Run(Fixtures.Model(Fixture), temp.File("with.onnx"), Settings(prune with { ReconstructData = calibration }, MinCosine, heldOut), Fixture);
        Log(without);
        Log(with);

        // Each search chose the highest level among its fitting trials.
        foreach (var result in new[] { without, with })
        {
            Assert.IsFalse(result.Failed, string.Join("; ", result.Diagnostics));
            Assert.AreEqual(result.Candidates.Where(c => c.Fits).Max(c => c.Options.Prune!.Sparsity), result.ChosenSparsity!.Value, 1e-9);
            Assert.IsGreaterThanOrEqualTo(MinCosine, result.Validation!.Values.Cosine);
        }

        // Without reconstruction data nothing is reconstructed; with it, every level that failed plain was retried with SparseGPT.
        Assert.IsTrue(without.Candidates.All(c => c.Options.Reconstruct == ReconstructMode.None));
        Assert.IsFalse(without.Compression.Passes.Any(p => p.Pass == "capture-layer-inputs"));
        var plainFailures = with.Candidates.Select((c, i) => (c, i)).Where(p => p.c.Options.Reconstruct == ReconstructMode.None && !p.c.Fits).ToArray();
        Assert.IsNotEmpty(plainFailures);
        foreach (var (failed, index) in plainFailures)
        {
            var retry = with.Candidates[index + 1];
            Assert.AreEqual(failed.Name.Replace(" + no reconstruction", " + layerwise reconstruction", StringComparison.Ordinal), retry.Name);
            Assert.AreEqual(failed.Options.Prune!.Sparsity, retry.Options.Prune!.Sparsity);
        }

        // Observed here at cosine 0.95: 0.4 without (0.5 gives 0.923), 0.6 with (0.958 with SparseGPT; 0.7 gives 0.865).
        Assert.IsGreaterThan(without.ChosenSparsity!.Value, with.ChosenSparsity!.Value);
        var chosen = with.Candidates.Last(c => c.Fits && c.Options.Prune!.Sparsity == with.ChosenSparsity);
        Assert.AreEqual(ReconstructMode.Layerwise, chosen.Options.Reconstruct, "the chosen level fitted only with reconstruction");
        var passes = with.Compression.Passes.Select(p => p.Pass).ToArray();
        CollectionAssert.Contains(passes, "capture-layer-inputs");
        CollectionAssert.Contains(passes, "prune");
        Assert.AreEqual(chosen.Result.Validation!.Values.Cosine, with.Validation!.Values.Cosine, 1e-9, "the final run is the trial that fitted");
        Assert.IsGreaterThanOrEqualTo(MinCosine, OrtRunner.Cosine(Fixtures.Model(Fixture), temp.File("with.onnx"), heldOut));
    }

    private static JobSettings Settings(CompressionOptions options, double minCosine, string holdout) =>
        new(options, new SizeBudget(null, null), new AccuracyBudget(null, null, minCosine), holdout, new ValidationOptions());

    private void Log(JobResult result)
    {
        foreach (var c in result.Candidates)
        {
            TestContext.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{c.Name}: cosine {c.Result.Validation?.Values.Cosine:0.######}, {(c.Fits ? "fits" : "fails")}, {c.Result.Compression.CompressedBytes} B"));
        }

        TestContext.WriteLine(string.Create(CultureInfo.InvariantCulture, $"chosen {result.Chosen} sparsity {result.ChosenSparsity}, cosine {result.Validation?.Values.Cosine:0.######}"));
    }
}
