using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Passes.Pruning;

/// <summary>
/// The <c>sparse-storage</c> pass, last in a pipeline that prunes (after any quantization, so it
/// stores the final weights): each weight initializer (float, float16, bfloat16, double, int8,
/// uint8; at least <see cref="MinElements"/> elements; not a graph input or output) whose
/// <c>sparse_initializer</c> form is smaller than its dense form is stored sparsely, with the index
/// type <see cref="PruneOptions.Storage"/> asks for. The conversion is exact (only all-zero
/// elements are left out). ONNX Runtime 1.31 loads such a model on any provider: it makes the
/// weight dense again when the session is created, so this saves disk, not memory or time.
/// <para>
/// Counters: sparse initializers, bytes as dense and bytes as sparse (of the weights converted),
/// and weight bytes on disk and dense (all weight initializers, after the pass and if all were dense).
/// </para>
/// </summary>
public sealed class SparseStoragePass(PruneOptions options) : IPass
{
    /// <summary>Weights smaller than this stay dense: the sparse form's own overhead is not worth it.</summary>
    public const long MinElements = 256;

    /// <inheritdoc />
    public string Name => "sparse-storage";

    /// <inheritdoc />
    public PassResult Run(Model model, PassContext context)
    {
        long converted = 0, denseBytes = 0, sparseBytes = 0;
        if (options.Storage != PruneStorage.Dense)
        {
            foreach (var graph in model.Graph.EnumerateGraphs().ToList())
            {
                foreach (var value in graph.Initializers.ToList())
                {
                    context.Cancellation.ThrowIfCancellationRequested();
                    var tensor = value.Initializer!;
                    if (!Eligible(value, tensor))
                    {
                        continue;
                    }

                    var indexType = options.Storage == PruneStorage.SparseInt64 ? DataType.Int64 : SparseTensor.NarrowestIndexType(tensor.ElementCount);
                    var size = SparseTensor.ByteCountFor(SparseTensor.StoredCountOf(tensor), tensor.DataType, indexType);
                    if (size >= tensor.ByteCount)
                    {
                        continue;
                    }

                    graph.StoreSparse(value, SparseTensor.FromDense(tensor, indexType));
                    converted++;
                    denseBytes += tensor.ByteCount;
                    sparseBytes += size;
                }
            }
        }

        var all = model.Graph.EnumerateGraphs().ToList();
        var onDisk = all.SelectMany(g => g.Initializers).Sum(v => v.Initializer!.ByteCount)
            + all.SelectMany(g => g.SparseInitializers).Sum(v => v.SparseInitializer!.ByteCount);
        var asDense = all.SelectMany(g => g.Initializers).Sum(v => v.Initializer!.ByteCount)
            + all.SelectMany(g => g.SparseInitializers).Sum(v => v.SparseInitializer!.Values.DataType.RawByteCount(v.SparseInitializer.ElementCount));
        var counters = new Dictionary<string, long>
        {
            ["sparse initializers"] = converted,
            ["bytes as dense"] = denseBytes,
            ["bytes as sparse"] = sparseBytes,
            ["weight bytes on disk"] = onDisk,
            ["weight bytes if dense"] = asDense,
        };
        return new PassResult(converted > 0, counters);
    }

    private static bool Eligible(Value value, Tensor tensor) =>
        !value.IsGraphInput && !value.IsGraphOutput && tensor.ElementCount >= MinElements
        && tensor.DataType is DataType.Float or DataType.Float16 or DataType.BFloat16 or DataType.Double or DataType.Int8 or DataType.UInt8;
}
