using ModelShrink.Core.Plans;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using ModelShrink.Core.Budgets;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Validation;
using ModelShrink.Core.Validation.Metrics;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;

namespace ModelShrink.Core.Reports;

/// <summary>One candidate as the run produced it: what the report is built from.</summary>
/// <param name="Name">A name unique within the run (e.g. "fp16").</param>
/// <param name="Mode">The quantize mode it was made with.</param>
/// <param name="Job">What its job produced and found.</param>
/// <param name="Elapsed">How long its job took.</param>
/// <param name="Applied">False when the mode found nothing to change (the search then skips it).</param>
public sealed record CandidateRun(string Name, QuantizeMode Mode, JobResult Job, TimeSpan Elapsed, bool Applied = true)
{
    /// <summary>Its CPU latency over the original's, when a search measured it.</summary>
    public double? LatencyRatio { get; init; }

    /// <summary>The default name of a candidate made with <paramref name="mode"/>: the mode in lower case.</summary>
    public static string NameOf(QuantizeMode mode) => mode.ToString().ToLowerInvariant();
}

/// <summary>Builds a <see cref="CompressionReport"/> from the candidates a run tried.</summary>
public static class ReportBuilder
{
    private static readonly Dictionary<string, string> BudgetCodes = new(StringComparer.Ordinal)
    {
        [ErrorCodes.MaxSizeExceeded] = "MaxSize",
        [ErrorCodes.MaxSizeRatioExceeded] = "MaxSizeRatio",
        [ErrorCodes.LatencyRatioExceeded] = "MaxLatencyRatio",
        [ErrorCodes.AccuracyDropExceeded] = "MaxAccuracyDrop",
        [ErrorCodes.AgreementBelowMinimum] = "MinAgreement",
        [ErrorCodes.CosineBelowMinimum] = "MinCosine",
    };

    /// <summary>
    /// The report of a run on <paramref name="model"/> (as the user named it) that tried
    /// <paramref name="candidates"/> under <paramref name="settings"/> and chose <paramref name="chosen"/>
    /// (a candidate name, or null when none passed). <paramref name="output"/> is where the chosen
    /// one was written, or null.
    /// </summary>
    public static CompressionReport Create(
        string model,
        JobSettings settings,
        IReadOnlyList<CandidateRun> candidates,
        string? chosen,
        string? output,
        IReadOnlyList<SensitivityRow>? sensitivity = null,
        string? sensitivityMethod = null,
        IEnumerable<Diagnostic>? runDiagnostics = null)
    {
        if (candidates.Select(c => c.Name).Distinct(StringComparer.Ordinal).Count() != candidates.Count)
        {
            throw new ArgumentException("candidate names must be unique", nameof(candidates));
        }

        if (chosen is not null && candidates.All(c => c.Name != chosen))
        {
            throw new ArgumentException($"the chosen candidate '{chosen}' is not among the candidates", nameof(chosen));
        }

        var originalBytes = candidates.Count > 0 ? candidates[0].Job.Compression.OriginalBytes : 0;
        var validation = candidates.Select(c => c.Job.Validation).FirstOrDefault(v => v is not null);
        var diagnostics = (runDiagnostics ?? []).Select(d => Convert(d, null))
            .Concat(candidates.SelectMany(c => c.Job.Diagnostics.Select(d => Convert(d, c.Name))))
            .ToArray();
        return new CompressionReport(
            CompressionReport.CurrentSchemaVersion,
            DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            model,
            originalBytes,
            chosen is null ? null : output,
            chosen is null ? CompressionReport.Failed : CompressionReport.Passed,
            chosen,
            Budgets(settings),
            validation is null ? null : Holdout(validation, settings.Accuracy),
            candidates.Select(Candidate).ToArray(),
            sensitivity is { Count: > 0 } ? sensitivityMethod : null,
            sensitivity ?? [],
            diagnostics,
            CurrentEnvironment());
    }

