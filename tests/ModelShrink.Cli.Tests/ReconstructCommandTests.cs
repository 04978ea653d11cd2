using System.Text.Json;
using ModelShrink.Testing;

namespace ModelShrink.Cli.Tests;

/// <summary><c>compress --reconstruct bias [--reconstruct-data D]</c>.</summary>
[TestClass]
public sealed class ReconstructCommandTests
{
    private static string Data => Path.Combine(Fixtures.Root, "digits-cnn");

    [TestMethod]
    public void ReconstructBiasCorrectsEveryQuantizedLayerUsingTheHoldoutByDefault()
    {
        using var temp = new TempDirectory();

        var result = CliRunner.InProcess("compress", Fixtures.Model("digits-cnn"), "-o", temp.File("out.onnx"), "--quantize", "int8",
            "--reconstruct", "bias", "--holdout", Data, "--json");

        Assert.AreEqual(0, result.ExitCode, result.Stderr);
        using var json = JsonDocument.Parse(result.Stdout);
        var passes = json.RootElement.GetProperty("compression").GetProperty("passes").EnumerateArray().ToArray();
        CollectionAssert.AreEqual(new[] { "cleanup", "capture-teacher", "int8-dynamic", "bias-correction" }, passes.Select(p => p.GetProperty("pass").GetString()).ToArray());
        var counters = passes[^1].GetProperty("result").GetProperty("counters");
        Assert.AreEqual(5, counters.GetProperty("layers corrected").GetInt64());
        Assert.AreEqual(0, counters.GetProperty("layers skipped").GetInt64());
    }

    [TestMethod]
    public void FittingOnTheHoldoutItIsScoredOnIsWarnedAboutAndSeparateDataIsNot()
    {
        using var temp = new TempDirectory();
        var (calibration, heldOut) = Fixtures.SplitHoldout("digits-cnn", temp.Path);

        var onHoldout = CliRunner.InProcess("compress", Fixtures.Model("digits-cnn"), "-o", temp.File("a.onnx"), "--quantize", "int8",
            "--reconstruct", "layerwise", "--holdout", heldOut);
        var separate = CliRunner.InProcess("compress", Fixtures.Model("digits-cnn"), "-o", temp.File("b.onnx"), "--quantize", "int8",
            "--reconstruct", "layerwise", "--holdout", heldOut, "--reconstruct-data", calibration);

        Assert.AreEqual(0, onHoldout.ExitCode, onHoldout.Stderr);
        Assert.AreEqual(1, onHoldout.Stderr.Split('\n').Count(l => l.Contains("warning MSH2603", StringComparison.Ordinal)), onHoldout.Stderr);
        StringAssert.Contains(onHoldout.Stderr, "ReconstructData");
        Assert.AreEqual(0, separate.ExitCode, separate.Stderr);
        Assert.IsFalse(separate.Stderr.Contains("MSH2603", StringComparison.Ordinal), separate.Stderr);
    }

    [TestMethod]
    public void ReconstructWithoutDataOrWithAnUnknownModeIsRefused()
    {
        using var temp = new TempDirectory();

        var noData = CliRunner.InProcess("compress", Fixtures.Model("digits-cnn"), "-o", temp.File("out.onnx"), "--quantize", "int8", "--reconstruct", "bias");
        var unknown = CliRunner.InProcess("compress", Fixtures.Model("digits-cnn"), "-o", temp.File("out.onnx"), "--quantize", "int8", "--reconstruct", "gptq", "--holdout", Data);

        Assert.AreEqual(1, noData.ExitCode);
        StringAssert.Contains(noData.Stderr, "--reconstruct-data or --holdout");
        Assert.AreEqual(1, unknown.ExitCode);
        StringAssert.Contains(unknown.Stderr, "None, Bias");
        Assert.IsFalse(File.Exists(temp.File("out.onnx")));
    }
}
