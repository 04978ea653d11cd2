using System.Diagnostics;

namespace ModelShrink.Core.Requests;

/// <summary>
/// What a build shows of an item's long work: the search's steps ("searching: step 12 of ~60, ...
/// about 30s left"), named after the item, at most one line every <see cref="Interval"/> (the first
/// at once), so a search of minutes inside <c>dotnet build</c> is not silent and not chatty either.
/// Pass-by-pass and batch-by-batch lines are left to the CLI's <c>--progress</c>.
/// </summary>
public sealed class BuildProgress(string item, IProgress<string> sink) : IProgress<string>
{
    /// <summary>The least time between two lines.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private readonly Lock gate = new();
    private long last;

    /// <inheritdoc />
    public void Report(string value)
    {
        if (!value.StartsWith("searching: ", StringComparison.Ordinal))
        {
            return;
        }

        lock (gate)
        {
            var now = Stopwatch.GetTimestamp();
            if (last != 0 && Stopwatch.GetElapsedTime(last, now) < Interval)
            {
                return;
            }

            last = now;
        }

        sink.Report($"{item}: {value}");
    }
}
