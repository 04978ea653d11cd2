using Google.Protobuf;
using ModelShrink.Onnx.Protobuf;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Testing;
using AttributeType = ModelShrink.Onnx.Protobuf.AttributeProto.Types.AttributeType;

namespace ModelShrink.Core.Tests.Fp16;

/// <summary>Small hand-written ONNX models for behaviours the fixtures do not contain.</summary>
internal static class ProtoModels
{
    /// <summary>A tensor value_info; a negative dimension is the symbolic "N".</summary>
    public static ValueInfoProto Info(string name, DataType type, params long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var dim in dims)
        {
            shape.Dim.Add(dim < 0 ? new TensorShapeProto.Types.Dimension { DimParam = "N" } : new TensorShapeProto.Types.Dimension { DimValue = dim });
        }

        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } };
    }

    public static NodeProto Node(string op, string[] inputs, string[] outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = outputs[0] + "_node" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        return node;
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeType.Int, I = value };

    public static AttributeProto TensorAttribute(string name, TensorProto tensor) => new() { Name = name, Type = AttributeType.Tensor, T = tensor };

    public static AttributeProto GraphAttribute(string name, GraphProto graph) => new() { Name = name, Type = AttributeType.Graph, G = graph };

    public static TensorProto Floats(string name, long[] dims, params float[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)DataType.Float, RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())) };
        tensor.Dims.AddRange(dims);
        return tensor;
    }

    public static TensorProto Int64s(string name, long[] dims, params long[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)DataType.Int64 };
        tensor.Dims.AddRange(dims);
        tensor.Int64Data.AddRange(values);
        return tensor;
    }

    public static GraphProto Graph(string name, IEnumerable<NodeProto> nodes, IEnumerable<ValueInfoProto> inputs, IEnumerable<ValueInfoProto> outputs,
        IEnumerable<TensorProto>? initializers = null)
    {
        var graph = new GraphProto { Name = name };
        graph.Node.AddRange(nodes);
        graph.Input.AddRange(inputs);
        graph.Output.AddRange(outputs);
        graph.Initializer.AddRange(initializers ?? []);
        return graph;
    }

    /// <summary>Writes a model (IR 8, default opset <paramref name="opset"/>) and returns its path.</summary>
    public static string Save(TempDirectory folder, string name, GraphProto graph, long opset = 17)
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = "tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        var path = folder.File(name + ".onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        return path;
    }
}
