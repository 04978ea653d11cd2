using System.Globalization;

namespace ModelShrink.Core.Passes.Pruning;

/// <summary>How weights are pruned.</summary>
public enum PruneMethod
{
    /// <summary>Unstructured: the weights of smallest magnitude become zero.</summary>
    Magnitude,

    /// <summary>Semi-structured: in every group of M consecutive weights along the reduction axis, at most N stay non-zero.</summary>
    NM,

    /// <summary>Structured: whole output channels of lowest L2 norm are removed, and every reader of them rewritten.</summary>
    Channels,
}

/// <summary>
/// The mode as users write it (CLI <c>--prune-mode</c>, item metadata <c>PruneMode</c>):
/// <c>magnitude</c>, <c>nm:N:M</c> (e.g. <c>nm:2:4</c>) or <c>channels</c>, case-insensitive.
/// </summary>
public static class PruneModeText
{
    /// <summary>The accepted forms, for error messages.</summary>
    public const string Forms = "magnitude, nm:N:M (e.g. nm:2:4, 1 <= N < M <= 64) or channels";

    /// <summary>Parses a mode; <paramref name="n"/> and <paramref name="m"/> are set for N:M (2 and 4 otherwise).</summary>
    public static bool TryParse(string text, out PruneMethod method, out int n, out int m)
    {
        (method, n, m) = (PruneMethod.Magnitude, 2, 4);
        var parts = text.Trim().Split(':');
        switch (parts[0].ToLowerInvariant())
        {
            case "magnitude" when parts.Length == 1:
                return true;
            case "channels" when parts.Length == 1:
                method = PruneMethod.Channels;
                return true;
            case "nm" when parts.Length == 3
                && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out n)
                && int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out m)
                && PruneOptions.IsValidNm(n, m):
                method = PruneMethod.NM;
                return true;
            default:
                (n, m) = (2, 4);
                return false;
        }
    }

    /// <summary>The text form of a mode.</summary>
    public static string Format(PruneMethod method, int n, int m) => method switch
    {
        PruneMethod.NM => $"nm:{n}:{m}",
        PruneMethod.Channels => "channels",
        _ => "magnitude",
    };

    /// <summary>
    /// The options a user's two settings ask for (a sparsity and a mode, either may be empty); null
    /// when both are empty. Magnitude and channels need a sparsity; N:M without one gets (M-N)/M.
    /// <paramref name="invalid"/> makes the error for a setting name and a message (the CLI and the
    /// build use their own codes).
    /// </summary>
    public static PruneOptions? FromSettings(string? sparsity, string? mode, string sparsitySetting, string modeSetting, Func<string, string, Exception> invalid)
    {
        var hasSparsity = !string.IsNullOrWhiteSpace(sparsity);
        if (!hasSparsity && string.IsNullOrWhiteSpace(mode))
        {
            return null;
        }

        var options = new PruneOptions();
        if (!string.IsNullOrWhiteSpace(mode))
        {
            options = TryParse(mode, out var method, out var n, out var m)
                ? options with { Method = method, N = n, M = m }
                : throw invalid(modeSetting, $"'{mode.Trim()}' is not a pruning mode; use {Forms}");
        }

        if (hasSparsity && sparsity!.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase))
        {
            return options.Method == PruneMethod.NM
                ? throw invalid(sparsitySetting, $"{options.ModeText} fixes its sparsity at (M-N)/M; 'auto' searches magnitude or channels sparsity")
                : options with { Auto = true };
        }

        if (hasSparsity)
        {
            return TryParseSparsity(sparsity!, out var value)
                ? options with { Sparsity = value }
                : throw invalid(sparsitySetting, $"'{sparsity!.Trim()}' is not a sparsity from 0 to 1 (exclusive) such as 0.5");
        }

        return options.Method == PruneMethod.NM
            ? options with { Sparsity = options.TargetSparsity }
            : throw invalid(sparsitySetting, $"{options.ModeText} pruning needs a sparsity ({sparsitySetting}, e.g. 0.5)");
    }

    /// <summary>Parses a sparsity: a number from 0 (inclusive) to 1 (exclusive), e.g. 0.5.</summary>
    public static bool TryParseSparsity(string text, out double sparsity) =>
        double.TryParse(text.Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out sparsity) && sparsity is >= 0 and < 1;
}
