using Google.Protobuf;
using ModelShrink.Onnx.Protobuf;
using ModelShrink.Onnx.Tensors;
using AttributeType = ModelShrink.Onnx.Protobuf.AttributeProto.Types.AttributeType;

namespace ModelShrink.Onnx.Ir;

/// <summary>
/// A node attribute. Scalars and lists stay in their proto; graph attributes hold IR graphs (so
/// passes can walk and rewrite subgraphs) and tensor attributes hold IR tensors.
/// </summary>
public sealed class Attribute
{
    internal Attribute(AttributeProto proto, IReadOnlyList<Graph> graphs, Tensor? tensor)
    {
        Proto = proto;
        Graphs = graphs;
        Tensor = tensor;
    }

    /// <summary>The attribute's name.</summary>
    public string Name => Proto.Name;

    /// <summary>The attribute's type.</summary>
    public AttributeType Type => Proto.Type;

    /// <summary>The proto that holds scalar and list values (graph and tensor fields are rebuilt on save).</summary>
    internal AttributeProto Proto { get; }

    /// <summary>The subgraphs of a GRAPH (one) or GRAPHS attribute; empty otherwise.</summary>
    public IReadOnlyList<Graph> Graphs { get; }

    /// <summary>The tensor of a TENSOR attribute, else null.</summary>
    public Tensor? Tensor { get; }

    /// <summary>The INT value.</summary>
    public long Int => Proto.I;

    /// <summary>The FLOAT value.</summary>
    public float Float => Proto.F;

    /// <summary>The STRING value, as UTF-8.</summary>
    public string String => Proto.S.ToStringUtf8();

    /// <summary>The INTS value.</summary>
    public IReadOnlyList<long> Ints => Proto.Ints;

    /// <summary>The FLOATS value.</summary>
    public IReadOnlyList<float> Floats => Proto.Floats;

    /// <summary>The STRINGS value, as UTF-8.</summary>
    public IReadOnlyList<string> Strings => Proto.Strings.Select(s => s.ToStringUtf8()).ToArray();

    /// <summary>An INT attribute.</summary>
    public static Attribute FromInt(string name, long value) => Scalar(new AttributeProto { Name = name, Type = AttributeType.Int, I = value });

    /// <summary>A FLOAT attribute.</summary>
    public static Attribute FromFloat(string name, float value) => Scalar(new AttributeProto { Name = name, Type = AttributeType.Float, F = value });

    /// <summary>A STRING attribute (UTF-8).</summary>
    public static Attribute FromString(string name, string value) => Scalar(new AttributeProto { Name = name, Type = AttributeType.String, S = ByteString.CopyFromUtf8(value) });

    /// <summary>An INTS attribute.</summary>
    public static Attribute FromInts(string name, IEnumerable<long> values)
    {
        var proto = new AttributeProto { Name = name, Type = AttributeType.Ints };
        proto.Ints.AddRange(values);
        return Scalar(proto);
    }

    /// <summary>A FLOATS attribute.</summary>
    public static Attribute FromFloats(string name, IEnumerable<float> values)
    {
        var proto = new AttributeProto { Name = name, Type = AttributeType.Floats };
        proto.Floats.AddRange(values);
        return Scalar(proto);
    }

    /// <summary>A TENSOR attribute.</summary>
    public static Attribute FromTensor(string name, Tensor tensor) =>
        new(new AttributeProto { Name = name, Type = AttributeType.Tensor }, [], tensor);

    private static Attribute Scalar(AttributeProto proto) => new(proto, [], null);

    /// <inheritdoc />
    public override string ToString() => $"{Name}:{Type}";
}
