using ModelShrink.Onnx.Ir;

namespace ModelShrink.Core.Passes.Pruning.Channels.Attention;

/// <summary>
/// One element of a Reshape's shape and where it is written: element <see cref="Index"/> of input <see cref="Slot"/>
/// of <see cref="Holder"/> (the Reshape, when the shape is a constant; else the Concat piece it comes from), with
/// its value when that piece is constant.
/// </summary>
internal readonly record struct ShapeElement(Node Holder, int Slot, int Index, long? Value)
{
    /// <summary>The edit that makes this element count <paramref name="heads"/> × <paramref name="perHead"/> heads fewer.</summary>
    public ShapeEdit Edit(long heads, long perHead) => new(Holder, Slot, Index, heads, perHead);
}

/// <summary>
/// The elements of a Reshape's shape input, as far as they can be placed: a constant, or a Concat along axis 0 of
/// pieces whose lengths are known (constants, a scalar unsqueezed, declared shapes; one piece of unknown length is
/// whatever the others leave of the expected rank). Exporters build dynamic shapes this way
/// (<c>Concat(Unsqueeze(Gather(Shape(x), 0)), ..., [heads], [head size])</c>).
/// </summary>
internal static class ShapeElements
{
    /// <summary>The elements of <paramref name="reshape"/>'s shape, or null when they cannot be placed.</summary>
    public static IReadOnlyList<ShapeElement>? Of(Node reshape, int? rank)
    {
        if (reshape.Inputs.ElementAtOrDefault(1) is not { } shape)
        {
            return null;
        }

        if (shape.ConstantTensor is { Dims.Count: 1 } constant)
        {
            return constant.ToArray<long>().Select((v, i) => new ShapeElement(reshape, 1, i, v)).ToArray();
        }

        if (shape.Producer is not { } concat || !concat.Is("Concat") || concat.GetInt("axis", 0) is not (0 or -1))
        {
            return null;
        }

        var lengths = concat.Inputs.Select(piece => piece is null ? 0 : Length(piece)).ToArray();
        var unknown = Array.FindAll(lengths, l => l is null).Length;
        if (unknown > 1 || (unknown == 1 && rank is null))
        {
            return null;
        }

        var result = new List<ShapeElement>();
        for (var slot = 0; slot < concat.Inputs.Count; slot++)
        {
            var length = lengths[slot] ?? rank!.Value - lengths.Sum(l => l ?? 0);
            var values = concat.Inputs[slot]?.ConstantTensor?.ToArray<long>();
            for (var i = 0; i < length; i++)
            {
                result.Add(new ShapeElement(concat, slot, i, values?[i]));
            }
        }

        return rank is null || result.Count == rank ? result : null;
    }

    /// <summary>Whether every reader of <paramref name="reshape"/>'s shape (the value, or the Concat building it) is among <paramref name="readers"/>.</summary>
    public static bool OnlyFor(Node reshape, IReadOnlySet<Node> readers) =>
        reshape.Inputs[1] is not { } shape || shape.ConstantTensor is not null || shape.Uses.All(u => readers.Contains(u.Node));

    // A 1-D piece's length: a constant's, a scalar made 1-D by Unsqueeze, the declared one, or one inferred
    // (a Cast of a constant, a Slice of a Shape).
    private static long? Length(Value piece)
    {
        if (piece.ConstantTensor is { Dims.Count: 1 } constant)
        {
            return constant.ElementCount;
        }

        if (piece.Producer is { } node && node.Is("Unsqueeze") && node.Inputs[0] is { } scalar && IsScalar(scalar))
        {
            return 1;
        }

        return piece.Type?.TensorType?.Shape is { Dim: [{ HasDimValue: true } dim] } ? dim.DimValue
            : ChannelShapes.Of(piece) is [{ } inferred] ? inferred : null;
    }

    // A Gather of one element by a scalar index (Shape(x)[i]), or a declared scalar.
    private static bool IsScalar(Value value) =>
        (value.Producer is { } gather && gather.Is("Gather") && gather.Inputs.ElementAtOrDefault(1)?.ConstantTensor is { Dims.Count: 0 })
        || value.Type?.TensorType?.Shape is { Dim.Count: 0 };
}
