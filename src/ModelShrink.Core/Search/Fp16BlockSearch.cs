using ModelShrink.Core.Budgets;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Passes.Fp16;
using ModelShrink.Onnx.IO;

namespace ModelShrink.Core.Search;

/// <summary>
/// Quantize=Fp16 with holdout data: which nodes stay float32. First the activations are measured on
/// the holdout (one augmented run of the float model) and every node float16 cannot hold is kept
/// (<see cref="Fp16RangeCheck"/>). If that model still misses the target, the nodes still in
/// float16 are ranked by their outputs' measured float16 error, and a binary search finds the
/// smallest top-k to keep as well: about log2(nodes) validations, where onnxconverter-common's
/// auto_mixed_precision bisects the node list recursively and validates each segment. Keeping more
/// nodes can only bring the model closer to float32, so the search is monotone. The target is the
/// item's accuracy budget, or, without one, a drop of at most <see cref="DefaultMaxDrop"/>.
/// </summary>
public static class Fp16BlockSearch
{
    /// <summary>The largest drop of the headline metric the search accepts when no accuracy budget is set.</summary>
    public const double DefaultMaxDrop = 0.01;

    /// <summary>
    /// The largest share of the ranked nodes the search may keep in float32: beyond it the result is
    /// no longer a float16 model (its weights mostly float32), and the range-checked model is written
    /// with its budget diagnostics instead.
    /// </summary>
    public const double MaxKeptShare = 0.5;

    /// <summary>Runs the search and writes the chosen model to <paramref name="output"/>.</summary>
    public static JobResult Run(string source, string output, JobSettings settings, string display, CancellationToken cancellation, IProgress<string>? progress)
    {
        var holdout = settings.Holdout ?? throw new InvalidOperationException("the fp16 block search needs holdout data");
        var model = ModelReader.Load(source);
        progress?.Report("fp16: measuring activation ranges on the holdout data");
        var activations = Fp16RangeCheck.ActivationErrors(model, holdout, source, cancellation);
        var fp16 = settings.Compression.Fp16 with { ActivationErrors = activations };
        var probe = settings with { HintBetterSettings = false };
        JobSettings With(IReadOnlyList<string> extra, JobSettings basis) =>
            basis with { Compression = basis.Compression with { Fp16 = fp16 with { NodeBlockList = [.. fp16.NodeBlockList, .. extra] } } };

        var first = CompressionJob.Run(source, output, With([], settings), display, cancellation, progress);
        if (!fp16.KeepOutOfRange || first.Validation is null || Meets(first, settings, display))
        {
            return first with { Reason = Reason(first, 0, 0) };
        }

        var ranked = Ranked(model, activations, fp16);
        var folder = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(output))!, $".modelshrink-fp16-search-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            // Invariant: keeping the top `low` misses the target, keeping the top `high` meets it (checked first; at most MaxKeptShare).
            int low = 0, high = (int)Math.Ceiling(ranked.Count * MaxKeptShare), probes = 0;
            bool Fits(int count)
            {
                probes++;
                progress?.Report($"fp16: keeping the {count} node(s) with the largest float16 error in float32 (probe {probes}, ~{Math.Ceiling(Math.Log2(Math.Max(2, ranked.Count))) + 1} in all)");
                var job = CompressionJob.Run(source, Path.Combine(folder, $"probe{probes}.onnx"), With(ranked.Take(count).ToList(), probe), display, cancellation, progress);
                return Meets(job, settings, display);
            }

            if (ranked.Count == 0 || !Fits(high))
            {
                return first with { Reason = $"even with {high} of {ranked.Count} float16 nodes (the most error-prone half) kept float32 the target was missed; the model was written with only the range-checked nodes kept" };
            }

            while (high - low > 1)
            {
                var middle = (low + high) / 2;
                if (Fits(middle))
                {
                    high = middle;
                }
                else
                {
                    low = middle;
                }
            }

            var chosen = ranked.Take(high).ToList();
            var final = CompressionJob.Run(source, output, With(chosen, settings), display, cancellation, progress);
            return final with { KeptFloat = chosen, Reason = Reason(final, high, probes) };
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    // The item's accuracy budget when it has one, else a drop of at most DefaultMaxDrop on the headline metric.
    private static bool Meets(JobResult job, JobSettings settings, string display) =>
        job.Validation is { } validation && (settings.Accuracy.IsSet
            ? !settings.Accuracy.Check(validation, display).Any()
            : AccuracyBudget.Drop(validation) <= DefaultMaxDrop + 1e-12);

    // Named nodes of the main graph that would run in float16, worst float16 error of their outputs first.
    private static List<string> Ranked(Onnx.Ir.Model model, IReadOnlyDictionary<string, HalfError> activations, Fp16Options options)
    {
        var blocked = options.NodeBlockList.Concat(options.OpBlockList).ToHashSet(StringComparer.Ordinal);
        return model.Graph.Nodes
            .Where(n => n.Name.Length > 0 && !n.IsConstant && n.Domain is "" or "ai.onnx" && !blocked.Contains(n.Name) && !blocked.Contains(n.OpType))
            .Select(n => (n.Name, Error: n.Outputs.Select(o => o is not null && activations.TryGetValue(o.Name, out var e) ? e.Relative : 0).DefaultIfEmpty(0).Max()))
            .Where(n => n.Error <= options.MaxRelativeError)
            .OrderByDescending(n => n.Error)
            .Select(n => n.Name)
            .ToList();
    }

    private static string Reason(JobResult job, int searched, int probes)
    {
        var range = job.Compression.Passes.SelectMany(p => p.Result.Counters).Where(c => c.Key == Fp16Pass.NodesKeptForRange).Sum(c => c.Value);
        return searched == 0
            ? $"Fp16 kept {range} node(s) in float32 whose weights or activations (measured on the holdout) float16 cannot hold"
            : $"Fp16 kept {range} node(s) in float32 whose values float16 cannot hold, and {searched} more with the largest measured float16 error, the fewest of {probes} binary-search probes that met the accuracy target";
    }
}
