using ModelShrink.Onnx.Ir;
using static ModelShrink.Core.Passes.Pruning.Channels.NodeText;

namespace ModelShrink.Core.Passes.Pruning.Channels.Layout;

/// <summary>
/// Where the channels go through an op that moves data along axes: each output with its mapping, and the edit the
/// op needs (a Split's sizes, a Slice's bounds, the channel count in a Reshape's shape).
/// </summary>
internal sealed record LayoutStep(IReadOnlyList<(Value Output, ChannelMapping Mapping)> Outputs, RangeEdit? Edit = null, Attention.ShapeEdit? Shape = null);

/// <summary>
/// The channel rules of the ops that cut, repeat or renumber axes (Split, Slice, Squeeze, Unsqueeze, Expand,
/// Tile), given where the channels sit in their data input:
/// <list type="bullet">
/// <item>along another axis than the channels', they carry them unchanged (Squeeze and Unsqueeze renumber the
/// axes, so the channel axis moves when it is counted from the end);</item>
/// <item>a Split along the channel axis gives each output the range of channels it takes, the offset moved back
/// by where the range starts, and its sizes shrink with the channels (<see cref="SplitEdit"/>);</item>
/// <item>a Slice along the channel axis with constant bounds and step 1 keeps a range the same way
/// (<see cref="SliceEdit"/>);</item>
/// <item>a Reshape that flattens the channel axis with the axes after it (<c>[N, C, 1, 1]</c> to <c>[N, C]</c>,
/// the batch copied by 0 or read from the input's Shape) moves them as Flatten does, its shape's last element
/// -1 or the flattened width (which shrinks with the channels);</item>
/// <item>a Shape of the channels whose readers (through Casts) only take other dims (a Slice or Gather of the
/// batch size) reads nothing of them and is not followed.</item>
/// </list>
/// Axes, sizes or bounds that are computed, or that cannot be placed (unknown rank), give the reason the
/// channels cannot be followed (MSH2406); so do an Expand or Tile that repeats the channel axis.
/// </summary>
internal static class ChannelLayout
{
    /// <summary>The ops these rules cover.</summary>
    public static readonly IReadOnlySet<string> Ops = new HashSet<string>(StringComparer.Ordinal)
    {
        "Split", "Slice", "Squeeze", "Unsqueeze", "Expand", "Tile", "Reshape", "Shape",
    };

    /// <summary>
    /// Where the channels of <paramref name="value"/> (input 0 of <paramref name="node"/>, at <paramref name="mapping"/>;
    /// the producer has <paramref name="channels"/>) go, or why they cannot be followed.
    /// </summary>
    public static (LayoutStep? Step, string? Reason) Follow(Node node, int slot, Value value, ChannelMapping mapping, int channels, long opset)
    {
        if (slot != 0)
        {
            return (null, $"{Describe(node)} reads the channels as its {(node.OpType == "Split" ? "sizes" : "shape, axes or bounds")}");
        }

        if (node.OpType == "Shape")
        {
            return FlattenRules.ReadsOtherDims(node, mapping) ? (new LayoutStep([]), null) : (null, $"{Describe(node)} reads the channel count");
        }

        var rank = mapping.Rank ?? ChannelShapes.Of(value)?.Length;
        mapping = mapping with { Rank = rank };
        return node.OpType switch
        {
            "Split" => Split(node, value, mapping, channels, opset),
            "Slice" => Slice(node, value, mapping),
            "Squeeze" or "Unsqueeze" => Renumbered(node, mapping),
            "Reshape" => FlattenRules.Flattened(node, value, mapping, channels),
            _ => Repeated(node, mapping),
        };
    }

    private static (LayoutStep?, string?) Split(Node node, Value value, ChannelMapping mapping, int channels, long opset)
    {
        if (FromEnd(node.GetInt("axis", 0), mapping.Rank) is not { } axis)
        {
            return (null, $"{Describe(node)} splits along an axis that cannot be placed (unknown rank)");
        }

        if (axis != mapping.FromEnd)
        {
            return (Carried(node, mapping), null);
        }

        var total = mapping.AxisLength ?? ChannelShapes.AxisSize(value, axis);
        if (SplitSizes(node, total) is not { } sizes || (total is not null && sizes.Sum() != total))
        {
            return (null, $"{Describe(node)} splits the channel axis by computed sizes, or into parts whose sizes are not known");
        }

        var ranges = new List<(long Start, long Length)>();
        var outputs = new List<(Value, ChannelMapping)>();
        long start = 0;
        var (first, end) = (mapping.Offset, mapping.Offset + channels * mapping.Group);
        for (var i = 0; i < sizes.Length; i++)
        {
            ranges.Add((start, sizes[i]));
            // A part with none of the channels carries none: it is not followed.
            if (node.Outputs[i] is { } output && start < end && start + sizes[i] > first)
            {
                outputs.Add((output, mapping with { Offset = mapping.Offset - start, AxisLength = sizes[i] }));
            }

            start += sizes[i];
        }

        return (new LayoutStep(outputs, new SplitEdit(node, mapping with { AxisLength = start }, ranges, sizesAsInput: opset >= 13)), null);
    }

