namespace ModelShrink.Core.Compression;

/// <summary>Where reconstruction data lies relative to the holdout data.</summary>
public static class ReconstructionData
{
    /// <summary>
    /// Whether <paramref name="data"/> overlaps <paramref name="holdout"/>: the same path, or one
    /// inside the other (a test_data_set folder of the holdout, or the holdout inside it). Weights
    /// fitted on the data they are scored on flatter the score.
    /// </summary>
    public static bool OverlapsHoldout(string? data, string? holdout) =>
        data is not null && holdout is not null && (Within(data, holdout) || Within(holdout, data));

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
