using ModelShrink.Core.Plans;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Passes.Reconstruction;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;

namespace ModelShrink.Core.Search;

/// <summary>
/// <c>--compare-reconstruct</c>: runs one configuration (quantize mode, pruning) with each
/// reconstruction (none, bias, layerwise), validates all three on the holdout data, and writes the
/// one <see cref="CompressionOptions.Reconstruct"/> names; all three are the result's candidates, so
/// the report shows them side by side (size, every metric, time).
/// </summary>
public static class ReconstructionComparison
{
    /// <summary>The reconstructions compared, cheapest first.</summary>
    public static readonly IReadOnlyList<ReconstructMode> Modes = [ReconstructMode.None, ReconstructMode.Bias, ReconstructMode.Layerwise];

    /// <summary>Runs the comparison; the asked-for candidate is written to <paramref name="output"/>.</summary>
    public static JobResult Run(string source, string output, JobSettings settings, string display, CancellationToken cancellation = default, IProgress<string>? progress = null)
    {
        var compression = settings.Compression;
        if (compression.Quantize == QuantizeMode.Auto || compression.Prune is { Auto: true })
        {
            // SettingsBinder refuses this combination with a coded error; only a caller of the engine's API gets here.
            throw new InvalidOperationException("comparing reconstructions needs one configuration, not a search");
        }

        if (settings.Holdout is null || compression.ReconstructData is null)
        {
            throw ModelShrinkException.Error(ErrorCodes.ReconstructNeedsData,
                "comparing reconstructions measures each on holdout data: give --holdout (and --reconstruct-data to fit on other data)", display, "--compare-reconstruct");
        }

        var folder = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(output))!, $".modelshrink-compare-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            var tried = new List<CandidateOutcome>();
            foreach (var mode in Modes)
            {
                cancellation.ThrowIfCancellationRequested();
                var options = compression with { Reconstruct = mode };
                var name = CandidateLabel.Of(options, reconstructionVaries: true);
                progress?.Report($"comparing: {name}");
                tried.Add(CandidateOutcome.Run(name, source, Path.Combine(folder, $"{mode}.onnx"), settings with { Compression = options, CompareReconstruct = false }, display, cancellation, progress));
            }

            var chosen = tried[Modes.ToList().IndexOf(compression.Reconstruct)];
            File.Move(Path.Combine(folder, $"{compression.Reconstruct}.onnx"), output, overwrite: true);
            return chosen.Result with
            {
                Compression = chosen.Result.Compression with { Output = output },
                Chosen = compression.Quantize,
                ChosenName = chosen.Name,
                Candidates = tried,
            };
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
