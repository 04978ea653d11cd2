using ModelShrink.Core.Passes.Pruning.Channels.Attention;
using ModelShrink.Onnx.Ir;
using static ModelShrink.Core.Passes.Pruning.Channels.NodeText;

namespace ModelShrink.Core.Passes.Pruning.Channels.Layout;

/// <summary>
/// The flatten before a classifier as exporters write it: <c>Reshape(x, Concat(batch read from Shape(x), [width or -1]))</c>.
/// A Shape of the channels whose readers take only other dims reads nothing of them; a Reshape that flattens the
/// channel axis with the axes after it moves them as Flatten does (<see cref="ChannelLayout"/> calls both).
/// </summary>
internal static class FlattenRules
{
    /// <summary>
    /// Whether what is read of a Shape of the channels (<paramref name="node"/>, the channels at <paramref name="mapping"/>)
    /// leaves out the channel count: its readers, through Casts, are Slices and Gathers (axis 0, constant) of other dims.
    /// </summary>
    public static bool ReadsOtherDims(Node node, ChannelMapping mapping) =>
        mapping.Axis is { } axis && node.FindAttribute("start") is null && node.FindAttribute("end") is null
        && ReadsOtherDims(node.Outputs[0], axis, mapping.Rank!.Value, 0);

    private static bool ReadsOtherDims(Value? shape, int axis, int rank, int depth)
    {
        if (shape is null || shape.IsGraphOutput || depth > 8)
        {
            return shape is null;
        }

        foreach (var (reader, slot) in shape.Uses.Select(u => (u.Node, u.InputIndex)))
        {
            var dims = slot != 0 ? null
                : reader.Is("Cast") ? ReadsOtherDims(reader.Outputs[0], axis, rank, depth + 1) ? Array.Empty<long>() : null
                : reader.Is("Slice") ? ShapeSlice(reader, rank)
                : reader.Is("Gather") && reader.GetInt("axis", 0) == 0 ? ChannelShapes.Integers(reader.Inputs.ElementAtOrDefault(1))?.Select(i => i < 0 ? i + rank : i).ToArray()
                : null;
            if (dims is null || dims.Contains(axis))
            {
                return false;
            }
        }

        return true;
    }

    // The dims a Slice of a shape vector (one axis, constant bounds, step 1) keeps, or null.
    private static long[]? ShapeSlice(Node slice, int rank)
    {
        var (starts, ends, axes, steps, computedAxes, computedSteps) = SliceBounds.Of(slice);
        if (starts is not [var start] || ends is not [var end] || (axes is not null and not ([0] or [-1])) || computedAxes
            || (steps is not null and not [1]) || computedSteps)
        {
            return null;
        }

        var (from, to) = (Math.Clamp(start < 0 ? start + rank : start, 0, rank), Math.Clamp(end < 0 ? end + rank : end, 0, rank));
        return Enumerable.Range((int)from, (int)Math.Max(0, to - from)).Select(d => (long)d).ToArray();
    }

    /// <summary>
    /// A Reshape that flattens the channel axis with the axes after it: the leading axes kept (0, their known
    /// size, or read back from the input's Shape), the last element -1 or the flattened width. Channel c then
    /// becomes the run of `trail` features at c * trail, as in Flatten.
    /// </summary>
    public static (LayoutStep? Step, string? Reason) Flattened(Node node, Value value, ChannelMapping mapping, int channels)
    {
        var reason = $"{Describe(node)} changes the layout of the channels before the next layer (e.g. attention heads)";
        if (mapping.Axis is not { } axis || ChannelShapes.TrailingSize(value, axis) is not { } trail || node.GetInt("allowzero", 0) != 0
            || node.Inputs.ElementAtOrDefault(1) is not { } shape
            || (ChannelShapes.Of(shape) is [{ } length] ? length : ShapeElements.Of(node, null)?.Count) != axis + 1
            || ShapeElements.Of(node, axis + 1) is not { } elements || ChannelShapes.Of(value) is not { } dims)
        {
            return (null, reason);
        }

        for (var i = 0; i < axis; i++)
        {
            if (elements[i].Value is { } given ? given != 0 && given != dims[i] : !ReadsDim(elements[i], value, i))
            {
                return (null, reason);
            }
        }

        ShapeEdit? edit = null;
        var width = elements[axis].Value ?? CastConstant(elements[axis]);
        if (width != -1)
        {
            // The width is written: only when the channels fill the axis (it then shrinks by those removed).
            if (width != mapping.AxisLength * trail || mapping.Offset != 0 || mapping.Group != 1 || mapping.AxisLength != channels
                || !ShapeElements.OnlyFor(node, new HashSet<Node> { node, elements[axis].Holder }))
            {
                return (null, reason);
            }

            edit = elements[axis].Edit(channels, trail);
        }

        var flat = new ChannelMapping(-1, axis + 1, mapping.Offset * trail, mapping.Group * trail, mapping.AxisLength * trail);
        return (new LayoutStep([(node.Outputs[0]!, flat)], Shape: edit), null);
    }

    // A computed shape element that is a one-element integer constant cast (Paddle's exporter casts its int32
    // fill_constant to int64): its value. The edit then writes a constant in place of the Cast.
    private static long? CastConstant(ShapeElement element)
    {
        var piece = element.Holder.Inputs[element.Slot];
        for (var steps = 0; steps < 8 && piece?.Producer is { } cast && cast.Is("Cast") && cast.Inputs.Count > 0; steps++)
        {
            piece = cast.Inputs[0];
        }

        return ChannelShapes.Integers(piece) is [var value] && piece != element.Holder.Inputs[element.Slot] ? value : null;
    }

    // Whether a computed shape element is dim `dim` of `value`, read back from its Shape (through Casts and
    // Unsqueeze): a Slice starting at it, or a Gather of it.
    private static bool ReadsDim(ShapeElement element, Value value, int dim)
    {
        var piece = element.Holder.Inputs[element.Slot];
        var offset = element.Index;
        for (var steps = 0; steps < 8 && piece?.Producer is { } producer && (producer.Is("Cast") || producer.Is("Unsqueeze")); steps++)
        {
            piece = producer.Inputs[0];
        }

        if (piece?.Producer is not { } reader || reader.Inputs.ElementAtOrDefault(0) is not { } source)
        {
            return false;
        }

        long? at = reader.Is("Gather") && reader.GetInt("axis", 0) == 0 && ChannelShapes.Integers(reader.Inputs.ElementAtOrDefault(1)) is [var index] ? index + offset
            : reader.Is("Slice") && ChannelShapes.Of(value)?.Length is { } rank && ShapeSlice(reader, rank) is { Length: > 0 } kept ? kept[0] + offset
            : null;
        for (var steps = 0; steps < 8 && source.Producer is { } cast && cast.Is("Cast"); steps++)
        {
            source = cast.Inputs[0]!;
        }

        return at == dim && source.Producer is { } shapeOf && shapeOf.Is("Shape") && shapeOf.Inputs[0] == value
            && shapeOf.FindAttribute("start") is null && shapeOf.FindAttribute("end") is null;
    }
}
