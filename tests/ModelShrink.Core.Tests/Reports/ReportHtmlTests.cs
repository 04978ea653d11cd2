using ModelShrink.Core.Reports.Html;
using System.Text.RegularExpressions;
using ModelShrink.Core.Reports;

namespace ModelShrink.Core.Tests.Reports;

[TestClass]
public sealed class ReportHtmlTests
{
    private const string Script = "<script>alert(1)</script>.onnx";

    [TestMethod]
    public void AModelNamedLikeAScriptAppearsEscaped()
    {
        var html = ReportHtml.Render(SampleReports.Full(model: Script));

        StringAssert.Contains(html, "<title>ModelShrink report: &lt;script&gt;alert(1)&lt;/script&gt;.onnx</title>");
        StringAssert.Contains(html, "<span id=\"model-name\">&lt;script&gt;alert(1)&lt;/script&gt;.onnx</span>");
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("alert(1)</script>", html);
    }

    [TestMethod]
    public void EveryTextFromTheRunIsEscapedInContentAndAttributes()
    {
        const string name = "x\"><img src=y onerror=alert(2)>'";
        var report = SampleReports.Full(candidateName: name) with
        {
            Diagnostics = [new("MSH3101", "error", "<b>bold</b> & \"quoted\"", "<i>", name)],
            Sensitivity = [new("</svg><script>alert(3)</script>", "<Gemm>", 0.5, -0.25)],
        };

        var html = ReportHtml.Render(report);

        Assert.DoesNotContain("<img", html);
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("<b>", html);
        Assert.DoesNotContain("<i>", html);
        Assert.DoesNotContain("</svg><", html);
        StringAssert.Contains(html, "data-name=\"x&quot;&gt;&lt;img src=y onerror=alert(2)&gt;&#39;\"");
        StringAssert.Contains(html, "&lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;");
        StringAssert.Contains(html, "data-layer=\"&lt;/svg&gt;&lt;script&gt;alert(3)&lt;/script&gt;\"");
        // The id of such a candidate is made of safe characters only.
        StringAssert.Contains(html, "id=\"candidate-x-img-src-y-onerror-alert-2\"");
    }

    [TestMethod]
    public void ThePageIsSelfContainedAndForbidsScriptsAndFetches()
    {
        var html = ReportHtml.Render(SampleReports.Full());

        StringAssert.Contains(html, "content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\"");
        var urls = Regex.Matches(html, @"(https?:)?//[\w.-]+").Select(m => m.Value).Distinct().ToArray();
        CollectionAssert.AreEqual(new[] { "http://www.w3.org" }, urls, "only the SVG namespace may look like a URL");
        Assert.DoesNotContain("<link", html);
        Assert.DoesNotContain(" src=", html);
        Assert.DoesNotContain("@import", html);
    }

    [TestMethod]
    public void NumbersAreOnTheElementsInTheirJsonForm()
    {
        var html = ReportHtml.Render(SampleReports.Full());

        StringAssert.Contains(html, "<tr id=\"candidate-fp16\" class=\"chosen\" data-name=\"fp16\" data-mode=\"Fp16\" data-bytes=\"96302\" data-size-ratio=\"0.502347\" data-metric-name=\"Accuracy\" data-metric=\"0.984375\" data-drop=\"0.00390625\" data-passed=\"true\" data-applied=\"true\" data-chosen=\"true\"");
        StringAssert.Contains(html, "id=\"size-bar-original\" class=\"bar original\" data-name=\"original (source)\" data-bytes=\"191704\"");
        StringAssert.Contains(html, "<circle id=\"point-fp16\" data-name=\"fp16\" data-bytes=\"96302\" data-metric=\"0.984375\" data-chosen=\"true\"");
        StringAssert.Contains(html, "<line id=\"budget-metric\" class=\"budget\" data-metric=\"0.97828125\"");
        StringAssert.Contains(html, "<td data-field=\"snr\" data-value=\"Infinity\">Infinity</td>");
        StringAssert.Contains(html, "id=\"sensitivity-bar-1\" class=\"bar\" data-layer=\"/fc2/Gemm\" data-op-type=\"Gemm\" data-metric=\"0.9844\" data-delta=\"-0.0012\"");
    }

    [TestMethod]
    public void WithoutHoldoutDataTheScatterSaysWhyAndWithoutRowsThereIsNoSensitivityChart()
    {
        var report = SampleReports.Full() with
        {
            Holdout = null,
            Sensitivity = [],
            SensitivityMethod = null,
            Candidates = SampleReports.Full().Candidates.Select(c => c with { Metric = null, MetricValue = null, Drop = null, Metrics = null }).ToArray(),
        };

        var html = ReportHtml.Render(report);

        StringAssert.Contains(html, "id=\"metric-chart-empty\"");
        Assert.DoesNotContain("id=\"sensitivity-chart\"", html);
        Assert.DoesNotContain("<circle", html);
    }

    [TestMethod]
    public void CandidateIdsAreUniqueAndNeverOriginal()
    {
        var slugs = ReportHtml.Slugs(["Fp16", "fp16!", "original", "", "ünïcode"]);

        CollectionAssert.AreEqual(new[] { "fp16", "fp16-2", "original-2", "candidate", "n-code" }, slugs.Values.ToArray());
    }
}
