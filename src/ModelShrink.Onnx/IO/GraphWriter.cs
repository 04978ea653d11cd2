using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Protobuf;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Onnx.IO;

/// <summary>
/// Writes the IR back into GraphProtos. Each graph and node starts from the proto it was read
/// from (doc strings, metadata, annotations and unknown fields survive); the IR supplies the
/// nodes, names, initializers and subgraphs.
/// </summary>
internal sealed class GraphWriter(TensorSink tensors)
{
    public GraphProto Write(Graph graph)
    {
        var proto = Shell(graph);
        foreach (var input in graph.Inputs)
        {
            proto.Input.Add(Info(input, graph.Source?.Input));
        }

        foreach (var output in graph.Outputs)
        {
            proto.Output.Add(Info(output, graph.Source?.Output));
        }

        foreach (var initializer in graph.Initializers)
        {
            proto.Initializer.Add(tensors.Write(initializer.Initializer!));
        }

        foreach (var sparse in graph.SparseInitializers)
        {
            proto.SparseInitializer.Add(WriteSparse(sparse.SparseInitializer!));
        }

        foreach (var node in graph.Nodes)
        {
            proto.Node.Add(WriteNode(node));
        }

        WriteValueInfo(graph, proto);
        return proto;
    }

    private static GraphProto Shell(Graph graph)
    {
        var proto = graph.Source?.Clone() ?? new GraphProto();
        proto.Node.Clear();
        proto.Initializer.Clear();
        proto.SparseInitializer.Clear();
        proto.Input.Clear();
        proto.Output.Clear();
        proto.ValueInfo.Clear();
        if (proto.Name != graph.Name)
        {
            proto.Name = graph.Name;
        }

        return proto;
    }

    // A sparse tensor read from the file and never replaced goes back as it was.
    private SparseTensorProto WriteSparse(SparseTensor sparse)
    {
        if (sparse.Source is { } source && sparse.Values.External is null && sparse.Indices.External is null)
        {
            return source;
        }

        var proto = new SparseTensorProto { Values = tensors.Write(sparse.Values), Indices = tensors.Write(sparse.Indices) };
        proto.Dims.AddRange(sparse.Dims);
        return proto;
    }

    private NodeProto WriteNode(Node node)
    {
        NodeProto proto;
        if (node.Source is { } source)
        {
            proto = source.Clone();
            proto.Input.Clear();
            proto.Output.Clear();
            proto.Attribute.Clear();
        }
        else
        {
            proto = new NodeProto();
        }

        // Assign only what changed, so a field absent in the source stays absent.
        if (proto.Name != node.Name)
        {
            proto.Name = node.Name;
        }

        if (proto.OpType != node.OpType)
        {
            proto.OpType = node.OpType;
        }

        if (proto.Domain != node.Domain)
        {
            proto.Domain = node.Domain;
        }

        proto.Input.AddRange(node.Inputs.Select(v => v?.Name ?? ""));
        proto.Output.AddRange(node.Outputs.Select(v => v?.Name ?? ""));
        foreach (var attribute in node.Attributes)
        {
            proto.Attribute.Add(WriteAttribute(attribute));
        }

        return proto;
    }

    private AttributeProto WriteAttribute(Ir.Attribute attribute)
    {
        if (attribute.Graphs.Count == 0 && attribute.Tensor is null)
        {
            return attribute.Proto;
        }

        var proto = attribute.Proto.Clone();
        if (attribute.Tensor is not null)
        {
            proto.T = tensors.Write(attribute.Tensor);
        }

        if (proto.Type == AttributeProto.Types.AttributeType.Graph)
        {
            proto.G = Write(attribute.Graphs[0]);
        }
        else if (proto.Type == AttributeProto.Types.AttributeType.Graphs)
        {
            proto.Graphs.Clear();
            proto.Graphs.AddRange(attribute.Graphs.Select(Write));
        }

        return proto;
    }

    // value_info in the original order for values that still exist, then new typed values.
    private static void WriteValueInfo(Graph graph, GraphProto proto)
    {
        var written = new HashSet<string>(StringComparer.Ordinal);
        var boundary = graph.Inputs.Concat(graph.Outputs).Select(v => v.Name).ToHashSet(StringComparer.Ordinal);
        IEnumerable<Value> candidates = (graph.Source?.ValueInfo.Select(i => graph.FindValue(i.Name)) ?? [])
            .Concat(graph.Nodes.SelectMany(n => n.Outputs))
            .OfType<Value>()
            .Where(v => v.Graph == graph);
        foreach (var value in candidates)
        {
            if (value.Type is not null && !boundary.Contains(value.Name) && value.Initializer is null && value.SparseInitializer is null && written.Add(value.Name))
            {
                proto.ValueInfo.Add(InfoFor(value, value.Info));
            }
        }
    }

    private static ValueInfoProto Info(Value value, IList<ValueInfoProto>? originals) =>
        InfoFor(value, originals?.FirstOrDefault(i => i.Name == value.Name));

    private static ValueInfoProto InfoFor(Value value, ValueInfoProto? original)
    {
        if (original is not null && original.Name == value.Name && Equals(original.Type, value.Type))
        {
            return original;
        }

        var info = original?.Clone() ?? new ValueInfoProto();
        info.Name = value.Name;
        info.Type = value.Type?.Clone();
        return info;
    }
}
