using System.Text.Json;
using ModelShrink.Testing;

namespace ModelShrink.Cli.Tests;

/// <summary><c>compress --report DIR</c> and <c>--progress</c>.</summary>
[TestClass]
public sealed class CompressReportTests
{
    private static string Holdout => Path.Combine(Fixtures.Root, "digits-mlp");

    [TestMethod]
    public void TheTextStartsWithTheRunsSentenceAndTheJsonCarriesItAndTheShortfall()
    {
        using var temp = new TempDirectory();
        string[] args = ["compress", Fixtures.Model("digits-mlp"), "-o", temp.File("out.onnx"), "--quantize", "int8", "--max-size", "40KB"];

        var text = CliRunner.InProcess(args);
        var json = CliRunner.InProcess([.. args, "--json"]);

        Assert.AreEqual(1, text.ExitCode);
        Assert.AreEqual(1, json.ExitCode);
        using var document = JsonDocument.Parse(json.Stdout);
        var root = document.RootElement;
        var bytes = root.GetProperty("compression").GetProperty("compressedBytes").GetInt64();
        var summary = root.GetProperty("summary").GetString()!;
        StringAssert.StartsWith(summary, "Wrote nothing: int8 per-channel (");
        StringAssert.EndsWith(summary, $"broke MaxSize by {ModelShrink.Shared.ByteSize.Format(bytes - 40 * 1024)}");
        Assert.AreEqual(summary, text.Stdout.Split(Environment.NewLine)[0], "the sentence is the text's first line");
        var shortfall = root.GetProperty("shortfall");
        Assert.AreEqual("int8 per-channel", shortfall.GetProperty("candidate").GetString());
        Assert.AreEqual(bytes - 40 * 1024, shortfall.GetProperty("missed")[0].GetProperty("over").GetDouble());
        Assert.AreEqual("BudgetSeverity=Warning to place it anyway", shortfall.GetProperty("waysOut").EnumerateArray().Last().GetString());
    }

    [TestMethod]
    public void ReportWritesJsonAndHtmlForTheRunAndNamesThePage()
    {
        using var temp = new TempDirectory();
        var output = temp.File("out/digits.onnx");

        var result = CliRunner.InProcess("compress", Fixtures.Model("digits-mlp"), "-o", output, "--quantize", "fp16", "--holdout", Holdout,
            "--max-drop", "0.01", "--report", temp.File("report"));

        Assert.AreEqual(0, result.ExitCode, result.Stderr);
        StringAssert.EndsWith(result.Stdout.TrimEnd(), $"report: {temp.File("report/report.html")}");
        using var json = JsonDocument.Parse(File.ReadAllText(temp.File("report/report.json")));
        var root = json.RootElement;
        Assert.AreEqual(1, root.GetProperty("schemaVersion").GetInt32());
        Assert.AreEqual("passed", root.GetProperty("verdict").GetString());
        Assert.AreEqual("fp16", root.GetProperty("chosen").GetString());
        Assert.AreEqual(output, root.GetProperty("output").GetString());
        var candidate = root.GetProperty("candidates").EnumerateArray().Single();
        Assert.AreEqual(new FileInfo(output).Length, candidate.GetProperty("bytes").GetInt64());
        Assert.AreEqual("Accuracy", candidate.GetProperty("metric").GetString());
        CollectionAssert.AreEqual(new[] { "cleanup", "fp16" }, candidate.GetProperty("passes").EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToArray());
        StringAssert.Contains(File.ReadAllText(temp.File("report/report.html")), "id=\"candidate-fp16\"");
    }

    [TestMethod]
    public void ABrokenBudgetStillWritesTheReportWithTheFailure()
    {
        using var temp = new TempDirectory();

        var result = CliRunner.InProcess("compress", Fixtures.Model("digits-mlp"), "-o", temp.File("out.onnx"), "--max-size", "50KB", "--report", temp.File("report"));

        Assert.AreEqual(1, result.ExitCode);
        Assert.IsFalse(File.Exists(temp.File("out.onnx")));
        using var json = JsonDocument.Parse(File.ReadAllText(temp.File("report/report.json")));
        var root = json.RootElement;
        Assert.AreEqual("failed", root.GetProperty("verdict").GetString());
        Assert.AreEqual(JsonValueKind.Null, root.GetProperty("chosen").ValueKind);
        Assert.AreEqual(JsonValueKind.Null, root.GetProperty("output").ValueKind);
        var candidate = root.GetProperty("candidates").EnumerateArray().Single();
        Assert.IsFalse(candidate.GetProperty("passed").GetBoolean());
        Assert.AreEqual("MaxSize", candidate.GetProperty("brokenBudgets").EnumerateArray().Single().GetString());
        Assert.AreEqual("MSH3100", root.GetProperty("diagnostics").EnumerateArray().Single().GetProperty("code").GetString());
    }

