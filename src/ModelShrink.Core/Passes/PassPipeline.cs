using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.Ir;

namespace ModelShrink.Core.Passes;

/// <summary>The outcome of one pass inside a pipeline.</summary>
public sealed record PassRecord(string Pass, PassResult Result, TimeSpan Elapsed);

/// <summary>
/// Runs passes in order: the spine of the engine. The order is checked when the pipeline is built:
/// every pass's <see cref="IPass.Requires"/> must be provided by a pass before it. A coded error
/// from a pass passes through unchanged; any other failure becomes MSH2000 naming the pass that
/// failed and those before it.
/// </summary>
public sealed class PassPipeline
{
    private readonly IReadOnlyList<IPass> passes;

    /// <summary>A pipeline of <paramref name="passes"/>; throws when a pass requires data no earlier pass provides.</summary>
    public PassPipeline(IReadOnlyList<IPass> passes)
    {
        var provided = new HashSet<PassData>();
        for (var i = 0; i < passes.Count; i++)
        {
            if (passes[i].Requires.FirstOrDefault(d => !provided.Contains(d)) is { } missing)
            {
                var before = i == 0 ? "none" : string.Join(", ", passes.Take(i).Select(p => p.Name));
                throw new InvalidOperationException(
                    $"pipeline order: pass '{passes[i].Name}' requires {missing.Name}, which no pass before it provides (passes before it: {before})");
            }

            provided.UnionWith(passes[i].Provides);
        }

        this.passes = passes;
    }

    /// <summary>The passes, in the order they run.</summary>
    public IReadOnlyList<IPass> Passes => passes;

    /// <summary>Runs every pass on <paramref name="model"/> and returns what each did; <paramref name="progress"/> hears of each pass as it starts.</summary>
    public IReadOnlyList<PassRecord> Run(Model model, PassContext context, IProgress<string>? progress = null)
    {
        var records = new List<PassRecord>(passes.Count);
        foreach (var pass in passes)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            progress?.Report($"compressing: pass {records.Count + 1}/{passes.Count} {pass.Name}");
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            PassResult result;
            try
            {
                using (context.Running(pass))
                {
                    result = pass.Run(model, context);
                }
            }
            catch (Exception e) when (e is not ModelShrinkException and not OperationCanceledException)
            {
                var before = records.Count == 0 ? "none" : string.Join(", ", records.Select(r => r.Pass));
                throw context.Error(ErrorCodes.PassFailed,
                    $"pass '{pass.Name}' failed ({e.GetType().Name}: {e.Message}); passes run before it: {before}");
            }

            records.Add(new PassRecord(pass.Name, result, System.Diagnostics.Stopwatch.GetElapsedTime(started)));
        }

        return records;
    }

    /// <summary>
    /// Runs <paramref name="passes"/> again and again until none modifies the model, at most
    /// <paramref name="maxRounds"/> times (for clean-ups whose steps enable each other).
    /// </summary>
    public static PassResult RunToFixedPoint(Model model, PassContext context, IReadOnlyList<IPass> passes, int maxRounds = 8)
    {
        var totals = new Dictionary<string, long>();
        var modified = false;
        for (var round = 0; round < maxRounds; round++)
        {
            var changed = false;
            foreach (var pass in passes)
            {
                var result = pass.Run(model, context);
                changed |= result.Modified;
                foreach (var (key, count) in result.Counters)
                {
                    totals[key] = totals.GetValueOrDefault(key) + count;
                }
            }

            modified |= changed;
            if (!changed)
            {
                break;
            }
        }

        return new PassResult(modified, totals);
    }
}