    /// <summary>
    /// The report of one job as the CLI and the build run it: every candidate the search tried
    /// (Quantize=Auto), else the job itself as the one candidate, named after its mode.
    /// <paramref name="elapsed"/> is the job's time; <paramref name="output"/> where its result was
    /// written when it passed.
    /// </summary>
    public static CompressionReport ForJob(string model, JobSettings settings, JobResult job, TimeSpan elapsed, string output, IEnumerable<Diagnostic>? runDiagnostics = null)
    {
        if (job.Candidates.Count > 0)
        {
            var runs = job.Candidates.Select(c => new CandidateRun(c.Name, c.Options.Quantize, c.Result, c.Elapsed ?? TimeSpan.Zero, c.Applies) { LatencyRatio = c.LatencyRatio }).ToArray();
            var picked = job.Failed ? null : job.ChosenName ?? job.Candidates.LastOrDefault(c => c.Fits && c.Options.Quantize == job.Chosen)?.Name;
            // The search's own warnings (e.g. chosen without holdout data) belong to the run.
            var searchDiagnostics = job.Diagnostics.Where(d => job.Candidates.All(c => !c.Result.Diagnostics.Contains(d)));
            // The search measures each layer alone at each precision below float (rows named "layer (precision)",
            // most output error first); delta = that value minus the original's.
            var higherIsBetter = job.Candidates.Select(c => c.Result.Validation).FirstOrDefault(v => v is not null)?.Metric.HigherIsBetter() ?? true;
            // (+ 0.0 turns a negated zero drop into 0 rather than -0.)
            var rows = job.Sensitivity.Select(s => new SensitivityRow($"{s.Layer} ({s.Precision})", s.OpType, s.Metric, (higherIsBetter ? -s.Drop : s.Drop) + 0.0)).ToArray();
            return Create(model, settings, runs, picked, picked is null ? null : output, rows, QuantizedAlone,
                (runDiagnostics ?? []).Concat(searchDiagnostics).ToArray()) with
            {
                Reason = job.Reason,
                Plan = job.PlanTable,
                Summary = job.Summary,
                Shortfall = job.Shortfall,
            };
        }

        var mode = job.Chosen ?? settings.Compression.Quantize;
        var name = Search.CandidateLabel.Of(settings.Compression with { Quantize = mode });
        var chosen = job.Failed ? null : name;
        return Create(model, settings, [new CandidateRun(name, mode, job, elapsed)], chosen, chosen is null ? null : output, runDiagnostics: runDiagnostics)
            with { Summary = job.Summary, Shortfall = job.Shortfall };
    }

    /// <summary>The sensitivity method of the Auto search: the metric with only one layer quantized.</summary>
    public const string QuantizedAlone = "quantized-alone";

    /// <summary>The engine and machine this process runs on.</summary>
    public static ReportEnvironment CurrentEnvironment() => new(
        Version(typeof(ReportBuilder).Assembly),
        Version(typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly),
        System.Environment.ProcessorCount,
        RuntimeInformation.OSDescription,
        RuntimeInformation.FrameworkDescription);

    private static ReportBudgets Budgets(JobSettings settings) => new(
        settings.Size.MaxBytes,
        settings.Size.MaxRatio,
        settings.Accuracy.MaxDrop,
        settings.Accuracy.MinAgreement,
        settings.Accuracy.MinCosine,
        settings.Size.Severity == BudgetSeverity.Error ? "error" : "warning");

    private static ReportHoldout Holdout(ValidationResult v, AccuracyBudget budget)
    {
        var metric = v.Metric;
        var original = Baseline(v);
        double? threshold = null;
        if (budget.MaxDrop is { } drop && original is { } o && metric != Metric.Snr)
        {
            threshold = metric.HigherIsBetter() ? o - drop : o + drop;
        }

        // MinAgreement and MinCosine are limits on the headline metric when it is that metric.
        var minimum = metric switch
        {
            Metric.Agreement => budget.MinAgreement,
            Metric.Cosine => budget.MinCosine,
            _ => null,
        };
        if (minimum is { } m)
        {
            threshold = threshold is { } t ? Math.Max(t, m) : m;
        }

        return new ReportHoldout(v.Holdout, v.Output, metric.ToString(), metric.HigherIsBetter(), v.Values.Samples, original, threshold);
    }

    // The original's value of the headline metric, as AccuracyBudget.Drop assumes it; null for Snr (unbounded).
    private static double? Baseline(ValidationResult v) =>
        v.Values.Baseline(v.Metric) ?? v.Metric switch
        {
            Metric.Agreement or Metric.Cosine => 1,
            Metric.MaxAbs or Metric.Rmse => 0,
            _ => null,
        };

    private static ReportCandidate Candidate(CandidateRun run)
    {
        var compression = run.Job.Compression;
        var v = run.Job.Validation;
        double? drop = v is null ? null : AccuracyBudget.Drop(v);
        if (drop is { } d && !double.IsFinite(d))
        {
            drop = null;
        }

        return new ReportCandidate(
            run.Name,
            run.Mode.ToString(),
            compression.CompressedBytes,
            compression.SizeRatio,
            v?.Metric.ToString(),
            v?.Value,
            drop,
            v is null ? null : Metrics(v.Values),
            !run.Job.Failed,
            run.Applied,
            run.Job.Diagnostics.Select(x => BudgetCodes.GetValueOrDefault(x.Code)).OfType<string>().Distinct().ToArray(),
            run.Elapsed.TotalMilliseconds,
            compression.Passes.Select(p => new ReportPass(p.Pass, p.Result.Modified, p.Elapsed.TotalMilliseconds, p.Result.Counters)).ToArray())
        {
            LatencyRatio = run.LatencyRatio,
        };
    }

    private static ReportMetrics Metrics(MetricValues m) =>
        new(m.Samples, m.Accuracy, m.OriginalAccuracy, m.Agreement, m.TopK, m.OriginalTopK, m.Cosine, m.MaxAbs, m.Rmse, m.Snr);

    private static ReportDiagnostic Convert(Diagnostic d, string? candidate) =>
        new(d.Code, d.Severity == DiagnosticSeverity.Error ? "error" : "warning", d.Message, d.Setting, candidate);

    private static string Version(Assembly assembly)
    {
        var informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? assembly.GetName().Version?.ToString()
            ?? "unknown";
        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? informational : informational[..plus];
    }
}
