using ModelShrink.Core.Passes.Pruning.Channels.Layout;
using ModelShrink.Onnx.Ir;
using ModelShrink.Shared;
using static ModelShrink.Core.Passes.Pruning.Channels.NodeText;

namespace ModelShrink.Core.Passes.Pruning.Channels.Trace;

/// <summary>
/// Ops that move the channels: along their axis (Concat shifts them, Split and Slice keep a range of them), onto
/// another axis or into runs of positions (Flatten, Squeeze, Unsqueeze, a flattening Reshape), or repeat other
/// axes (Expand, Tile). The rules of the ops that cut, repeat or renumber axes are <see cref="ChannelLayout"/>'s.
/// </summary>
internal sealed partial class ChannelTrace
{
    // Flatten at the channel axis: channel c becomes the run of trailing-size features starting at c * size.
    private ChannelBlock? Flatten(Node node, Value value, ChannelMapping mapping)
    {
        var axis = node.GetInt("axis", 1);
        if (mapping.Rank is not { } rank || (axis < 0 ? rank + axis : axis) != mapping.Axis)
        {
            return new ChannelBlock(ErrorCodes.PruneChannelsReshaped, $"{Describe(node)} flattens at another axis than the channels'");
        }

        if (ChannelShapes.TrailingSize(value, mapping.Axis!.Value) is not { } size)
        {
            return new ChannelBlock(ErrorCodes.PruneChannelsReshaped, $"{Describe(node)} flattens '{value.Name}', whose spatial size is not known");
        }

        return Follow(node.Outputs[0], new ChannelMapping(-1, 2, mapping.Offset * size, mapping.Group * size, mapping.AxisLength * size), node);
    }

    // Concat along the channel axis shifts the channels by the inputs before; along another axis every input must carry them alike.
    private ChannelBlock? Concat(Node node, int slot, ChannelMapping mapping)
    {
        var axis = node.GetInt("axis", 0);
        var fromEnd = axis < 0 ? (int)axis : mapping.Rank is { } rank ? (int)axis - rank : (int?)null;
        if (fromEnd is null)
        {
            return Unsupported($"{Describe(node)} concatenates along an axis that cannot be placed (unknown rank)");
        }

        if (fromEnd != mapping.FromEnd)
        {
            for (var i = 0; i < node.Inputs.Count; i++)
            {
                if (i != slot && node.Inputs[i] is { } other)
                {
                    mustMatch.Add((other, mapping, node));
                }
            }

            return Follow(node.Outputs[0], mapping, node);
        }

        long before = 0, total = 0;
        for (var i = 0; i < node.Inputs.Count; i++)
        {
            var size = i == slot ? mapping.AxisLength : node.Inputs[i] is { } input ? ChannelShapes.AxisSize(input, mapping.FromEnd) : 0;
            if (size is null)
            {
                return Unsupported($"{Describe(node)} concatenates an input whose size along the channel axis is not known");
            }

            before += i < slot ? size.Value : 0;
            total += size.Value;
        }

        return Follow(node.Outputs[0], mapping with { Offset = mapping.Offset + before, AxisLength = total }, node);
    }

    // Split, Slice, Squeeze, Unsqueeze, Expand, Tile: each output where the op puts the channels, and a Split's
    // sizes or a Slice's bounds along the channel axis rewritten with them.
    private ChannelBlock? Layout(Node node, int slot, Value value, ChannelMapping mapping)
    {
        var (step, reason) = ChannelLayout.Follow(node, slot, value, mapping, Channels, opset);
        if (step is null)
        {
            return new ChannelBlock(node.OpType == "Shape" ? ErrorCodes.PruneChannelsUnsupported : ErrorCodes.PruneChannelsReshaped, reason!);
        }

        if (step.Edit is { } edit)
        {
            ranges.Add(edit);
        }

        if (step.Shape is { } shape)
        {
            shapeEdits.Add(shape);
        }

        foreach (var (output, carried) in step.Outputs)
        {
            if (Follow(output, carried, node) is { } block)
            {
                return block;
            }
        }

        return null;
    }
}
