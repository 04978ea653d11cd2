using System.Text.RegularExpressions;
using ModelShrink.Testing;

namespace ModelShrink.Build.Tests;

/// <summary>
/// tests/ModelShrink.Benchmarks runs in its minimal modes (each report with --quick, every BenchmarkDotNet
/// class with a dry job on a small generated model), so that a benchmark that breaks, or that would time
/// a failure, fails CI.
/// </summary>
[TestClass]
public sealed partial class BenchmarkProjectTests
{
    [TestMethod]
    public void QuantizationReportQuickMeasuresEveryVariantOfTheTransformerFixture()
    {
        var result = Benchmarks("report", "--quick");

        Assert.AreEqual(0, result.ExitCode, result.Output);
        var rows = Rows(result.Output, "digits-transformer");
        Assert.HasCount(8, rows, result.Output);
        Assert.AreEqual(7, rows.Count(r => MeasuredRow().IsMatch(r)), result.Output);
    }

    [TestMethod]
    public void StaticQuantizationReportQuickMeasuresEveryVariantOfTheMlpFixture()
    {
        var result = Benchmarks("static", "--quick");

        Assert.AreEqual(0, result.ExitCode, result.Output);
        var rows = Rows(result.Output, "digits-mlp");
        Assert.HasCount(6, rows, result.Output);
        Assert.IsTrue(rows.All(r => MeasuredRow().IsMatch(r)), result.Output);
    }

    [TestMethod]
    public void ReconstructionReportQuickComparesThreeReconstructionsOfEveryConfiguration()
    {
        var result = Benchmarks("reconstruct", "--quick");

        Assert.AreEqual(0, result.ExitCode, result.Output);
        var rows = Rows(result.Output, "digits-mlp");
        // Seven configurations: int4 changes nothing on the MLP's Gemm layers (one row), the six others
        // compare none, bias and layerwise.
        Assert.HasCount(1 + (6 * 3), rows, result.Output);
        StringAssert.Contains(rows[0], "| int4 (block 32) | changes nothing |");
    }

    [TestMethod]
    public void ChannelPruningReportQuickPrunesByNormsAndOnDataWithMeasuredLatency()
    {
        var result = Benchmarks("channels", "--quick");

        Assert.AreEqual(0, result.ExitCode, result.Output);
        var rows = Rows(result.Output, "digits-mlp");
        Assert.HasCount(2, rows, result.Output);
        StringAssert.Contains(rows[0], "| weight norms |");
        StringAssert.Contains(rows[1], "| data, refit |");
        // Parameters removed and a latency ratio, both measured.
        Assert.IsTrue(rows.All(r => ChannelRow().IsMatch(r)), result.Output);
    }

    [GeneratedRegex(@"\| [1-9][0-9.]* % \| [0-9]+\.[0-9]{2} \|")]
    private static partial Regex ChannelRow();

    [TestMethod]
    public void DataPassReportQuickTimesEveryPassAgainstAPlainInferencePass()
    {
        var result = Benchmarks("data-passes", "--quick");

        Assert.AreEqual(0, result.ExitCode, result.Output);
        var rows = Rows(result.Output, "digits-cnn");
        Assert.HasCount(1, rows, result.Output);
        // Samples, the baseline in seconds, then six passes each in seconds with its ratio to the baseline.
        StringAssert.Matches(rows[0], DataPassRow());
    }

    [TestMethod]
    public void OrtOptimizedOpsListsTheOperatorsOnnxRuntimeRuns()
    {
        var result = Benchmarks("ort-ops", "--quick");

        Assert.AreEqual(0, result.ExitCode, result.Output);
        StringAssert.Matches(result.Output, new Regex(@"digits-transformer/model\.onnx: .*\bMatMul \d+"));
    }

    [TestMethod]
    public void AReportFailsWhenTheModelItIsNamedIsMissing()
    {
        // Before, a missing model was left out silently: an empty table and exit code 0.
        var result = Benchmarks("report", "--quick", "no-such-model");

        Assert.AreEqual(1, result.ExitCode, result.Output);
        StringAssert.Contains(result.Output, "benchmark failed: no-such-model: no model at ");
    }

    [TestMethod]
    public void EveryBenchmarkDotNetClassRunsOnceOnASmallModelAndChecksItsOutput()
    {
        using var artifacts = new TempDirectory();

        var result = Benchmarks("--filter", "*", "--job", "dry", "--inProcess", "--artifacts", artifacts.Path);

        Assert.AreEqual(0, result.ExitCode, result.Output);
        // On the generated model: ModelIo 3, Pruning 5, Quantization 4 (each with the baseline copy); structured
        // pruning 2 methods × 2 fixtures × 2 batches; reconstruction 5 methods × 4 widths.
        var executed = Regex.Matches(result.Output, @"executed benchmarks: (\d+)").Select(m => int.Parse(m.Groups[1].Value)).Last();
        Assert.AreEqual(3 + 5 + 4 + 8 + 20, executed, result.Output);
        Assert.DoesNotContain("ERROR", result.Output);
    }

    [TestMethod]
    public void ABenchmarkDotNetRunThatMatchesNoBenchmarkFails()
    {
        using var artifacts = new TempDirectory();

        var result = Benchmarks("--filter", "*NoSuchBenchmark*", "--job", "dry", "--inProcess", "--artifacts", artifacts.Path);

        Assert.AreEqual(1, result.ExitCode, result.Output);
        StringAssert.Contains(result.Output, "benchmark failed: no benchmark ran (check the --filter)");
    }

    // A report's rows for one model (the header and the separator start with "| model" and "| ---").
    private static string[] Rows(string output, string model) =>
        output.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.StartsWith($"| {model} |", StringComparison.Ordinal)).ToArray();

    // A row whose size was measured (a percentage) and whose last column is a latency ratio.
    [GeneratedRegex(@"^\| [^|]+ \| [^|]+ \| \d+(\.\d+)? % \|.*\| \d+\.\d\dx \|$")]
    private static partial Regex MeasuredRow();

    [GeneratedRegex(@"^\| digits-cnn \| \d+ \| \d+\.\d\d s \|( \d+\.\d\d s \(\d+\.\dx\) \|){6}$")]
    private static partial Regex DataPassRow();

    // The benchmark program built beside this assembly's configuration (bin/<Configuration>/net10.0).
    private static ToolProcess.Result Benchmarks(params string[] args)
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var program = Path.Combine(PackageFeed.RepositoryRoot, "tests/ModelShrink.Benchmarks/bin", configuration, "net10.0/ModelShrink.Benchmarks.dll");
        Assert.IsTrue(File.Exists(program), program);
        return ToolProcess.Run("dotnet", PackageFeed.RepositoryRoot, new Dictionary<string, string> { ["MODELSHRINK_BENCH_MATMUL_SIDE"] = "256" }, null, [program, .. args]);
    }
}
