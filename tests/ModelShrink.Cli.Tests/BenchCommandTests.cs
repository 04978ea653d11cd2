using System.Text.Json;
using ModelShrink.Testing;

namespace ModelShrink.Cli.Tests;

[TestClass]
public sealed class BenchCommandTests
{
    [TestMethod]
    public void BenchTimesTheModelBesideItsBaselineOnAHoldoutBatch()
    {
        var (exit, stdout, stderr) = CliRunner.InProcess("bench", Fixtures.Model("digits-mlp"), "--baseline", Fixtures.Model("digits-mlp-constants"),
            "--holdout", Path.Combine(Fixtures.Root, "digits-mlp"), "--runs", "7", "--json");

        Assert.AreEqual(0, exit, stderr);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.AreEqual(7, root.GetProperty("runs").GetInt32());
        Assert.AreEqual(32, root.GetProperty("model").GetProperty("samples").GetInt32());
        var model = root.GetProperty("model").GetProperty("medianMs").GetDouble();
        var baseline = root.GetProperty("baseline").GetProperty("medianMs").GetDouble();
        Assert.IsGreaterThan(0.0, model);
        Assert.IsGreaterThanOrEqualTo(model, root.GetProperty("model").GetProperty("p90Ms").GetDouble());
        Assert.AreEqual(model / baseline, root.GetProperty("ratio").GetDouble(), 1e-9);
    }

    [TestMethod]
    public void WithoutHoldoutTheInputsAreSynthesizedFromTheDeclaredShapes()
    {
        var (exit, stdout, stderr) = CliRunner.InProcess("bench", Fixtures.Model("digits-cnn"), "--runs", "3");

        Assert.AreEqual(0, exit, stderr);
        StringAssert.StartsWith(stdout, "3 runs on CPUExecutionProvider, 1 thread(s), batch of 1 from synthetic inputs (symbolic dimensions = 1)");
    }

    [TestMethod]
    public void CudaWithTheCpuBuildOfOnnxRuntimeIsOneCodedLine()
    {
        // The test host loads Microsoft.ML.OnnxRuntime (CPU build): no CUDA provider to start.
        var (exit, _, stderr) = CliRunner.InProcess("bench", Fixtures.Model("digits-cnn"), "--runs", "3", "--provider", "cuda");

        Assert.AreNotEqual(0, exit);
        var line = stderr.Trim();
        Assert.DoesNotContain("\n", line);
        StringAssert.Contains(line, "error MSH3204: the engine's ONNX Runtime has no CUDA provider (it has CPUExecutionProvider)");
        StringAssert.EndsWith(line, "(setting: --provider)");
    }
}
