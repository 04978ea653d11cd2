using System.Globalization;
using System.Text.Json;
using ModelShrink.Core.Reports;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Reports;

/// <summary>
/// report.html of a real compression, loaded in a real browser (Debian's chromium, headless): the
/// values the page shows and carries must be report.json's. Inconclusive where chromium is not
/// installed; .ci/run installs it.
/// </summary>
[TestClass]
public sealed class ReportBrowserTests
{
    // The model name is user input: markup in it must come out as text, never as elements.
    private const string Display = "Models/<img src=x onerror=\"document.title='pwned'\"><script>alert(1)</script>&\"digits\".onnx";

    [TestMethod]
    public void ChromiumReadsTheNumbersOfReportJsonFromThePage()
    {
        var browser = HeadlessChromium.Find() ?? Inconclusive();
        using var temp = new TempDirectory();
        var (jsonPath, htmlPath) = ReportFiles.WriteTo(SampleReports.RealRun(temp, Display), temp.File("report"));

        var dom = new DumpedDom(HeadlessChromium.DumpDom(browser, htmlPath, temp.File("profile")));

        using var json = JsonDocument.Parse(File.ReadAllText(jsonPath));
        var root = json.RootElement;
        Assert.IsEmpty(dom.ByTag("img").ToArray(), "markup in the model name became an element");
        Assert.IsEmpty(dom.ByTag("script").ToArray(), "the page has a script element");
        Assert.AreEqual("ModelShrink report: " + Display, dom.Text(dom.ByTag("title").First()));
        Assert.AreEqual(root.GetProperty("model").GetString(), dom.Text(dom.ById("model-name")));

        var header = dom.ById("verdict");
        Assert.AreEqual("passed", root.GetProperty("verdict").GetString());
        Assert.AreEqual(root.GetProperty("verdict").GetString(), header["data-verdict"]);
        Assert.AreEqual("fp16", root.GetProperty("chosen").GetString());
        Assert.AreEqual(root.GetProperty("chosen").GetString(), header["data-chosen"]);
        Assert.AreEqual(root.GetProperty("originalBytes").GetInt64(), long.Parse(header["data-original-bytes"], CultureInfo.InvariantCulture));
        StringAssert.StartsWith(dom.Text(dom.ById("verdict-text")), "Passed: fp16 chosen");
        Assert.AreEqual(root.GetProperty("originalBytes").GetInt64(), Long(dom.ById("size-bar-original")["data-bytes"]));

        var candidates = root.GetProperty("candidates").EnumerateArray().ToArray();
        CollectionAssert.AreEqual(new[] { "none", "fp16" }, candidates.Select(c => c.GetProperty("name").GetString()).ToArray());
        foreach (var c in candidates)
        {
            var name = c.GetProperty("name").GetString()!;
            var row = dom.ById($"candidate-{name}");
            Assert.AreEqual(c.GetProperty("bytes").GetInt64(), Long(row["data-bytes"]), name);
            Assert.AreEqual(Number(c.GetProperty("sizeRatio")), Number(row["data-size-ratio"]), name);
            Assert.AreEqual(Number(c.GetProperty("metricValue")), Number(row["data-metric"]), name);
            Assert.AreEqual(Number(c.GetProperty("drop")), Number(row["data-drop"]), name);
            Assert.AreEqual(c.GetProperty("passed").GetBoolean() ? "true" : "false", row["data-passed"], name);
            Assert.AreEqual(string.Join(",", c.GetProperty("brokenBudgets").EnumerateArray().Select(b => b.GetString())), row["data-broken-budgets"], name);
            Assert.AreEqual(c.GetProperty("bytes").GetInt64().ToString("N0", CultureInfo.InvariantCulture) + " B",
                dom.Text(dom.Elements.First(e => e.Start > row.Start && e.Attributes.GetValueOrDefault("data-field") == "bytes")), name);

            Assert.AreEqual(c.GetProperty("bytes").GetInt64(), Long(dom.ById($"size-bar-{name}")["data-bytes"]), name);
            StringAssert.StartsWith(dom.Text(dom.ById($"size-label-{name}")), c.GetProperty("bytes").GetInt64().ToString("N0", CultureInfo.InvariantCulture) + " B");

            var point = dom.ById($"point-{name}");
            Assert.AreEqual(c.GetProperty("bytes").GetInt64(), Long(point["data-bytes"]), name);
            Assert.AreEqual(Number(c.GetProperty("metricValue")), Number(point["data-metric"]), name);
            Assert.AreEqual(name == "fp16" ? "true" : "false", point["data-chosen"]);

            var metrics = c.GetProperty("metrics");
            var metricsRow = dom.ById($"metrics-{name}");
            foreach (var field in new[] { "samples", "accuracy", "originalAccuracy", "agreement", "topK", "cosine", "maxAbs", "rmse", "snr" })
            {
                var cell = dom.Elements.First(e => e.Start > metricsRow.Start && e.Attributes.GetValueOrDefault("data-field") == field);
                Assert.AreEqual(Number(metrics.GetProperty(field)), Number(cell["data-value"]), $"{name} {field}");
            }

            var passes = c.GetProperty("passes").EnumerateArray().ToArray();
            var passRows = dom.Elements.Where(e => e.Attributes.ContainsKey("data-pass") && e.Attributes.GetValueOrDefault("data-candidate") == name).ToArray();
            CollectionAssert.AreEqual(passes.Select(p => p.GetProperty("name").GetString()).ToArray(), passRows.Select(r => r["data-pass"]).ToArray(), name);
        }

        // The chart is drawn to scale: bar lengths are proportional to bytes, the smaller model sits further left.
        var ratio = Long(dom.ById("size-bar-fp16")["data-bytes"]) / (double)Long(dom.ById("size-bar-original")["data-bytes"]);
        Assert.AreEqual(ratio, Number(dom.ById("size-bar-fp16")["width"])!.Value / Number(dom.ById("size-bar-original")["width"])!.Value, 0.01);
        Assert.IsLessThan(Number(dom.ById("point-none")["cx"])!.Value, Number(dom.ById("point-fp16")["cx"])!.Value);
        Assert.AreEqual("9", dom.ById("point-fp16")["r"], "the chosen point is highlighted");

        var holdout = root.GetProperty("holdout");
        Assert.AreEqual(Number(holdout.GetProperty("threshold")), Number(dom.ById("budget-metric")["data-metric"]));
        Assert.AreEqual(Number(holdout.GetProperty("originalValue")), Number(dom.ById("point-original")["data-metric"]));
        Assert.AreEqual(root.GetProperty("budgets").GetProperty("maxSizeRatio").GetDouble() * root.GetProperty("originalBytes").GetInt64(),
            Number(dom.ById("budget-size-ratio")["data-bytes"]));

        var diagnostics = root.GetProperty("diagnostics").EnumerateArray().Select(d => d.GetProperty("code").GetString()).ToArray();
        CollectionAssert.AreEqual(diagnostics, dom.Elements.Where(e => e.Attributes.ContainsKey("data-code")).Select(e => e["data-code"]).ToArray());
        var environment = root.GetProperty("environment");
        Assert.AreEqual(environment.GetProperty("onnxRuntimeVersion").GetString(), dom.ById("env-onnxRuntimeVersion")["data-value"]);
        Assert.AreEqual(environment.GetProperty("processorCount").GetInt32().ToString(CultureInfo.InvariantCulture), dom.ById("env-processorCount")["data-value"]);
        Console.WriteLine(HeadlessChromium.Version(browser));
    }

    private static string Inconclusive()
    {
        Assert.Inconclusive("chromium is not installed (/usr/bin/chromium or chromium-browser); .ci/run installs Debian's chromium");
        return "";
    }

    private static long Long(string text) => long.Parse(text, CultureInfo.InvariantCulture);

    private static double? Number(string text) => double.Parse(text, CultureInfo.InvariantCulture);

    private static double? Number(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.String => double.Parse(element.GetString()!, CultureInfo.InvariantCulture),
        _ => element.GetDouble(),
    };
}
