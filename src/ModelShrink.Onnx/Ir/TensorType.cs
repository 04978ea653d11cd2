using ModelShrink.Onnx.Protobuf;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Onnx.Ir;

/// <summary>One dimension of a declared shape: a size, a symbolic name, or unknown.</summary>
public readonly record struct Dim(long? Size, string? Symbol)
{
    /// <summary>A fixed size.</summary>
    public static implicit operator Dim(long size) => new(size, null);

    /// <summary>A symbolic dimension such as "N".</summary>
    public static implicit operator Dim(string symbol) => new(null, symbol);
}

/// <summary>Builds tensor TypeProtos for graph inputs, outputs and value_info.</summary>
public static class TensorType
{
    /// <summary>A tensor type with element type <paramref name="type"/> and shape <paramref name="dims"/>.</summary>
    public static TypeProto Of(DataType type, params Dim[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var dim in dims)
        {
            var d = new TensorShapeProto.Types.Dimension();
            if (dim.Size is { } size)
            {
                d.DimValue = size;
            }
            else if (dim.Symbol is { } symbol)
            {
                d.DimParam = symbol;
            }

            shape.Dim.Add(d);
        }

        return new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } };
    }

    /// <summary>A tensor type of element type <paramref name="type"/> whose shape (and rank) is unknown.</summary>
    public static TypeProto OfUnknownShape(DataType type) =>
        new() { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type } };
}
