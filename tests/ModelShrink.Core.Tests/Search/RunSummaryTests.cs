using System.Globalization;
using System.Text.Json;
using ModelShrink.Core.Budgets;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Passes.Pruning;
using ModelShrink.Core.Plans;
using ModelShrink.Core.Reports;
using ModelShrink.Core.Reports.Html;
using ModelShrink.Core.Search;
using ModelShrink.Core.Validation;
using ModelShrink.Shared;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Search;

/// <summary>
/// The run's one sentence (JobResult.Summary, the report's summary) and a failed run's shortfall,
/// each from real runs on the fixtures: the sentence must name the chosen candidate and give each
/// other candidate's reason with the numbers that run measured.
/// </summary>
[TestClass]
public sealed class RunSummaryTests
{
    private static readonly string Mlp = Path.Combine(Fixtures.Root, "digits-mlp");
    private static readonly string Cnn = Path.Combine(Fixtures.Root, "digits-cnn");

    [TestMethod]
    public void AutoSaysWhichCandidateItChoseAndByHowMuchEachSmallerOneBrokeTheSizeBudget()
    {
        using var temp = new TempDirectory();
        // digits-cnn: int8 per-channel ~51KB, the int4+int8 mixed plan ~46KB, both lose no accuracy; 48KB lets only the mixed plan through.
        var settings = Settings(QuantizeMode.Auto, new SizeBudget(48 * 1024, null), new AccuracyBudget(0.005, null, null), Cnn);

        var result = CompressionRun.Run(Fixtures.Model("digits-cnn"), temp.File("out.onnx"), settings, "digits-cnn");

        Assert.IsFalse(result.Failed, result.Summary);
        var chosen = result.Candidates.Single(c => c.Name == result.ChosenName);
        StringAssert.StartsWith(result.Summary, $"Chose {chosen.Name} ({RunSummary.Facts(chosen.Result)}): ");
        StringAssert.StartsWith(chosen.Name, "mixed (");
        var int8 = result.Candidates.Single(c => c.Name == "int8 per-channel");
        Assert.IsFalse(int8.Fits);
        StringAssert.Contains(result.Summary, $"int8 per-channel broke MaxSize by {ByteSize.Format(int8.Result.Compression.CompressedBytes - 48 * 1024)}");
        Assert.IsNull(result.Shortfall);
        AssertLabelsApart(result);
    }

