using ModelShrink.Core.Passes.Pruning;
using ModelShrink.Core.Validation;

namespace ModelShrink.Core.Compression;

/// <summary>One level of a pruning sweep, as ONNX Runtime measured it on the holdout data.</summary>
/// <param name="Sparsity">The sparsity asked for.</param>
/// <param name="Accuracy">Top-1 accuracy against the labels (null without labels).</param>
/// <param name="OriginalAccuracy">The original's accuracy (null without labels).</param>
/// <param name="Agreement">Top-1 agreement with the original (null without a class axis).</param>
/// <param name="Cosine">Cosine similarity with the original's outputs.</param>
/// <param name="Bytes">The compressed model's size on disk.</param>
public sealed record PruningSweepRow(double Sparsity, double? Accuracy, double? OriginalAccuracy, double? Agreement, double Cosine, long Bytes);

/// <summary>
/// Accuracy against sparsity for one model: compresses it once per level with the given pruning
/// (and the rest of <see cref="CompressionOptions"/>, so prune-then-quantize can be swept too),
/// compares each result with the original on holdout data (<see cref="ModelComparer"/>), and returns
/// the table, for a report or for a search that picks the sparsest level within a budget.
/// </summary>
public static class PruningSweep
{
    /// <summary>Levels 0.1 to 0.9 in steps of 0.1.</summary>
    public static IReadOnlyList<double> DefaultLevels { get; } = Enumerable.Range(1, 9).Select(i => i / 10.0).ToArray();

    /// <summary>
    /// Runs the sweep. Candidates are written to a scratch folder inside <paramref name="workFolder"/>
    /// and removed afterwards.
    /// </summary>
    public static IReadOnlyList<PruningSweepRow> Run(string model, string holdout, PruneOptions prune, IEnumerable<double> levels, string workFolder,
        CompressionOptions? compression = null, ValidationOptions? validation = null, CancellationToken cancellation = default)
    {
        var scratch = Path.Combine(workFolder, $"sweep-{Guid.NewGuid():N}");
        Directory.CreateDirectory(scratch);
        try
        {
            var rows = new List<PruningSweepRow>();
            foreach (var level in levels)
            {
                cancellation.ThrowIfCancellationRequested();
                var candidate = Path.Combine(scratch, $"{rows.Count}.onnx");
                var options = (compression ?? new CompressionOptions()) with { Prune = prune with { Sparsity = level } };
                var result = Compressor.Run(model, candidate, options, cancellation);
                var values = ModelComparer.Compare(model, candidate, holdout, validation, cancellation).Values;
                rows.Add(new PruningSweepRow(level, values.Accuracy, values.OriginalAccuracy, values.Agreement, values.Cosine, result.CompressedBytes));
            }

            return rows;
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }
}
