using ModelShrink.Core.Plans;
using System.Diagnostics;
using ModelShrink.Core.Budgets;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Reports;
using ModelShrink.Core.Validation;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Reports;

/// <summary>Reports to test with: one from a real compression of a fixture, and a hand-made one with every field filled.</summary>
internal static class SampleReports
{
    /// <summary>
    /// Compresses digits-mlp twice (None, Fp16) with its holdout, a 1-point accuracy budget and a
    /// 0.9 size-ratio budget (which None breaks), and chooses the smallest candidate that passed.
    /// </summary>
    public static CompressionReport RealRun(TempDirectory temp, string display, IProgress<string>? progress = null)
    {
        var settings = new JobSettings(
            new CompressionOptions(),
            new SizeBudget(null, 0.9),
            new AccuracyBudget(0.01, null, null),
            Path.Combine(Fixtures.Root, "digits-mlp"),
            new ValidationOptions());
        var runs = new List<CandidateRun>();
        foreach (var mode in new[] { QuantizeMode.None, QuantizeMode.Fp16 })
        {
            var started = Stopwatch.GetTimestamp();
            var job = ModelShrink.Core.Search.CompressionRun.Run(Fixtures.Model("digits-mlp"), temp.File($"{mode}.onnx"),
                settings with { Compression = new CompressionOptions { Quantize = mode } }, display, progress: progress);
            runs.Add(new CandidateRun(CandidateRun.NameOf(mode), mode, job, Stopwatch.GetElapsedTime(started)));
        }

        var chosen = runs.Where(r => !r.Job.Failed).OrderBy(r => r.Job.Compression.CompressedBytes).FirstOrDefault();
        return ReportBuilder.Create(display, settings, runs, chosen?.Name, chosen is null ? null : temp.File("chosen.onnx"));
    }

    /// <summary>A report with every optional field set, every list non-empty, and awkward values (infinity, nulls, markup).</summary>
    public static CompressionReport Full(string model = "Models/digits.onnx", string candidateName = "fp16") => new(
        CompressionReport.CurrentSchemaVersion,
        "2025-01-02T03:04:05Z",
        model,
        191704,
        "out/digits.onnx",
        CompressionReport.Passed,
        candidateName,
        new ReportBudgets(150_000, 0.9, 0.01, 0.98, 0.999, "error"),
        new ReportHoldout("8 test_data_set folder(s) in fixtures/digits-mlp", "logits", "Accuracy", true, 256, 0.98828125, 0.97828125),
        [
            new ReportCandidate("none", "None", 191704, 1.0, "Accuracy", 0.98828125, 0, Metrics(double.PositiveInfinity), false, true, ["MaxSizeRatio"], 41.5,
                [new ReportPass("cleanup", false, 3.25, new Dictionary<string, long> { ["nodes removed"] = 0 })]),
            new ReportCandidate(candidateName, "Fp16", 96302, 0.502347, "Accuracy", 0.984375, 0.00390625, Metrics(61.2), true, true, [], 55.75,
                [
                    new ReportPass("cleanup", false, 2.5, new Dictionary<string, long> { ["nodes removed"] = 0, ["constants folded"] = 0 }),
                    new ReportPass("fp16", true, 7.125, new Dictionary<string, long> { ["weights converted"] = 6, ["casts inserted"] = 2 }),
                ]),
        ],
        "kept-float",
        [new SensitivityRow("/fc1/Gemm", "Gemm", 0.9883, 0.0039), new SensitivityRow("/fc2/Gemm", "Gemm", 0.9844, -0.0012)],
        [new ReportDiagnostic("MSH3101", "error", "compressed model is 1 of the original", "MaxSizeRatio", "none")],
        new ReportEnvironment("0.1.0", "1.31.1", 2, "Linux", ".NET 10.0.0"));

    private static ReportMetrics Metrics(double snr) => new(256, 0.984375, 0.98828125, 0.99609375, 1.0, 1.0, 0.99999, 0.0123, 0.001, snr);
}