    [TestMethod]
    public void AFailedAutoSearchNamesTheClosestCandidateItsGapAndTheWaysOutInTheJsonAndTheReport()
    {
        using var temp = new TempDirectory();
        var settings = Settings(QuantizeMode.Auto, new SizeBudget(30 * 1024, null), new AccuracyBudget(0.005, null, null), Cnn);

        var result = CompressionRun.Run(Fixtures.Model("digits-cnn"), temp.File("out.onnx"), settings, "digits-cnn");

        Assert.IsTrue(result.Failed);
        var smallest = result.Candidates.Where(c => c.Applies).MinBy(c => c.Result.Compression.CompressedBytes)!;
        var shortfall = result.Shortfall!;
        Assert.AreEqual(smallest.Name, shortfall.Candidate, "every candidate broke MaxSize alone: the smallest is the closest");
        var miss = shortfall.Missed.Single();
        Assert.AreEqual("MaxSize", miss.Setting);
        Assert.AreEqual(30 * 1024, miss.Limit);
        Assert.AreEqual(smallest.Result.Compression.CompressedBytes, miss.Reached);
        Assert.AreEqual(smallest.Result.Compression.CompressedBytes - 30 * 1024, miss.Over);
        StringAssert.StartsWith(result.Summary, $"Wrote nothing: none of the {result.Candidates.Count} candidates is within every budget; the closest, {smallest.Name} (");
        StringAssert.Contains(result.Summary, $"broke MaxSize by {ByteSize.Format(smallest.Result.Compression.CompressedBytes - 30 * 1024)}");
        Assert.AreEqual($"MaxSize={ByteSize.FormatAtLeast(smallest.Result.Compression.CompressedBytes)} lets {smallest.Name} ({ByteSize.Format(smallest.Result.Compression.CompressedBytes)}) through", shortfall.WaysOut[0]);
        Assert.AreEqual("BudgetSeverity=Warning to place it anyway", shortfall.WaysOut[^1]);

        // The same in report.json and report.html, not only in the error line.
        var report = ReportBuilder.ForJob("digits-cnn", settings, result, TimeSpan.FromSeconds(1), temp.File("out.onnx"));
        using var json = JsonDocument.Parse(ReportJson.Serialize(report));
        Assert.AreEqual(result.Summary, json.RootElement.GetProperty("summary").GetString());
        var missed = json.RootElement.GetProperty("shortfall").GetProperty("missed")[0];
        Assert.AreEqual(smallest.Result.Compression.CompressedBytes - 30 * 1024, missed.GetProperty("over").GetDouble());
        Assert.AreEqual(shortfall.WaysOut.Count, json.RootElement.GetProperty("shortfall").GetProperty("waysOut").GetArrayLength());
        var html = ReportHtml.Render(report);
        StringAssert.Contains(html, $"<section id=\"shortfall\" data-candidate=\"{System.Net.WebUtility.HtmlEncode(smallest.Name)}\">");
        StringAssert.Contains(html, $"data-setting=\"MaxSize\" data-limit=\"30720\" data-reached=\"{smallest.Result.Compression.CompressedBytes}\" data-over=\"{smallest.Result.Compression.CompressedBytes - 30 * 1024}\"");
        StringAssert.Contains(html, "<li>BudgetSeverity=Warning to place it anyway</li>");
        StringAssert.Contains(html, $"<p id=\"summary\" class=\"summary\">{System.Net.WebUtility.HtmlEncode(result.Summary)}</p>");
        AssertLabelsApart(result);
    }

    [TestMethod]
    public void APlainRunSaysWhatItDidAndThatItsBudgetsHeld()
    {
        using var temp = new TempDirectory();
        var settings = Settings(QuantizeMode.Int8, new SizeBudget(60 * 1024, null), new AccuracyBudget(0.01, null, null), Mlp);

        var result = CompressionRun.Run(Fixtures.Model("digits-mlp"), temp.File("out.onnx"), settings, "digits-mlp");

        Assert.IsFalse(result.Failed);
        var ratio = result.Compression.SizeRatio.ToString("0.00", CultureInfo.InvariantCulture);
        Assert.AreEqual($"Did int8 per-channel ({ratio}x the size, Accuracy unchanged); every budget held (MaxSize 60KB, MaxAccuracyDrop 1.0 pt)", result.Summary);
        Assert.AreEqual(0, AccuracyBudget.Drop(result.Validation!), 1e-9, "digits-mlp loses no accuracy at int8");
        Assert.IsNull(result.Shortfall);
    }

    [TestMethod]
    public void AFailedPlainRunSaysHowFarOverItWasAndWhatToTry()
    {
        using var temp = new TempDirectory();
        var settings = Settings(QuantizeMode.Int8, new SizeBudget(40 * 1024, null), new AccuracyBudget(null, null, null), null);

        var result = CompressionRun.Run(Fixtures.Model("digits-mlp"), temp.File("out.onnx"), settings, "digits-mlp");

        Assert.IsTrue(result.Failed);
        var bytes = result.Compression.CompressedBytes;
        var ratio = result.Compression.SizeRatio.ToString("0.00", CultureInfo.InvariantCulture);
        Assert.AreEqual($"Wrote nothing: int8 per-channel ({ratio}x the size) broke MaxSize by {ByteSize.Format(bytes - 40 * 1024)}", result.Summary);
        Assert.AreEqual("int8 per-channel", result.Shortfall!.Candidate);
        Assert.AreEqual(bytes - 40 * 1024, result.Shortfall.Missed.Single().Over);
        CollectionAssert.AreEqual(new[]
        {
            $"MaxSize={ByteSize.FormatAtLeast(bytes)} lets int8 per-channel ({ByteSize.Format(bytes)}) through",
            "Prune=0.5 with PruneMode=channels (whole channels go)",
            "BudgetSeverity=Warning to place it anyway",
        }, result.Shortfall.WaysOut.ToArray());
    }

