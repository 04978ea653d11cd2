using ModelShrink.Onnx.IO;
using ModelShrink.Testing;

namespace ModelShrink.Cli.Tests;

/// <summary><c>compress --prune</c> and its options.</summary>
[TestClass]
public sealed class PruningCliTests
{
    [TestMethod]
    public void CompressWithPruneModeNmWritesA24PatternAndReportsThePasses()
    {
        using var temp = new TempDirectory();
        var output = temp.File("nm.onnx");

        var result = CliRunner.InProcess("compress", Fixtures.Model("digits-mlp"), "--prune-mode", "nm:2:4", "--prune-storage", "dense", "-o", output);

        Assert.AreEqual(0, result.ExitCode, result.Stderr);
        StringAssert.Contains(result.Stdout, "  prune                layers pruned 1");
        StringAssert.Contains(result.Stderr, "warning MSH2401");
        var weight = ModelReader.Load(output).Graph.FindValue("fc2.weight")!.Initializer!.ToArray<float>();
        Assert.AreEqual(16384, weight.Count(v => v == 0));
    }

    [TestMethod]
    public void CompressWithChannelsAndJsonReportsTheParameterCounts()
    {
        using var temp = new TempDirectory();
        var output = temp.File("channels.onnx");

        var result = CliRunner.InProcess("compress", Fixtures.Model("digits-cnn"), "--prune", "0.5", "--prune-mode", "channels", "--prune-skip", "/fc1/Gemm", "--json", "-o", output);

        Assert.AreEqual(0, result.ExitCode, result.Stderr);
        using var json = System.Text.Json.JsonDocument.Parse(result.Stdout);
        Assert.Contains("\"parameters after\"", result.Stdout);
        Assert.IsLessThan(new FileInfo(Fixtures.Model("digits-cnn")).Length, new FileInfo(output).Length);
    }

    [TestMethod]
    [DataRow("--prune", "2")]
    [DataRow("--prune-mode", "nm:3")]
    [DataRow("--prune-storage", "zip")]
    [DataRow("--prune-layers", "fc1")]
    public void InvalidPruneOptionsGiveMsh1014(string option, string value)
    {
        using var temp = new TempDirectory();
        var args = option == "--prune" ? new[] { option, value } : new[] { "--prune", "0.5", option, value };

        var result = CliRunner.InProcess(["compress", Fixtures.Model("digits-mlp"), "-o", temp.File("x.onnx"), .. args]);

        Assert.AreEqual(1, result.ExitCode);
        StringAssert.Contains(result.Stderr, $"error MSH1014: {option}:");
        Assert.IsFalse(File.Exists(temp.File("x.onnx")));
    }

    [TestMethod]
    public void InspectCountsASparseWeightAtItsDenseSizeAndNamesItsStorage()
    {
        using var temp = new TempDirectory();
        var output = temp.File("sparse.onnx");
        Assert.AreEqual(0, CliRunner.InProcess("compress", Fixtures.Model("digits-mlp"), "--prune", "0.9", "-o", output).ExitCode);

        var result = CliRunner.InProcess("inspect", output);

        Assert.AreEqual(0, result.ExitCode, result.Stderr);
        StringAssert.Contains(result.Stdout, "parameters: 50,826");
        StringAssert.Contains(result.Stdout, "fc2.weight");
        StringAssert.Contains(result.Stdout, "(sparse initializer, 3277 stored)");
    }

    [TestMethod]
    public void APruneDetailWithoutPruneIsRefused()
    {
        using var temp = new TempDirectory();

        var result = CliRunner.InProcess("compress", Fixtures.Model("digits-mlp"), "--prune-min-size", "10", "-o", temp.File("x.onnx"));

        Assert.AreEqual(1, result.ExitCode);
        StringAssert.Contains(result.Stderr, "--prune-min-size: needs --prune");
    }
}
