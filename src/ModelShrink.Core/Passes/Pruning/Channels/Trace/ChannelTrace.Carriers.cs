using ModelShrink.Onnx.Ir;
using ModelShrink.Shared;
using static ModelShrink.Core.Passes.Pruning.Channels.NodeText;

namespace ModelShrink.Core.Passes.Pruning.Channels.Trace;

/// <summary>
/// Ops that keep the channels where they are: element-wise ops (their other operands cut along the channels or
/// held to carry the same ones), normalizations (their parameters cut), pooling, and Resize and Pad over the
/// spatial axes only.
/// </summary>
internal sealed partial class ChannelTrace
{
    // Clip by constant scalar bounds; per-element bounds would need cutting, computed ones cannot be.
    private ChannelBlock? Clip(Node node, int slot, ChannelMapping mapping) =>
        slot == 0 && node.Inputs.Skip(1).All(b => b is null || b.ConstantTensor is { ElementCount: 1 })
            ? FollowAll(node, mapping)
            : Unsupported($"{Describe(node)} has computed or per-element bounds");

    // An element-wise binary op: every other operand is checked; the output has the broadcast rank when all are known.
    private ChannelBlock? Elementwise(Node node, int slot, Value value, ChannelMapping mapping)
    {
        for (var i = 0; i < node.Inputs.Count; i++)
        {
            if (i != slot && node.Inputs[i] is { } other && other != value && Operand(node, i, other, mapping) is { } block)
            {
                return block;
            }
        }

        var ranks = node.Inputs.OfType<Value>().Select(v => v == value ? mapping.Rank : ChannelShapes.Of(v)?.Length).ToList();
        return Follow(node.Outputs[0], mapping with { Rank = ranks.All(r => r is not null) ? ranks.Max() : null }, node);
    }

    // Another operand of an element-wise op: a constant that broadcasts (cut if it runs along the
    // channels), or a computed value that must carry the same channels (checked at the end).
    private ChannelBlock? Operand(Node node, int slot, Value other, ChannelMapping mapping)
    {
        if (other.ConstantTensor is { } constant)
        {
            var axis = constant.Dims.Count + mapping.FromEnd;
            if (axis < 0 || constant.Dims[axis] == 1)
            {
                return null;
            }

            return constant.Dims[axis] == mapping.AxisLength
                ? Cut(node, slot, other, axis, mapping)
                : Unsupported($"{Describe(node)} reads the constant '{other.Name}' [{string.Join(",", constant.Dims)}], which does not line up with the channels");
        }

        if (ChannelShapes.Of(other) is { } dims && (dims.Length + mapping.FromEnd < 0 || dims[dims.Length + mapping.FromEnd] == 1))
        {
            return null;
        }

        mustMatch.Add((other, mapping, node));
        return null;
    }

    // BatchNormalization and InstanceNormalization over the channel axis, in inference mode (no running
    // statistics read): scale, bias, mean and variance are cut with the channels.
    private ChannelBlock? Normalization(Node node, int slot, ChannelMapping mapping)
    {
        if (slot != 0 || !mapping.IsAxis(1) || node.Outputs.Skip(1).Any(o => o is not null && (o.Uses.Count > 0 || o.IsGraphOutput)))
        {
            return Unsupported($"{Describe(node)} does not normalize over the channel axis 1 (or runs in training mode)");
        }

        for (var i = 1; i < node.Inputs.Count; i++)
        {
            if (node.Inputs[i] is { } parameter && Cut(node, i, parameter, 0, mapping) is { } block)
            {
                return block;
            }
        }

        return Follow(node.Outputs[0], mapping, node);
    }

    // Pooling works per channel when they sit on axis 1; MaxPool's indices output (read) would number them.
    private ChannelBlock? Pool(Node node, int slot, ChannelMapping mapping) =>
        slot == 0 && mapping.IsAxis(1) && node.Outputs.Skip(1).All(o => o is null || (o.Uses.Count == 0 && !o.IsGraphOutput))
            ? Follow(node.Outputs[0], mapping, node)
            : Unsupported($"{Describe(node)} does not pool with the channels on axis 1");

    private ChannelBlock? Resize(Node node, int slot, ChannelMapping mapping) =>
        slot == 0 && mapping.IsAxis(1) && KeepsChannels(node)
            ? Follow(node.Outputs[0], mapping, node)
            : new ChannelBlock(ErrorCodes.PruneChannelsReshaped, $"{Describe(node)} resizes the batch or channel axis, or by sizes that name the channel count");

    private ChannelBlock? Pad(Node node, int slot, ChannelMapping mapping) =>
        slot == 0 && mapping.Rank is { } padRank && mapping.Axis is { } padAxis && PadsAlong(node, padRank, padAxis) == false
            ? Follow(node.Outputs[0], mapping, node)
            : new ChannelBlock(ErrorCodes.PruneChannelsReshaped, $"{Describe(node)} pads the channel axis, or by computed pads");

    // Resize/Upsample by constant scales of 1 on the batch and channel axes, without sizes: a
    // nearest or linear resize over H and W moves no channel.
    private static bool KeepsChannels(Node node)
    {
        if (node.FindAttribute("axes") is not null)
        {
            return false;
        }

        var scales = node.Is("Upsample") ? node.Inputs.ElementAtOrDefault(1) : node.Inputs.ElementAtOrDefault(node.Inputs.Count == 2 ? 1 : 2);
        var sizes = node.Is("Resize") && node.Inputs.Count > 3 ? node.Inputs[3] : null;
        if (sizes is not null || scales?.ConstantTensor is not { ElementCount: >= 2 } tensor)
        {
            return node.Is("Upsample") && node.FindAttribute("scales")?.Floats is [1f, 1f, ..];
        }

        return tensor.ToFloatArray() is [1f, 1f, ..];
    }

    // Whether Pad adds anything along `axis` (null: the pads are computed, so it cannot be known).
    private static bool? PadsAlong(Node node, int rank, int axis) =>
        ChannelShapes.ConstantPads(node, rank) is { } pads ? pads[axis] != 0 || pads[rank + axis] != 0 : null;
}
