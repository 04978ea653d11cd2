using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Protobuf;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Validation.Holdout;

/// <summary>One model input as holdout data must match it: name, element type, shape (null = any size).</summary>
public sealed record InputSignature(string Name, DataType Type, IReadOnlyList<long?>? Shape)
{
    /// <summary>The shape as text: <c>[?,1,8,8]</c>, or <c>[*]</c> when unknown.</summary>
    public string ShapeText => Shape is null ? "[*]" : "[" + string.Join(",", Shape.Select(d => d?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?")) + "]";
}

/// <summary>The inputs a model expects (graph inputs that are not initializers), in order.</summary>
public sealed record ModelSignature(IReadOnlyList<InputSignature> Inputs)
{
    /// <summary>Reads the signature of <paramref name="model"/>.</summary>
    public static ModelSignature Of(Model model) => new(model.Graph.Inputs
        .Where(v => v.Initializer is null)
        .Select(v => new InputSignature(v.Name, v.ElementType ?? DataType.Undefined, Shape(v.Type)))
        .ToArray());

    private static IReadOnlyList<long?>? Shape(TypeProto? type) =>
        type?.TensorType?.Shape is { } shape
            ? shape.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue : (long?)null).ToArray()
            : null;
}