    // The parts' sizes: given (attribute before opset 13, a constant input after), or equal parts of the axis
    // (the last one smaller when it does not divide, as opset 18's num_outputs defines).
    private static long[]? SplitSizes(Node node, long? total)
    {
        if (node.GetInts("split") is { Count: > 0 } attribute)
        {
            return attribute.Count == node.Outputs.Count ? attribute.ToArray() : null;
        }

        if (node.Inputs.ElementAtOrDefault(1) is { } input)
        {
            return ChannelShapes.Integers(input) is { } given && given.Length == node.Outputs.Count ? given : null;
        }

        if (total is not { } length || node.Outputs.Count == 0)
        {
            return null;
        }

        var parts = node.Outputs.Count;
        var chunk = (length + parts - 1) / parts;
        var last = length - chunk * (parts - 1);
        return last < 0 ? null : [.. Enumerable.Repeat(chunk, parts - 1), last];
    }

    private static (LayoutStep?, string?) Slice(Node node, Value value, ChannelMapping mapping)
    {
        var (starts, ends, axes, steps, computedAxes, computedSteps) = SliceBounds.Of(node);
        var count = starts?.Length ?? (node.Inputs.ElementAtOrDefault(1) is { } startsInput ? ChannelShapes.Of(startsInput) is [{ } n] ? (int)n : null : null);
        if (axes is null && (computedAxes || count is null))
        {
            return (null, $"{Describe(node)} slices along computed axes");
        }

        axes ??= Enumerable.Range(0, count!.Value).Select(a => (long)a).ToArray();
        var placed = axes.Select(a => FromEnd(a, mapping.Rank)).ToArray();
        if (placed.Any(a => a is null))
        {
            return (null, $"{Describe(node)} slices along an axis that cannot be placed (unknown rank)");
        }

        var index = Array.IndexOf(placed, mapping.FromEnd);
        if (index < 0)
        {
            return (Carried(node, mapping), null);
        }

        var total = mapping.AxisLength ?? ChannelShapes.AxisSize(value, mapping.FromEnd);
        // A computed step could be anything but 1 along the channels: only a constant 1 (or none) is followed.
        if (starts is null || ends is null || index >= starts.Length || index >= ends.Length || computedSteps || (steps is not null && (index >= steps.Length || steps[index] != 1))
            || total is not { } length)
        {
            return (null, $"{Describe(node)} slices the channel axis by computed bounds or with a step");
        }

        var start = Math.Clamp(starts[index] < 0 ? starts[index] + length : starts[index], 0, length);
        var end = Math.Clamp(ends[index] < 0 ? ends[index] + length : ends[index], 0, length);
        if (end <= start)
        {
            return (null, $"{Describe(node)} keeps none of the channel axis");
        }

        var kept = mapping with { Offset = mapping.Offset - start, AxisLength = end - start };
        return (new LayoutStep([(node.Outputs[0]!, kept)], new SliceEdit(node, mapping with { AxisLength = length }, start, end - start, index)), null);
    }

    // Squeeze and Unsqueeze by constant axes other than the channels': the channel axis keeps its place
    // counted from the front less the axes removed before it (Squeeze), or among the output's axes (Unsqueeze).
    private static (LayoutStep?, string?) Renumbered(Node node, ChannelMapping mapping)
    {
        var axes = node.GetInts("axes")?.ToArray() ?? (node.Inputs.ElementAtOrDefault(1) is { } input ? ChannelShapes.Integers(input) : null);
        if (axes is null || mapping.Rank is not { } rank || mapping.Axis is not { } channelAxis)
        {
            return (null, $"{Describe(node)} {(node.OpType == "Squeeze" ? "squeezes" : "unsqueezes")} computed or implicit axes, or a value of unknown rank");
        }

        if (node.OpType == "Squeeze")
        {
            var removed = axes.Select(a => a < 0 ? a + rank : a).ToHashSet();
            if (removed.Contains(channelAxis))
            {
                return (null, $"{Describe(node)} squeezes the channel axis");
            }

            var before = removed.Count(a => a < channelAxis);
            return (Carried(node, mapping with { FromEnd = channelAxis - before - (rank - removed.Count), Rank = rank - removed.Count }), null);
        }

        var outputRank = rank + axes.Length;
        var inserted = axes.Select(a => a < 0 ? a + outputRank : a).ToHashSet();
        var position = Enumerable.Range(0, outputRank).Where(a => !inserted.Contains(a)).ElementAt(channelAxis);
        return (Carried(node, mapping with { FromEnd = position - outputRank, Rank = outputRank }), null);
    }

    // Expand and Tile by constants that leave the channel axis as it is (Expand to 1 there, or to fewer axes;
    // Tile once): the channels carry through, the rank counted from the end.
    private static (LayoutStep?, string?) Repeated(Node node, ChannelMapping mapping)
    {
        if (ChannelShapes.Integers(node.Inputs.ElementAtOrDefault(1)) is not { } shape)
        {
            return (null, $"{Describe(node)} repeats by a computed {(node.OpType == "Tile" ? "count" : "shape")}");
        }

        var at = shape.Length + mapping.FromEnd;
        var keeps = node.OpType == "Tile" ? at >= 0 && shape[at] == 1 : at < 0 || shape[at] == 1;
        if (!keeps)
        {
            return (null, $"{Describe(node)} repeats the channel axis");
        }

        var rank = node.OpType == "Tile" ? mapping.Rank : mapping.Rank is { } r ? Math.Max(r, shape.Length) : null;
        return (Carried(node, mapping with { Rank = rank }), null);
    }

    private static LayoutStep Carried(Node node, ChannelMapping mapping) =>
        new(node.Outputs.OfType<Value>().Select(o => (o, mapping)).ToArray());

    private static int? FromEnd(long axis, int? rank) => axis < 0 ? (int)axis : rank is { } r && axis < r ? (int)(axis - r) : null;
}
