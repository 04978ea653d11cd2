using ModelShrink.Core.Plans;
using ModelShrink.Core.Compression;

namespace ModelShrink.Core.Search;

/// <summary>
/// What the CLI and the build run for one model: a search when the settings ask for one
/// (<c>--compare-reconstruct</c>, Prune=auto, Quantize=Auto, Quantize=Fp16 with holdout data: <see cref="Fp16BlockSearch"/>), else one <see cref="CompressionJob"/>.
/// The searches sit above the job and compose jobs; the job knows nothing of them. Every result
/// leaves here with its one-sentence <see cref="JobResult.Summary"/> (<see cref="RunSummary"/>).
/// </summary>
public static class CompressionRun
{
    /// <summary>Runs the settings; <paramref name="display"/> names the model in diagnostics; <paramref name="progress"/>, when given, hears of each step.</summary>
    public static JobResult Run(string source, string output, JobSettings settings, string display, CancellationToken cancellation = default, IProgress<string>? progress = null) =>
        RunSummary.Attach(Dispatch(source, output, settings, display, cancellation, progress), settings);

    private static JobResult Dispatch(string source, string output, JobSettings settings, string display, CancellationToken cancellation, IProgress<string>? progress)
    {
        if (settings.CompareReconstruct)
        {
            return ReconstructionComparison.Run(source, output, settings, display, cancellation, progress);
        }

        if (settings.Compression.Prune is { Auto: true })
        {
            return PruneSearch.Run(source, output, settings, display, cancellation, progress);
        }

        if (settings.Compression.Quantize == QuantizeMode.Fp16 && settings.Holdout is not null)
        {
            return Fp16BlockSearch.Run(source, output, settings, display, cancellation, progress);
        }

        return settings.Compression.Quantize == QuantizeMode.Auto
            ? AutoSearch.Run(source, output, settings, display, cancellation, progress)
            : CompressionJob.Run(source, output, settings, display, cancellation, progress);
    }
}
