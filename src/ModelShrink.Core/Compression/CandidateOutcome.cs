using ModelShrink.Core.Plans;

namespace ModelShrink.Core.Compression;

/// <summary>One candidate the search tried: what it was, and what its job produced.</summary>
/// <param name="Name">A short name for reports (the quantize mode, or the mixed plan's counts).</param>
/// <param name="Options">The compression it ran.</param>
/// <param name="Result">Its job result: sizes, validation, diagnostics.</param>
public sealed record CandidateOutcome(string Name, CompressionOptions Options, JobResult Result)
{
    /// <summary>Runs <paramref name="settings"/> as a candidate named <paramref name="name"/> into <paramref name="file"/>, timed.</summary>
    public static CandidateOutcome Run(string name, string source, string file, JobSettings settings, string display, CancellationToken cancellation, IProgress<string>? progress)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var job = CompressionJob.Run(source, file, settings, display, cancellation, progress);
        return new CandidateOutcome(name, settings.Compression, job) { Elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started) };
    }

    /// <summary>How long the candidate's job took (compression and validation), when measured.</summary>
    public TimeSpan? Elapsed { get; init; }

    /// <summary>The candidate's file while its search runs (gone afterwards unless it was written as the output).</summary>
    public string? File { get; init; }

    /// <summary>Its median CPU latency over the original's, measured in the same run (below 1 = faster); null when not measured.</summary>
    public double? LatencyRatio { get; init; }

    /// <summary>Whether the candidate met every budget.</summary>
    public bool Fits => !Result.Failed;

    /// <summary>
    /// Whether the candidate did anything: a quantize pass that found nothing to quantize (int4 on a
    /// model without MatMul weights) leaves a model no smaller than "None", so it is no candidate.
    /// The quantize passes are the ones its plan creates, so renaming a pass cannot hide it.
    /// </summary>
    public bool Applies => (Options.Quantize == QuantizeMode.None && Options.Plan is null)
        || Result.Compression.Passes.Any(p => QuantizePassNames(Options).Contains(p.Pass) && p.Result.Modified);

    private static HashSet<string> QuantizePassNames(CompressionOptions options) =>
        PlanPasses.Create(options).Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
}
