using System.Collections.Concurrent;
using ModelShrink.Core.Validation.Running;

namespace ModelShrink.Core.Validation;

/// <summary>
/// The original model's outputs on the holdout batches, kept by a search so each of its many
/// candidates runs only its own model (the teacher once, not once per candidate). Bounded: past
/// <see cref="MaxBytes"/> further batches are simply run again.
/// </summary>
public sealed class ReferenceOutputs
{
    /// <summary>At most this many bytes of outputs are kept.</summary>
    public const long MaxBytes = 1L << 30;

    private readonly ConcurrentDictionary<(string Original, string Holdout, int Batch), IReadOnlyList<OutputValues>> batches = new();
    private long bytes;

    /// <summary>The outputs of batch <paramref name="index"/>, run by <paramref name="run"/> the first time.</summary>
    public IReadOnlyList<OutputValues> Get(string original, string holdout, int index, Func<IReadOnlyList<OutputValues>> run)
    {
        var key = (Path.GetFullPath(original), holdout, index);
        if (batches.TryGetValue(key, out var known))
        {
            return known;
        }

        var outputs = run();
        var size = outputs.Sum(o => (long)o.Values.Length * sizeof(float));
        if (Interlocked.Add(ref bytes, size) <= MaxBytes)
        {
            batches.TryAdd(key, outputs);
        }

        return outputs;
    }
}
