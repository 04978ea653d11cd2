using ModelShrink.Core.Compression;

namespace ModelShrink.Core.Search;

/// <summary>One candidate the search tried: what it was, and what its job produced.</summary>
/// <param name="Name">A short name for reports (the quantize mode, plus what was kept in float).</param>
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

    /// <summary>Whether the candidate met every budget.</summary>
    public bool Fits => !Result.Failed;

    /// <summary>
    /// Whether the mode did anything: a quantize pass that found nothing to quantize (int4 on a
    /// model without MatMul weights) leaves a model no smaller than "None", so it is no candidate.
    /// </summary>
    public bool Applies => Options.Quantize == QuantizeMode.None
        || Result.Compression.Passes.Any(p => p.Pass == QuantizePassName(Options.Quantize) && p.Result.Modified);

    // The pass that realises each mode (later passes, such as sparse storage, may modify the model too).
    private static string QuantizePassName(QuantizeMode mode) => mode switch
    {
        QuantizeMode.Int8 => "int8-dynamic",
        QuantizeMode.Int8Static => "int8-static",
        QuantizeMode.Int4 => "int4",
        QuantizeMode.Fp16 => "fp16",
        _ => "",
    };
}
