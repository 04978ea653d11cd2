using ModelShrink.Onnx.Ir;

namespace ModelShrink.Core.Passes.Pruning.Channels;

/// <summary>
/// The few static shapes channel pruning needs, read from declared types or worked out backwards
/// through the ops a CNN is made of (Conv, pooling, normalization, element-wise ops, Split, Slice): the size of one
/// axis (a Concat input's share) and the dims after the channel axis (what a Flatten multiplies).
/// Null when not known; the caller then leaves the layer alone. The output shape of each op is in ChannelShapes.Ops.cs.
/// </summary>
internal static partial class ChannelShapes
{
    private const int MaxDepth = 64;

    /// <summary>Ops whose output has their first input's shape.</summary>
    public static readonly IReadOnlySet<string> SameShape = new HashSet<string>(StringComparer.Ordinal)
    {
        "Relu", "LeakyRelu", "PRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Elu", "Selu", "Celu", "Gelu", "Mish",
        "Softplus", "Softsign", "ThresholdedRelu", "Erf", "Abs", "Neg", "Exp", "Log", "Sqrt", "Reciprocal", "Ceil", "Floor",
        "Round", "Sign", "Sin", "Cos", "Identity", "Dropout", "Cast", "Clip", "BatchNormalization", "InstanceNormalization",
    };

    /// <summary>The value's dims as far as known (null entries unknown), or null when even the rank is unknown.</summary>
    public static long?[]? Of(Value value) => Of(value, 0);

    /// <summary>The size of <paramref name="axis"/> (negative counts from the end).</summary>
    public static long? AxisSize(Value value, int axis)
    {
        var dims = Of(value);
        if (dims is null)
        {
            return null;
        }

        var a = axis < 0 ? dims.Length + axis : axis;
        return a >= 0 && a < dims.Length ? dims[a] : null;
    }

    /// <summary>The product of the dims after <paramref name="axis"/> (counted from the front), when all are known.</summary>
    public static long? TrailingSize(Value value, int axis)
    {
        var dims = Of(value);
        if (dims is null || axis >= dims.Length)
        {
            return null;
        }

        long product = 1;
        for (var d = axis + 1; d < dims.Length; d++)
        {
            if (dims[d] is not { } size)
            {
                return null;
            }

            product *= size;
        }

        return product;
    }

    private static long?[]? Of(Value value, int depth)
    {
        var declared = Declared(value);
        if (declared is not null && declared.All(d => d is not null) || depth > MaxDepth)
        {
            return declared;
        }

        var inferred = value.ConstantTensor is { } constant ? constant.Dims.Select(d => (long?)d).ToArray() : Infer(value, depth);
        return Merge(declared, inferred);
    }

    private static long?[]? Declared(Value value)
    {
        if (value.Type?.TensorType is not { Shape: { } shape })
        {
            return null;
        }

        return shape.Dim.Select(d => d.HasDimValue && d.DimValue > 0 ? d.DimValue : (long?)null).ToArray();
    }

    private static long?[]? Merge(long?[]? a, long?[]? b)
    {
        if (a is null || b is null || a.Length != b.Length)
        {
            return a ?? b;
        }

        return a.Zip(b, (x, y) => x ?? y).ToArray();
    }

    private static long?[]? Infer(Value value, int depth)
    {
        if (value.Producer is { } split && split.Is("Split") && split.Inputs.Count > 0 && split.Inputs[0] is { } whole)
        {
            return SplitPart(split, value.ProducerOutputIndex, Of(whole, depth + 1));
        }

        if (value.Producer is not { } node || value.ProducerOutputIndex != 0 || node.Inputs.Count == 0 || node.Inputs[0] is not { } input)
        {
            return null;
        }

        if (SameShape.Contains(node.OpType))
        {
            return Of(input, depth + 1);
        }

        switch (node.OpType)
        {
            case "Add" or "Sub" or "Mul" or "Div" or "Pow" or "Max" or "Min":
                return Broadcast(node.Inputs.OfType<Value>().Select(v => Of(v, depth + 1)).ToList());
            case "Conv":
                var weight = node.Inputs.Count > 1 ? node.Inputs[1]?.ConstantTensor?.Dims.ToArray() : null;
                return Windowed(node, Of(input, depth + 1) ?? (weight is null ? null : new long?[weight.Length]), weight, isConv: true);
            case "Concat":
                return Concatenated(node, node.Inputs.Select(v => v is null ? null : Of(v, depth + 1)).ToList());
            case "MaxPool" or "AveragePool" or "LpPool":
                return Windowed(node, Of(input, depth + 1), null, isConv: false);
            case "GlobalAveragePool" or "GlobalMaxPool" or "GlobalLpPool":
                return Of(input, depth + 1) is { } pooled ? pooled.Select((d, i) => i < 2 ? d : 1).ToArray() : null;
            case "Resize" or "Upsample":
                return Resized(node, Of(input, depth + 1));
            case "Pad":
                return Padded(node, Of(input, depth + 1));
            case "Slice":
                return Sliced(node, Of(input, depth + 1));
            case "Shape" when node.FindAttribute("start") is null && node.FindAttribute("end") is null:
                return Of(input, depth + 1) is { } shaped ? [shaped.Length] : null;
            default:
                return null;
        }
    }

    /// <summary>A constant 1-D tensor of int32 or int64 (sizes, bounds, axes, shapes), as longs.</summary>
    public static long[]? Integers(Value? value) => value?.ConstantTensor switch
    {
        { DataType: Onnx.Tensors.DataType.Int64 } tensor => tensor.ToArray<long>(),
        { DataType: Onnx.Tensors.DataType.Int32 } tensor => tensor.ToArray<int>().Select(v => (long)v).ToArray(),
        _ => null,
    };

    /// <summary>
    /// A Pad's pads for a value of <paramref name="rank"/> (the begins, then the ends: 2 × rank), from its constant
    /// input (opset 11 on) or attribute; null when they are computed, of another length or only for some axes.
    /// </summary>
    public static long[]? ConstantPads(Node pad, int? rank)
    {
        var pads = pad.Inputs.Count > 1 && pad.Inputs[1] is { } value ? value.ConstantTensor?.ToArray<long>() : pad.GetInts("pads")?.ToArray();
        return rank is { } r && pads is not null && pads.Length == 2 * r && pad.Inputs.ElementAtOrDefault(3) is null ? pads : null;
    }
}
