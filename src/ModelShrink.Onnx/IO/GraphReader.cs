using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Protobuf;
using ModelShrink.Onnx.Tensors;
using AttributeType = ModelShrink.Onnx.Protobuf.AttributeProto.Types.AttributeType;
using IrAttribute = ModelShrink.Onnx.Ir.Attribute;

namespace ModelShrink.Onnx.IO;

/// <summary>
/// Builds the IR of a GraphProto and its subgraphs: one <see cref="Value"/> per name, producers
/// and uses linked (outer-scope reads from subgraphs included), nodes sorted topologically.
/// </summary>
internal sealed class GraphReader(ExternalDataResolver externalData, string file)
{
    public Graph Read(GraphProto proto, Graph? parent, Node? owner, NameRegistry names)
    {
        var graph = new Graph(proto.Name, parent, owner, proto, names);
        foreach (var info in proto.Input)
        {
            var value = Define(graph, info.Name, "graph input");
            value.Type = info.Type;
            graph.Inputs.Add(value);
        }

        foreach (var tensorProto in proto.Initializer)
        {
            var tensor = Tensor.FromProto(tensorProto, externalData.Resolve(tensorProto), file);
            var value = graph.Inputs.Find(v => v.Name == tensorProto.Name) ?? Define(graph, tensorProto.Name, "initializer");
            if (value.Initializer is not null)
            {
                throw Invalid($"graph '{graph.Name}' has two initializers named '{tensorProto.Name}'");
            }

            value.Initializer = tensor;
            graph.AppendInitializer(value);
        }

        // A sparse initializer's name is its values' name (a graph input may list it, as for initializers).
        foreach (var sparseProto in proto.SparseInitializer)
        {
            var sparse = ReadSparse(sparseProto);
            var value = graph.Inputs.Find(v => v.Name == sparse.Name) ?? Define(graph, sparse.Name, "sparse initializer");
            if (value.Initializer is not null || value.SparseInitializer is not null)
            {
                throw Invalid($"graph '{graph.Name}' has two initializers named '{sparse.Name}'");
            }

            value.SparseInitializer = sparse;
            graph.AppendSparseInitializer(value);
        }

        // Outputs first, inputs second: a node may read a value produced further down an unsorted graph.
        var nodes = proto.Node.Select(p => CreateNode(graph, p, names)).ToArray();
        for (var i = 0; i < nodes.Length; i++)
        {
            LinkInputsAndAttributes(graph, nodes[i], proto.Node[i], names);
        }

        foreach (var info in proto.Output)
        {
            var value = graph.FindValue(info.Name)
                ?? throw Invalid($"graph '{graph.Name}' output '{info.Name}' is not produced by any node, input or initializer");
            value.Type ??= info.Type;
            graph.Outputs.Add(value);
        }

        foreach (var info in proto.ValueInfo)
        {
            if (graph.Defines(info.Name) && graph.FindValue(info.Name) is { } value)
            {
                value.Type = info.Type;
                value.Info = info;
            }
        }

        try
        {
            graph.SortTopologically();
        }
        catch (ModelShrinkException e) when (e.Diagnostic.File is null)
        {
            // The sort knows the graph, not the file: name it, as every other reader error does.
            throw new ModelShrinkException(e.Diagnostic with { File = file }, e);
        }

        return graph;
    }

    private Node CreateNode(Graph graph, NodeProto proto, NameRegistry names)
    {
        var node = new Node(graph, proto.OpType, proto.Domain, proto.Name, proto);
        names.AddNodeName(proto.Name);
        foreach (var output in proto.Output)
        {
            node.AddOutput(output.Length == 0 ? null : Define(graph, output, $"output of node '{proto.Name}' ({proto.OpType})"));
        }

        graph.AppendNode(node);
        return node;
    }

    private void LinkInputsAndAttributes(Graph graph, Node node, NodeProto proto, NameRegistry names)
    {
        foreach (var input in proto.Input)
        {
            node.AddInput(input.Length == 0
                ? null
                : graph.FindValue(input) ?? throw Invalid($"node '{proto.Name}' ({proto.OpType}) reads '{input}', which nothing defines"));
        }

        foreach (var attribute in proto.Attribute)
        {
            node.Attributes.Add(ReadAttribute(graph, node, attribute, names));
        }
    }

    private IrAttribute ReadAttribute(Graph graph, Node node, AttributeProto proto, NameRegistry names)
    {
        switch (proto.Type)
        {
            case AttributeType.Graph when proto.G is not null:
                return new IrAttribute(proto, [Read(proto.G, graph, node, names)], null);
            case AttributeType.Graphs:
                return new IrAttribute(proto, proto.Graphs.Select(g => Read(g, graph, node, names)).ToArray(), null);
            case AttributeType.Tensor when proto.T is not null:
                return new IrAttribute(proto, [], Tensor.FromProto(proto.T, externalData.Resolve(proto.T), file));
            default:
                return new IrAttribute(proto, [], null);
        }
    }

    private SparseTensor ReadSparse(SparseTensorProto proto)
    {
        if (proto.Values is null || proto.Indices is null)
        {
            throw ModelShrinkException.Error(ErrorCodes.InvalidTensor,
                $"sparse initializer '{proto.Values?.Name ?? ""}' has no {(proto.Values is null ? "values" : "indices")}", file);
        }

        var values = Tensor.FromProto(proto.Values, externalData.Resolve(proto.Values), file);
        var indices = Tensor.FromProto(proto.Indices, externalData.Resolve(proto.Indices), file);
        return SparseTensor.FromProto(proto, values, indices, file);
    }

    private Value Define(Graph graph, string name, string role)
    {
        // Shadowing an outer name is invalid ONNX; sibling subgraphs (If branches) may reuse names.
        if (graph.FindValue(name) is not null)
        {
            throw Invalid($"'{name}' ({role}) is defined more than once");
        }

        graph.Names.TryAdd(name);
        var value = new Value(graph, name);
        graph.Define(value);
        return value;
    }

    private ModelShrinkException Invalid(string message) =>
        ModelShrinkException.Error(ErrorCodes.InvalidGraph, message, file);
}
