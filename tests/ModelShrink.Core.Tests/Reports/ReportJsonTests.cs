using System.Text.Json;
using ModelShrink.Core.Reports;

namespace ModelShrink.Core.Tests.Reports;

[TestClass]
public sealed class ReportJsonTests
{
    [TestMethod]
    public void AReportReadBackSerializesToTheSameText()
    {
        var json = ReportJson.Serialize(SampleReports.Full());

        var back = ReportJson.Deserialize(json);

        Assert.AreEqual(json, ReportJson.Serialize(back));
        Assert.AreEqual(2, back.Candidates.Count);
        Assert.AreEqual(96302L, back.Candidates[1].Bytes);
        Assert.AreEqual(0.984375, back.Candidates[1].MetricValue);
        Assert.IsTrue(double.IsPositiveInfinity(back.Candidates[0].Metrics!.Snr));
        Assert.AreEqual(6L, back.Candidates[1].Passes[1].Counters["weights converted"]);
        Assert.AreEqual("/fc2/Gemm", back.Sensitivity[1].Layer);
    }

    [TestMethod]
    public void PropertyNamesAndTheirOrderAreTheDocumentedSchema()
    {
        // With a shortfall (a failed run's) so its fields are listed too.
        var shortfall = new ModelShrink.Core.Budgets.Shortfall("none", 191704, [new("MaxSizeRatio", 0.5, 1, 0.5, "MaxSizeRatio by 0.5")], ["MaxSizeRatio=1 lets none (187.21KB) through"]);
        using var json = JsonDocument.Parse(ReportJson.Serialize(SampleReports.Full() with { Summary = "Chose fp16", Shortfall = shortfall }));

        var paths = new List<string>();
        Collect(json.RootElement, "", paths);

        CollectionAssert.AreEqual(new[]
        {
            "schemaVersion", "createdUtc", "model", "originalBytes", "output", "verdict", "chosen",
            "budgets", "budgets.maxBytes", "budgets.maxSizeRatio", "budgets.maxAccuracyDrop", "budgets.minAgreement", "budgets.minCosine", "budgets.severity",
            "holdout", "holdout.data", "holdout.output", "holdout.metric", "holdout.higherIsBetter", "holdout.samples", "holdout.originalValue", "holdout.threshold",
            "candidates",
            "candidates[].name", "candidates[].mode", "candidates[].bytes", "candidates[].sizeRatio", "candidates[].metric", "candidates[].metricValue",
            "candidates[].drop", "candidates[].metrics",
            "candidates[].metrics.samples", "candidates[].metrics.accuracy", "candidates[].metrics.originalAccuracy", "candidates[].metrics.agreement",
            "candidates[].metrics.topK", "candidates[].metrics.originalTopK", "candidates[].metrics.cosine", "candidates[].metrics.maxAbs",
            "candidates[].metrics.rmse", "candidates[].metrics.snr",
            "candidates[].passed", "candidates[].applied", "candidates[].brokenBudgets", "candidates[].elapsedMs", "candidates[].passes",
            "candidates[].passes[].name", "candidates[].passes[].modified", "candidates[].passes[].elapsedMs", "candidates[].passes[].counters",
            "candidates[].latencyRatio",
            "sensitivityMethod", "sensitivity", "sensitivity[].layer", "sensitivity[].opType", "sensitivity[].metric", "sensitivity[].delta",
            "diagnostics", "diagnostics[].code", "diagnostics[].severity", "diagnostics[].message", "diagnostics[].setting", "diagnostics[].candidate",
            "environment", "environment.engineVersion", "environment.onnxRuntimeVersion", "environment.processorCount", "environment.os", "environment.runtime",
            "summary", "shortfall", "shortfall.candidate", "shortfall.bytes", "shortfall.missed", "shortfall.missed[].setting", "shortfall.missed[].limit",
            "shortfall.missed[].reached", "shortfall.missed[].over", "shortfall.missed[].text", "shortfall.waysOut",
            "reason", "plan", "validatedOn", "gpu", "gpuReason",
        }, paths, string.Join(", ", paths));
    }

    [TestMethod]
    public void NullsAreWrittenAndNonFiniteNumbersAreNamedStrings()
    {
        var report = SampleReports.Full() with { Output = null, Chosen = null, Verdict = CompressionReport.Failed, Holdout = null };

        using var json = JsonDocument.Parse(ReportJson.Serialize(report));

        Assert.AreEqual(JsonValueKind.Null, json.RootElement.GetProperty("output").ValueKind);
        Assert.AreEqual(JsonValueKind.Null, json.RootElement.GetProperty("holdout").ValueKind);
        Assert.AreEqual("Infinity", json.RootElement.GetProperty("candidates")[0].GetProperty("metrics").GetProperty("snr").GetString());
        Assert.AreEqual(61.2, json.RootElement.GetProperty("candidates")[1].GetProperty("metrics").GetProperty("snr").GetDouble());
        Assert.AreEqual("nodes removed", json.RootElement.GetProperty("candidates")[0].GetProperty("passes")[0].GetProperty("counters").EnumerateObject().Single().Name);
    }

    [TestMethod]
    public void AnotherSchemaVersionIsRefused()
    {
        var json = ReportJson.Serialize(SampleReports.Full() with { SchemaVersion = 2 });

        Assert.ThrowsExactly<JsonException>(() => ReportJson.Deserialize(json));
    }

    // Property paths in document order, each name once (arrays contribute their first element's shape).
    private static void Collect(JsonElement element, string prefix, List<string> paths)
    {
        if (element.ValueKind == JsonValueKind.Object && !prefix.EndsWith("counters", StringComparison.Ordinal))
        {
            foreach (var property in element.EnumerateObject())
            {
                var path = prefix.Length == 0 ? property.Name : $"{prefix}.{property.Name}";
                if (!paths.Contains(path))
                {
                    paths.Add(path);
                }

                Collect(property.Value, path, paths);
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                Collect(item, prefix + "[]", paths);
            }
        }
    }
}