    [TestMethod]
    public void UnderAutoTheReportListsEveryCandidateTheSearchTried()
    {
        using var temp = new TempDirectory();

        // Every quantized candidate misses the cosine budget; None (identical outputs) fits, last.
        var result = CliRunner.InProcess("compress", Fixtures.Model("digits-mlp"), "-o", temp.File("out.onnx"), "--quantize", "auto", "--holdout", Holdout,
            "--min-cosine", "0.99999999999", "--report", temp.File("report"), "--progress");

        Assert.AreEqual(0, result.ExitCode, result.Stderr);
        StringAssert.Matches(result.Stderr, new System.Text.RegularExpressions.Regex(@"searching: step 1 of ~\d+, int8 per-channel \(elapsed \d+s\)"));
        using var json = JsonDocument.Parse(File.ReadAllText(temp.File("report/report.json")));
        var root = json.RootElement;
        var candidates = root.GetProperty("candidates").EnumerateArray().ToArray();
        var names = candidates.Select(c => c.GetProperty("name").GetString()).ToArray();
        Assert.AreEqual("int8 per-channel", names[0], "digits-mlp has no MatMul for int4");
        CollectionAssert.IsSubsetOf(new[] { "int8 per-channel", "fp16", "float32" }, names);
        Assert.AreEqual("float32", names[^1]);
        Assert.AreEqual("float32", root.GetProperty("chosen").GetString());
        var fp16 = candidates.Single(c => c.GetProperty("name").GetString() == "fp16");
        Assert.IsFalse(fp16.GetProperty("passed").GetBoolean());
        Assert.AreEqual("MinCosine", fp16.GetProperty("brokenBudgets")[0].GetString());
        Assert.IsGreaterThan(0.0, fp16.GetProperty("elapsedMs").GetDouble());
        Assert.AreEqual(new FileInfo(temp.File("out.onnx")).Length, candidates[^1].GetProperty("bytes").GetInt64());
        Assert.IsTrue(root.GetProperty("diagnostics").EnumerateArray().Any(d => d.GetProperty("candidate").GetString() == "fp16" && d.GetProperty("code").GetString() == "MSH4102"));

        // The smallest mixed plan missed only the accuracy budget, so the search measured each layer quantized alone.
        Assert.AreEqual("quantized-alone", root.GetProperty("sensitivityMethod").GetString());
        var rows = root.GetProperty("sensitivity").EnumerateArray().ToArray();
        Assert.IsNotEmpty(rows);
        StringAssert.Contains(result.Stderr, "sensitivity of /fc");
        Assert.IsTrue(rows.All(r => r.GetProperty("opType").GetString() is "Gemm" or "MatMul"));
        // Each layer at each precision below float: per tensor and per channel int8 for these Gemms.
        Assert.HasCount(6, rows);
        Assert.IsTrue(rows.All(r => r.GetProperty("layer").GetString()!.EndsWith("(Int8)", StringComparison.Ordinal) || r.GetProperty("layer").GetString()!.EndsWith("(Int8PerTensor)", StringComparison.Ordinal)));
        // Accuracy is higher-is-better: a layer that costs accuracy has a negative delta.
        Assert.IsTrue(rows.All(r => r.GetProperty("delta").GetDouble() <= 0.01));
        StringAssert.Contains(File.ReadAllText(temp.File("report/report.html")), "id=\"sensitivity-bar-0\"");
    }

    [TestMethod]
    public void ProgressGoesToStderrOnlyAndJsonStaysOneDocument()
    {
        using var temp = new TempDirectory();

        var result = CliRunner.InProcess("compress", Fixtures.Model("digits-mlp"), "-o", temp.File("out.onnx"), "--holdout", Holdout, "--json", "--progress");

        Assert.AreEqual(0, result.ExitCode, result.Stderr);
        using var json = JsonDocument.Parse(result.Stdout);
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.AreEqual("compressing: pass 1/1 cleanup", lines[1]);
        Assert.AreEqual("validating: 8/8 batches, 256 samples (100%)", lines[^2]);
        Assert.AreEqual("checking: the result loads in ONNX Runtime", lines[^1]);
    }

    [TestMethod]
    public void WithoutProgressAndWithStderrRedirectedThereIsNoProgress()
    {
        using var temp = new TempDirectory();

        var result = CliRunner.Process("compress", Fixtures.Model("digits-mlp"), "-o", temp.File("out.onnx"), "--holdout", Holdout, "--json");

        Assert.AreEqual(0, result.ExitCode, result.Stderr);
        Assert.AreEqual("", result.Stderr);
        using var json = JsonDocument.Parse(result.Stdout);
        // Identical outputs: an infinite SNR, written as a named literal rather than failing the command.
        Assert.AreEqual("Infinity", json.RootElement.GetProperty("validation").GetProperty("values").GetProperty("snr").GetString());
    }
}
