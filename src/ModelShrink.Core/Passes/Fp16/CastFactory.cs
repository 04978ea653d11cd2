using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Protobuf;
using ModelShrink.Onnx.Tensors;
using Attribute = ModelShrink.Onnx.Ir.Attribute;

namespace ModelShrink.Core.Passes.Fp16;

/// <summary>
/// Makes the Casts the conversion needs, one per value and target type: every reader that needs a
/// value in the other precision shares one Cast, placed in the graph that defines the value (so
/// subgraphs reading an outer value share the outer Cast too).
/// </summary>
internal sealed class CastFactory
{
    private readonly Dictionary<(Value Value, DataType To), Value> casts = [];

    /// <summary>The Casts made so far, by their output value.</summary>
    public Dictionary<Value, DataType> Outputs { get; } = [];

    /// <summary>How many Cast nodes this factory inserted.</summary>
    public int Inserted { get; private set; }

    /// <summary>Records a Cast made elsewhere, so readers needing the same conversion share it.</summary>
    public void Register(Value value, DataType to, Value castOutput)
    {
        casts[(value, to)] = castOutput;
        Outputs[castOutput] = to;
    }

    /// <summary>
    /// <paramref name="value"/> cast to <paramref name="to"/>; the Cast goes before <paramref name="reader"/>
    /// (or the node of the value's graph that holds the reader's subgraph). Order is fixed by a topological sort later.
    /// </summary>
    public Value Get(Value value, DataType to, Node? reader)
    {
        if (casts.TryGetValue((value, to), out var existing))
        {
            return existing;
        }

        var output = Create(value.Graph, value, to, reader);
        Register(value, to, output);
        return output;
    }

    /// <summary>
    /// A Cast of <paramref name="value"/> made in <paramref name="graph"/> itself, not shared: for a
    /// subgraph output, which must not be an outer value returned as is.
    /// </summary>
    public Value CreateIn(Graph graph, Value value, DataType to)
    {
        var output = Create(graph, value, to, null);
        Outputs[output] = to;
        return output;
    }

    private Value Create(Graph graph, Value value, DataType to, Node? reader)
    {
        var suffix = to == DataType.Float16 ? "_fp16" : "_fp32";
        var node = graph.AddNode("Cast", [value], [value.Name + suffix], [Attribute.FromInt("to", (long)to)],
            before: reader is null ? null : AncestorIn(graph, reader));
        var output = node.Outputs[0]!;
        output.Type = WithElementType(value.Type, to);
        Inserted++;
        return output;
    }

    /// <summary>
    /// A copy of a float32 tensor type, or sequence of float32 tensors type, with float16 elements;
    /// null for any other type.
    /// </summary>
    public static TypeProto? AsFloat16(TypeProto? type)
    {
        if (type?.TensorType is { ElemType: (int)DataType.Float })
        {
            return WithElementType(type, DataType.Float16);
        }

        if (type?.SequenceType?.ElemType?.TensorType is { ElemType: (int)DataType.Float })
        {
            var copy = type.Clone();
            copy.SequenceType.ElemType.TensorType.ElemType = (int)DataType.Float16;
            return copy;
        }

        return null;
    }

    /// <summary>A copy of a tensor type with another element type; null when there is no tensor type.</summary>
    public static TypeProto? WithElementType(TypeProto? type, DataType elementType)
    {
        if (type?.TensorType is null)
        {
            return null;
        }

        var copy = type.Clone();
        copy.TensorType.ElemType = (int)elementType;
        return copy;
    }

    // The node of 'graph' that is, or (through subgraphs) contains, 'node'.
    private static Node? AncestorIn(Graph graph, Node node)
    {
        for (Node? current = node; current is not null; current = current.Graph.OwnerNode)
        {
            if (current.Graph == graph)
            {
                return current;
            }
        }

        return null;
    }
}
