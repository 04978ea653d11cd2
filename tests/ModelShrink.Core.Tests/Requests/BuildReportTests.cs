using ModelShrink.Shared.Contracts;
using System.Text.Json;
using ModelShrink.Core.Requests;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Requests;

/// <summary>The build's NAME.report.json / NAME.report.html in the item's intermediate folder.</summary>
[TestClass]
public sealed class BuildReportTests
{
    [TestMethod]
    public void ASucceededItemHasItsReportBesideItsOutputsButNotAmongTheFilesToCopy()
    {
        using var temp = new TempDirectory();

        var response = BuildRunner.Run(Request(temp, new() { ["Quantize"] = "Fp16", ["Holdout"] = Path.Combine(Fixtures.Root, "digits-mlp"), ["MaxAccuracyDrop"] = "0.01" }));

        var item = response.Items.Single();
        Assert.IsTrue(item.Succeeded);
        Assert.AreEqual(temp.File("out/digits.report.html"), item.Report);
        StringAssert.EndsWith(item.Summary, $"; report {temp.File("out/digits.report.html")}");
        Assert.IsFalse(item.Files.Any(f => f.Contains(".report.", StringComparison.Ordinal)));
        Assert.IsTrue(File.Exists(temp.File("out/digits.report.html")));
        using var json = JsonDocument.Parse(File.ReadAllText(temp.File("out/digits.report.json")));
        var root = json.RootElement;
        Assert.AreEqual("Models/digits.onnx", root.GetProperty("model").GetString());
        Assert.AreEqual("passed", root.GetProperty("verdict").GetString());
        Assert.AreEqual("fp16", root.GetProperty("chosen").GetString());
        Assert.AreEqual(temp.File("out/digits.onnx"), root.GetProperty("output").GetString());
        var candidate = root.GetProperty("candidates").EnumerateArray().Single();
        Assert.AreEqual(item.CompressedBytes, candidate.GetProperty("bytes").GetInt64());
        Assert.AreEqual(item.MetricValue, candidate.GetProperty("metricValue").GetDouble());
        Assert.AreEqual(0.01, root.GetProperty("budgets").GetProperty("maxAccuracyDrop").GetDouble());
    }

    [TestMethod]
    public void AFailedItemStillWritesItsReportAndSaysWhere()
    {
        using var temp = new TempDirectory();

        var response = BuildRunner.Run(Request(temp, new() { ["MaxSize"] = "50KB", ["Providers"] = "DirectML;CPU" }));

        var item = response.Items.Single();
        Assert.IsFalse(item.Succeeded);
        Assert.AreEqual(temp.File("out/digits.report.html"), item.Report);
        using var json = JsonDocument.Parse(File.ReadAllText(temp.File("out/digits.report.json")));
        var root = json.RootElement;
        Assert.AreEqual("failed", root.GetProperty("verdict").GetString());
        Assert.AreEqual(JsonValueKind.Null, root.GetProperty("output").ValueKind);
        CollectionAssert.AreEqual(new[] { "MaxSize" }, root.GetProperty("candidates")[0].GetProperty("brokenBudgets").EnumerateArray().Select(b => b.GetString()).ToArray());
        // The item's provider warning is in the report as a run-level diagnostic, the budget as the candidate's.
        var diagnostics = root.GetProperty("diagnostics").EnumerateArray().Select(d => (d.GetProperty("code").GetString(), d.GetProperty("candidate").GetString())).ToArray();
        CollectionAssert.AreEqual(new[] { ("MSH3200", (string?)null), ("MSH3100", "float32") }, diagnostics);
    }

    private static BuildRequest Request(TempDirectory temp, Dictionary<string, string> metadata) => new()
    {
        ProjectFile = temp.File("App.csproj"),
        OnnxRuntimeVersion = "1.31.1",
        OnnxRuntimePackages = ["Microsoft.ML.OnnxRuntime"],
        Items =
        [
            new BuildRequestItem
            {
                ItemSpec = "Models/digits.onnx",
                Source = Fixtures.Model("digits-mlp"),
                OutputDirectory = temp.File("out"),
                Metadata = new Dictionary<string, string>(metadata) { ["OutputName"] = "digits" },
            },
        ],
    };
}
