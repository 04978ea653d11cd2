using System.Diagnostics;
using ModelShrink.Core.Compression;

namespace ModelShrink.Core.Search;

/// <summary>
/// What one search has tried so far, where its candidates live, and how far it is: each candidate
/// gets a file of its own in a scratch folder beside the output (removed with the session), and
/// progress reads "step k of ~N, elapsed, ETA" so a long search inside a build is not silent. A
/// time limit ends the search early: <see cref="OutOfTime"/> turns true and callers keep the best so far.
/// </summary>
internal sealed class SearchSession : IDisposable
{
    private readonly long started = Stopwatch.GetTimestamp();
    private readonly IProgress<string>? progress;
    private readonly TimeSpan? limit;
    private int steps;

    public SearchSession(string output, string source, JobSettings settings, string display, CancellationToken cancellation, IProgress<string>? progress)
    {
        Folder = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(output))!, $".modelshrink-search-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Folder);
        (Source, Settings, Display, Cancellation, this.progress, limit) = (source, settings, display, cancellation, progress, settings.SearchTimeLimit);
        // The original runs once per holdout batch for the whole search, not once per candidate.
        Settings = settings with { Validation = settings.Validation with { Reference = new Validation.ReferenceOutputs() } };
    }

    public string Folder { get; }

    public string Source { get; }

    public JobSettings Settings { get; }

    public string Display { get; }

    public CancellationToken Cancellation { get; }

    /// <summary>Every candidate tried, in order.</summary>
    public List<CandidateOutcome> Tried { get; } = [];

    /// <summary>The expected number of steps (candidates and probes), refined as the search learns more.</summary>
    public int Planned { get; set; }

    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(started);

    /// <summary>Whether the time limit has passed and some candidate fits: a limit ends the search with the best so far, never with nothing.</summary>
    public bool OutOfTime => limit is { } l && Elapsed >= l && Tried.Any(c => c.Fits && c.Applies);

    /// <summary>Runs <paramref name="options"/> as a candidate named <paramref name="name"/> into a file of its own (latency is measured by the search, for finalists only).</summary>
    public CandidateOutcome Candidate(CompressionOptions options, string name)
    {
        var unique = Tried.Any(t => t.Name == name) ? $"{name} #{Tried.Count + 1}" : name;
        var outcome = Evaluate(options, unique);
        Tried.Add(outcome);
        return outcome;
    }

    /// <summary>
    /// Runs several candidates at once, as many as the machine has cores (each job's ONNX Runtime
    /// sessions run on one thread), and records them in the order given. One at a time for a model
    /// over <see cref="ParallelModelBytes"/>: two copies of a large model would double the memory.
    /// </summary>
    public IReadOnlyList<CandidateOutcome> Candidates(IReadOnlyList<(CompressionOptions Options, string Name)> candidates)
    {
        var parallel = new FileInfo(Source).Length <= ParallelModelBytes ? Environment.ProcessorCount : 1;
        var outcomes = new CandidateOutcome[candidates.Count];
        Parallel.For(0, candidates.Count, new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = Cancellation },
            i => outcomes[i] = Evaluate(candidates[i].Options, candidates[i].Name));
        Tried.AddRange(outcomes);
        return outcomes;
    }

    /// <summary>Models up to this size on disk have their plain candidates run side by side.</summary>
    public const long ParallelModelBytes = 256L << 20;

    private int files;

    private CandidateOutcome Evaluate(CompressionOptions options, string name)
    {
        Cancellation.ThrowIfCancellationRequested();
        Step(name);
        var file = Path.Combine(Folder, $"candidate-{Interlocked.Increment(ref files)}.onnx");
        var outcome = CandidateOutcome.Run(name, Source, file, Settings with { Compression = options, MaxLatencyRatio = null, HintBetterSettings = false }, Display, Cancellation, null) with { File = file };
        if (!outcome.Fits && File.Exists(file))
        {
            File.Delete(file);
        }

        return outcome;
    }

    /// <summary>Counts one step and reports it.</summary>
    public void Step(string what)
    {
        var done = Interlocked.Increment(ref steps);
        var planned = Math.Max(Planned, done);
        var elapsed = Elapsed;
        var eta = done > 1 ? TimeSpan.FromTicks(elapsed.Ticks / (done - 1) * (planned - done + 1)) : (TimeSpan?)null;
        progress?.Report($"searching: step {done} of ~{planned}, {what} (elapsed {elapsed.TotalSeconds:0}s{(eta is { } e ? $", about {e.TotalSeconds:0}s left" : "")})");
    }

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}
