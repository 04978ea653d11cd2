using ModelShrink.Core.Compression;
using ModelShrink.Core.Passes.Reconstruction;

namespace ModelShrink.Core.Search;

/// <summary>
/// When a search may add layer-wise reconstruction to a candidate that missed the accuracy budget:
/// it costs no size (or a float bias for a Conv that had none), so it is tried before anything that
/// grows the model more (layers kept float, a lower sparsity); the size budgets still judge it. Only with reconstruction data of its own: fitting weights on the holdout the candidate
/// is then judged on would flatter it (as <see cref="AutoSearch"/> does for Int8Static's calibration).
/// </summary>
internal static class ReconstructionChoice
{
    /// <summary>The options with <see cref="ReconstructMode.Layerwise"/>, or null when the search may not or need not add it.</summary>
    public static CompressionOptions? Layerwise(JobSettings settings, CompressionOptions options)
    {
        if (options.Reconstruct != ReconstructMode.None || options.ReconstructData is null || FitsOnHoldout(settings, options))
        {
            return null;
        }

        var reconstructed = options with { Reconstruct = ReconstructMode.Layerwise };
        return PipelineFactory.Reconstructs(reconstructed) ? reconstructed : null;
    }

    /// <summary>Whether a search under <paramref name="settings"/> may add layer-wise reconstruction to its candidates, so their labels name the reconstruction of each.</summary>
    public static bool MayAdd(JobSettings settings) =>
        settings.Compression.Reconstruct == ReconstructMode.None && settings.Compression.ReconstructData is not null && !FitsOnHoldout(settings, settings.Compression);

    /// <summary>Whether the reconstruction data of <paramref name="options"/> overlaps the holdout the result is scored on.</summary>
    public static bool FitsOnHoldout(JobSettings settings, CompressionOptions options) =>
        ReconstructionData.OverlapsHoldout(options.ReconstructData, settings.Holdout);
}