    [TestMethod]
    public void PruneAutoSaysWhichSparsityItChoseAndByHowManyPointsTheNextOneMissed()
    {
        using var temp = new TempDirectory();
        var settings = Settings(QuantizeMode.None, new SizeBudget(null, null), new AccuracyBudget(0.01, null, null), Mlp) is var s
            ? s with { Compression = s.Compression with { Prune = new PruneOptions { Auto = true } } }
            : null!;

        var result = CompressionRun.Run(Fixtures.Model("digits-mlp"), temp.File("out.onnx"), settings, "digits-mlp");

        // The sweep on this fixture: 0.8 loses 0.8 points, 0.9 about 3.9.
        Assert.AreEqual("pruned 0.8 (magnitude) + float32", result.ChosenName);
        StringAssert.StartsWith(result.Summary, $"Chose pruned 0.8 (magnitude) + float32 ({RunSummary.Facts(result)}): ");
        var next = result.Candidates.Single(c => c.Name == "pruned 0.9 (magnitude) + float32");
        var over = (AccuracyBudget.Drop(next.Result.Validation!) - 0.01) * 100;
        StringAssert.Contains(result.Summary, $"pruned 0.9 (magnitude) + float32 broke MaxAccuracyDrop by {over.ToString("0.0#", CultureInfo.InvariantCulture)} pt");
        StringAssert.Contains(result.Summary, "were larger");
        AssertLabelsApart(result);
    }

    [TestMethod]
    public void ChartNamesLeaveOutWhatEveryCandidateSharesAndNeverReadAlike()
    {
        string[] names = ["pruned 0.5 (magnitude) + int8 per-channel + no reconstruction", "pruned 0.5 (magnitude) + int8 per-channel + bias correction",
            "pruned 0.5 (magnitude) + int8 per-channel + layerwise reconstruction"];
        string[] mixed = ["mixed (2 int4, 1 int8 per-channel, 3 int8 per-tensor, 1 float32)", "mixed (2 int4, 1 int8 per-channel, 3 int8 per-tensor, 2 float32)"];

        var shown = ReportHtml.ChartNames(names, 20, out var common);
        var cut = ReportHtml.ChartNames(mixed, 20, out var none);

        Assert.AreEqual("pruned 0.5 (magnitude) + int8 per-channel", common);
        // A label still too long is cut in the middle: its end (what tells it apart) stays.
        CollectionAssert.AreEqual(new[] { "no reconstruction", "bias correction", "layerwise\u2026nstruction" }, shown.Values.ToArray());
        Assert.AreEqual("", none);
        Assert.AreEqual(2, cut.Values.Distinct().Count(), string.Join(" | ", cut.Values));
        Assert.IsTrue(cut.Values.All(v => v.Length <= 20), string.Join(" | ", cut.Values));
    }

    // Every label unique, and none the beginning of another (so neither a reader nor a cut chart label confuses two).
    private static void AssertLabelsApart(JobResult result)
    {
        var names = result.Candidates.Select(c => c.Name).ToArray();
        Assert.AreEqual(names.Length, names.Distinct(StringComparer.Ordinal).Count(), string.Join(" | ", names));
        foreach (var a in names)
        {
            Assert.IsFalse(names.Any(b => b != a && b.StartsWith(a, StringComparison.Ordinal)), $"'{a}' begins another label: {string.Join(" | ", names)}");
        }
    }

    private static JobSettings Settings(QuantizeMode quantize, SizeBudget size, AccuracyBudget accuracy, string? holdout) =>
        new(new CompressionOptions { Quantize = quantize }, size, accuracy, holdout, new ValidationOptions());
}
