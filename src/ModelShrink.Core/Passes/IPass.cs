using ModelShrink.Onnx.Ir;

namespace ModelShrink.Core.Passes;

/// <summary>
/// One IR -> IR transformation: the unit the engine's pipeline is made of. A pass rewrites the
/// model in place, reads only its own typed options (given to its constructor), and knows nothing
/// of files, MSBuild or the command line.
/// </summary>
public interface IPass
{
    /// <summary>A short stable name, used in reports and in errors ("cleanup", "int8-dynamic").</summary>
    string Name { get; }

    /// <summary>Runs the pass on <paramref name="model"/>.</summary>
    PassResult Run(Model model, PassContext context);

    /// <summary>Data an earlier pass must have provided; a pipeline without such a pass fails when it is built.</summary>
    IReadOnlyList<PassData> Requires => [];

    /// <summary>Data the pass uses when an earlier pass provided it (layer statistics make the quantizers reconstruct).</summary>
    IReadOnlyList<PassData> Uses => [];

    /// <summary>Data the pass leaves for later passes.</summary>
    IReadOnlyList<PassData> Provides => [];
}

/// <summary>What a pass did.</summary>
/// <param name="Modified">Whether the model changed.</param>
/// <param name="Counters">Named counts for the report, e.g. "weights quantized" = 12.</param>
public sealed record PassResult(bool Modified, IReadOnlyDictionary<string, long> Counters)
{
    /// <summary>A result for a pass that changed nothing.</summary>
    public static PassResult Unchanged { get; } = new(false, new Dictionary<string, long>());

    /// <summary>A result with counters; modified when any counter is non-zero.</summary>
    public static PassResult FromCounters(IReadOnlyDictionary<string, long> counters) =>
        new(counters.Values.Any(v => v != 0), counters);
}
