using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Protobuf;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Inspection;

/// <summary>Summarises a loaded model for <c>modelshrink inspect</c>.</summary>
public static class ModelInspector
{
    /// <summary>How many of the largest weights the summary lists.</summary>
    public const int LargestWeightCount = 10;

    /// <summary>Builds the summary of <paramref name="model"/>, read from <paramref name="file"/>.</summary>
    public static ModelSummary Summarize(Model model, string file)
    {
        var weights = Weights(model.Graph).ToArray();
        var nodes = model.Graph.EnumerateNodes().ToArray();
        var producer = string.Join(" ", new[] { model.ProducerName, model.ProducerVersion }.Where(s => s.Length > 0));

        return new ModelSummary(
            File: file,
            FileBytes: model.Path is null ? 0 : new FileInfo(model.Path).Length,
            IrVersion: model.IrVersion,
            Producer: producer,
            Opsets: model.Opsets.All.Select(o => new OpsetSummary(o.Key.Length == 0 ? "ai.onnx" : o.Key, o.Value)).ToArray(),
            Inputs: model.Graph.Inputs.Where(v => v.Initializer is null).Select(Signature).ToArray(),
            Outputs: model.Graph.Outputs.Select(Signature).ToArray(),
            NodeCount: nodes.Length,
            SubgraphCount: model.Graph.EnumerateGraphs().Count() - 1,
            Operators: nodes.GroupBy(n => n.Domain is "" or "ai.onnx" ? n.OpType : $"{n.Domain}.{n.OpType}")
                .Select(g => new OpCount(g.Key, g.Count()))
                .OrderByDescending(c => c.Count).ThenBy(c => c.OpType, StringComparer.Ordinal).ToArray(),
            ParameterCount: weights.Sum(w => w.Elements),
            ParameterBytes: weights.Sum(w => w.Bytes),
            ParametersByType: weights.GroupBy(w => w.Type)
                .Select(g => new DataTypeTotal(g.Key, g.Sum(w => w.Elements), g.Sum(w => w.Bytes)))
                .OrderByDescending(t => t.Bytes).ToArray(),
            LargestWeights: weights.OrderByDescending(w => w.Bytes).ThenBy(w => w.Name, StringComparer.Ordinal).Take(LargestWeightCount).ToArray(),
            ExternalData: ExternalFiles(model.Graph));
    }

    // Initializers of every graph and the tensors of Constant nodes: the three places exporters put weights.
    private static IEnumerable<WeightSummary> Weights(Graph main)
    {
        foreach (var graph in main.EnumerateGraphs())
        {
            foreach (var value in graph.Initializers)
            {
                yield return Weight(value.Initializer!, value.IsGraphInput ? "initializer (also a graph input)" : "initializer");
            }

            // Sparse initializers count their dense elements and the bytes they store.
            foreach (var value in graph.SparseInitializers)
            {
                var sparse = value.SparseInitializer!;
                yield return new WeightSummary(sparse.Name, sparse.DataType.DisplayName(), sparse.Dims, sparse.ElementCount, sparse.ByteCount,
                    $"sparse initializer, {sparse.StoredCount} stored");
            }

            foreach (var node in graph.Nodes.Where(n => n.IsConstant))
            {
                if (node.ConstantValue() is { } tensor)
                {
                    yield return Weight(tensor, "Constant node");
                }
            }
        }
    }

    private static WeightSummary Weight(Tensor tensor, string storage) =>
        new(tensor.Name, tensor.DataType.DisplayName(), tensor.Dims, tensor.ElementCount, tensor.ByteCount,
            tensor.External is null ? storage : $"{storage}, external");

    private static IReadOnlyList<ExternalFileSummary> ExternalFiles(Graph main)
    {
        var tensors = main.EnumerateGraphs().SelectMany(g => g.Initializers.Select(v => v.Initializer!))
            .Concat(main.EnumerateNodes().SelectMany(n => n.Attributes).Select(a => a.Tensor).OfType<Tensor>());
        return tensors.Where(t => t.External is not null)
            .GroupBy(t => t.External!.Location)
            .Select(g => new ExternalFileSummary(g.Key, g.Count(), g.Sum(t => t.External!.Length)))
            .OrderBy(f => f.Location, StringComparer.Ordinal).ToArray();
    }

    private static TensorSignature Signature(Value value)
    {
        var type = value.Type;
        return type?.ValueCase switch
        {
            TypeProto.ValueOneofCase.TensorType => new TensorSignature(value.Name,
                ((DataType)type.TensorType.ElemType).DisplayName(), Shape(type.TensorType.Shape)),
            null => new TensorSignature(value.Name, "unknown", []),
            _ => new TensorSignature(value.Name, type.ValueCase.ToString().Replace("Type", "").ToLowerInvariant(), []),
        };
    }

    private static IReadOnlyList<string> Shape(TensorShapeProto? shape) =>
        shape is null
            ? ["*"]
            : shape.Dim.Select(d => d.ValueCase switch
            {
                TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue => d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture),
                TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam => d.DimParam,
                _ => "?",
            }).ToArray();
}
