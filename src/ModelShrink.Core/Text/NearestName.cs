namespace ModelShrink.Core.Text;

/// <summary>"Did you mean ...?": the known name closest to a mistyped one, by edit distance.</summary>
public static class NearestName
{
    /// <summary>
    /// The name in <paramref name="known"/> nearest to <paramref name="typed"/> (case-insensitive
    /// Damerau-Levenshtein distance: a swap of two letters counts once), or null when even the
    /// nearest differs in more than a third of the typed name's letters.
    /// </summary>
    public static string? For(string typed, IEnumerable<string> known)
    {
        var best = known
            .Select(name => (Name: name, Distance: Distance(typed.ToLowerInvariant(), name.ToLowerInvariant())))
            .OrderBy(c => c.Distance)
            .ThenBy(c => c.Name, StringComparer.Ordinal)
            .FirstOrDefault();
        return best.Name is not null && best.Distance <= Math.Max(1, typed.Length / 3) ? best.Name : null;
    }

    // Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps.
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
