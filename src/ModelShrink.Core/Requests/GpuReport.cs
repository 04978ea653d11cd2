using ModelShrink.Core.Search;
using ModelShrink.Core.Gpu;
using ModelShrink.Core.Reports;

namespace ModelShrink.Core.Requests;

/// <summary>The report rows of a <see cref="GpuChoice"/>.</summary>
public static class GpuReport
{
    /// <summary>One row per candidate, in the order tried, every figure labelled with the provider it came from.</summary>
    public static IReadOnlyList<ReportGpuCandidate> Rows(GpuChoice choice) =>
        choice.Candidates.Select(c => new ReportGpuCandidate(
            c.Mode.ToString(), c.Result.Compression.CompressedBytes, c == choice.Chosen, c.Fits, c.Latency.Provider.OrtName(),
            c.Result.Validation?.Metric.ToString(), c.Result.Validation?.Value,
            c.Latency.Model.MedianMs, c.Latency.Baseline?.MedianMs ?? double.NaN,
            c.Latency.Placement?.OnProvider ?? 0, c.Latency.Placement?.OnCpu ?? [], c.Latency.Placement?.CpuShare ?? 0)).ToArray();
}
