using System.Text.Json;
using ModelShrink.Testing;

namespace ModelShrink.Cli.Tests;

/// <summary>
/// <c>compress --compare-reconstruct</c>: one configuration (int4 on digits-transformer, fitted on
/// holdout sets 0-3, judged on sets 4-7) with none, bias and layerwise side by side in the report.
/// </summary>
[TestClass]
public sealed class CompareReconstructTests
{
    private const string Fixture = "digits-transformer";
    private static readonly string[] Modes = ["none", "bias", "layerwise"];

    // The candidates' labels: the precision, then the reconstruction, named in each (none included).
    private static string Label(string reconstruct) => reconstruct switch
    {
        "none" => "int4 + no reconstruction",
        "bias" => "int4 + bias correction",
        _ => $"int4 + {reconstruct} reconstruction",
    };

    [TestMethod]
    [DataRow("layerwise", "capture-layer-inputs")]
    [DataRow("bias", "bias-correction")]
    public void TheReportHasAllThreeAndTheOneReconstructNamesIsWrittenAsAPlainRunWritesIt(string written, string pass)
    {
        using var temp = new TempDirectory();
        var data = Fixtures.SplitHoldout(Fixture, temp.Path);

        var compared = CliRunner.InProcess(Compress(temp.File("compared.onnx"), "int4", written, data, "--compare-reconstruct", "--report", temp.File("report")));
        var plain = CliRunner.InProcess(Compress(temp.File("plain.onnx"), "int4", written, data));

        Assert.AreEqual(0, compared.ExitCode, compared.Stderr);
        Assert.AreEqual(0, plain.ExitCode, plain.Stderr);
        StringAssert.StartsWith(compared.Stdout, $"Wrote {Label(written)} (");
        using var json = JsonDocument.Parse(File.ReadAllText(temp.File("report/report.json")));
        var root = json.RootElement;
        Assert.AreEqual("passed", root.GetProperty("verdict").GetString());
        Assert.AreEqual(Label(written), root.GetProperty("chosen").GetString());
        Assert.AreEqual(temp.File("compared.onnx"), root.GetProperty("output").GetString());
        var candidates = root.GetProperty("candidates").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!);
        CollectionAssert.AreEqual(Modes.Select(Label).ToArray(), candidates.Keys.ToArray());
        var cosine = candidates.ToDictionary(c => c.Key, c => c.Value.GetProperty("metrics").GetProperty("cosine").GetDouble());
        foreach (var (name, candidate) in candidates)
        {
            Assert.IsTrue(candidate.GetProperty("passed").GetBoolean(), name);
            Assert.AreEqual(JsonValueKind.Number, candidate.GetProperty("metricValue").ValueKind, name);
            Assert.AreEqual(128, candidate.GetProperty("metrics").GetProperty("samples").GetInt64(), $"{name}: scored on the 4 held-out sets");
            Assert.IsGreaterThan(0.99, cosine[name]);
            Assert.IsGreaterThan(0.0, candidate.GetProperty("elapsedMs").GetDouble());
        }

        // Same size (reconstruction changes values, not layouts); layer-wise closest to the original (0.99923 vs 0.99745 plain, measured).
        Assert.AreEqual(1, candidates.Values.Select(c => c.GetProperty("bytes").GetInt64()).Distinct().Count());
        Assert.IsGreaterThan(cosine[Label("none")], cosine[Label("layerwise")]);
        var chosen = candidates[Label(written)];
        CollectionAssert.Contains(chosen.GetProperty("passes").EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToArray(), pass);
        Assert.AreEqual(new FileInfo(temp.File("compared.onnx")).Length, chosen.GetProperty("bytes").GetInt64());

        // The written model is what `compress --reconstruct X` alone writes.
        CollectionAssert.AreEqual(File.ReadAllBytes(temp.File("plain.onnx")), File.ReadAllBytes(temp.File("compared.onnx")));
    }

    [TestMethod]
    [DataRow("auto", "--metric", "cosine")]
    [DataRow("int4", "--prune", "auto")]
    public void ASearchIsNoConfigurationToCompare(string quantize, string option, string value)
    {
        using var temp = new TempDirectory();
        var data = Fixtures.SplitHoldout(Fixture, temp.Path);

        var result = CliRunner.InProcess(Compress(temp.File("out.onnx"), quantize, "layerwise", data, "--compare-reconstruct", option, value, "--min-cosine", "0.99"));

        AssertOneError(result, "MSH1014", "--compare-reconstruct");
        Assert.IsFalse(File.Exists(temp.File("out.onnx")));
    }

    [TestMethod]
    public void WithoutHoldoutThereIsNothingToCompareOn()
    {
        using var temp = new TempDirectory();
        var (calibration, _) = Fixtures.SplitHoldout(Fixture, temp.Path);

        var result = CliRunner.InProcess("compress", Fixtures.Model(Fixture), "-o", temp.File("out.onnx"), "--quantize", "int4",
            "--reconstruct", "layerwise", "--reconstruct-data", calibration, "--compare-reconstruct");

        AssertOneError(result, "MSH2602", "--holdout");
        Assert.IsFalse(File.Exists(temp.File("out.onnx")));
    }

    // compress digits-transformer with QUANTIZE and RECONSTRUCT fitted on the calibration sets, validated on the held-out ones.
    private static string[] Compress(string output, string quantize, string reconstruct, (string Calibration, string HeldOut) data, params string[] extra) =>
    [
        "compress", Fixtures.Model(Fixture), "-o", output, "--quantize", quantize, "--reconstruct", reconstruct,
        "--reconstruct-data", data.Calibration, "--holdout", data.HeldOut, .. extra,
    ];

    private static void AssertOneError(CliResult result, string code, string mentions)
    {
        Assert.AreEqual(1, result.ExitCode);
        Assert.AreEqual("", result.Stdout);
        var lines = result.Stderr.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.HasCount(1, lines, result.Stderr);
        StringAssert.Contains(lines[0], $"error {code}: ");
        StringAssert.Contains(lines[0], mentions);
    }
}
