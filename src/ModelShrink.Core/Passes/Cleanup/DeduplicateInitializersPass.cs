using System.IO.Hashing;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Passes.Cleanup;

/// <summary>
/// Merges initializers with the same element type, shape and bytes: readers of a duplicate are
/// rewired to the first copy and the duplicate is removed. Initializers are grouped by type, shape
/// and a hash (XxHash128) of their first bytes, and within a group compared in full: weights that
/// differ in their first 64 KB are never read further (hashing every byte read a 3 GB model whole,
/// a second of the clean-up, to merge nothing). A duplicate is merged only into a copy its readers can see:
/// one in the same graph or in an enclosing graph, never across sibling subgraphs. Initializers
/// listed as graph inputs (a caller may feed other values) and those that are graph outputs are
/// never merged.
/// </summary>
public sealed class DeduplicateInitializersPass : IPass
{
    /// <inheritdoc />
    public string Name => "deduplicate-initializers";

    /// <inheritdoc />
    public PassResult Run(Model model, PassContext context)
    {
        var kept = new Dictionary<Key, List<Value>>();
        long merged = 0;

        // Enclosing graphs come before the subgraphs they hold, so the copy kept is the outermost.
        foreach (var graph in model.Graph.EnumerateGraphs().ToArray())
        {
            foreach (var value in graph.Initializers.ToArray())
            {
                context.Cancellation.ThrowIfCancellationRequested();
                if (value.IsGraphInput || value.IsGraphOutput)
                {
                    continue;
                }

                var tensor = value.Initializer!;
                var key = new Key(tensor.DataType, string.Join(",", tensor.Dims), PrefixHash(tensor));
                if (!kept.TryGetValue(key, out var candidates))
                {
                    kept[key] = candidates = [];
                }

                var original = candidates.FirstOrDefault(c => Encloses(c.Graph, graph) && SameData(c.Initializer!, tensor));
                if (original is null)
                {
                    candidates.Add(value);
                    continue;
                }

                value.ReplaceAllUsesWith(original);
                graph.RemoveInitializer(value);
                merged++;
            }
        }

        return PassResult.FromCounters(new Dictionary<string, long> { ["duplicates merged"] = merged });
    }

    private static bool Encloses(Graph outer, Graph inner)
    {
        for (var g = inner; g is not null; g = g.Parent)
        {
            if (g == outer)
            {
                return true;
            }
        }

        return false;
    }

    private const int PrefixBytes = 64 * 1024;

    private static UInt128 PrefixHash(Tensor tensor)
    {
        if (tensor.DataType != DataType.String)
        {
            var bytes = tensor.GetRawData().Span;
            return XxHash128.HashToUInt128(bytes[..Math.Min(bytes.Length, PrefixBytes)]);
        }

        var hash = new XxHash128();
        Span<byte> length = stackalloc byte[sizeof(int)];
        foreach (var s in tensor.StringBytes())
        {
            BitConverter.TryWriteBytes(length, s.Length);
            hash.Append(length);
            hash.Append(s.Span);
        }

        return hash.GetCurrentHashAsUInt128();
    }

    private static bool SameData(Tensor a, Tensor b)
    {
        if (a.DataType != b.DataType || !a.Dims.SequenceEqual(b.Dims))
        {
            return false;
        }

        if (a.DataType != DataType.String)
        {
            return a.GetRawData().Span.SequenceEqual(b.GetRawData().Span);
        }

        var sa = a.StringBytes();
        var sb = b.StringBytes();
        return sa.Count == sb.Count && sa.Zip(sb).All(p => p.First.Span.SequenceEqual(p.Second.Span));
    }

    private readonly record struct Key(DataType Type, string Dims, UInt128 Hash);
}
