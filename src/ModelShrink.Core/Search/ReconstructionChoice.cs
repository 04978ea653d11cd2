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

    /// <summary>A candidate's name with the reconstruction it used, when any.</summary>
    public static string Name(string name, CompressionOptions options) =>
        options.Reconstruct == ReconstructMode.None ? name : $"{name} + {options.Reconstruct.ToString().ToLowerInvariant()} reconstruction";

    /// <summary>
    /// Whether the reconstruction data overlaps the holdout data the result is scored on: the same
    /// path, or one inside the other (a test_data_set folder of the holdout, or the holdout inside it).
    /// </summary>
    public static bool FitsOnHoldout(JobSettings settings, CompressionOptions options) =>
        options.ReconstructData is { } data && settings.Holdout is { } holdout && (Within(data, holdout) || Within(holdout, data));

    // Whether `path` is `folder` or lies below it.
    private static bool Within(string path, string folder)
    {
        var comparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        return string.Equals(full, root, comparison)
            || full.StartsWith(root + Path.DirectorySeparatorChar, comparison)
            || full.StartsWith(root + Path.AltDirectorySeparatorChar, comparison);
    }
}
