using ModelShrink.Onnx.Ir;
using ModelShrink.Shared;
using static ModelShrink.Core.Passes.Pruning.Channels.NodeText;

namespace ModelShrink.Core.Passes.Pruning.Channels.Trace;

/// <summary>
/// The layers that read the channels as their inputs: the next Conv, Gemm and MatMul lose the matching
/// positions of their weight's reduction axis, and the walk ends there. A depthwise Conv is the exception: it
/// carries the channels on.
/// </summary>
internal sealed partial class ChannelTrace
{
    private ChannelBlock? Conv(Node node, int slot, ChannelMapping mapping)
    {
        // A run of positions per channel (a depthwise multiplier before) is cut as a run.
        if (slot != 0 || !mapping.IsAxis(1))
        {
            return Unsupported($"{Describe(node)} reads the channels in another place than its input channel axis");
        }

        if (node.GetInt("group", 1) == 1)
        {
            return Cut(node, 1, node.Inputs[1], 1, mapping, consumes: true);
        }

        return IsDepthwise(node, mapping)
            ? Depthwise(node, mapping)
            : new ChannelBlock(ErrorCodes.PruneChannelsGrouped, $"the next layer {Describe(node)} is a grouped Conv (group {node.GetInt("group", 1)}) that is not depthwise");
    }

    private ChannelBlock? Gemm(Node node, int slot, ChannelMapping mapping)
    {
        if (slot != 0 || node.GetInt("transA", 0) != 0 || mapping.FromEnd != -1)
        {
            return Unsupported($"{Describe(node)} reads the channels as {(slot == 0 ? "a transposed A" : "its B or C input")}");
        }

        return Cut(node, 1, node.Inputs[1], node.GetInt("transB", 0) != 0 ? 1 : 0, mapping, consumes: true);
    }

    // Only a constant weight [..., K, N] is cut: a MatMul of two computed values is attention's (AttentionHeads').
    private ChannelBlock? MatMul(Node node, int slot, ChannelMapping mapping)
    {
        if (slot != 0 || mapping.FromEnd != -1 || node.Inputs[1] is not { ConstantTensor: { } w } || w.Dims.Count < 2)
        {
            return new ChannelBlock(ErrorCodes.PruneChannelsReshaped,
                $"{Describe(node)} multiplies the channels with a computed value or along another axis (attention)");
        }

        return Cut(node, 1, node.Inputs[1], w.Dims.Count - 2, mapping, consumes: w.Dims.Count == 2);
    }

    // Depthwise: as many groups as input channels (the channels at some of them: a Concat or Split may have
    // moved them), one input channel per group, a constant weight.
    private static bool IsDepthwise(Node node, ChannelMapping mapping) =>
        node.Inputs[1]?.ConstantTensor is { Dims: [var outputs, 1, ..] } && node.GetInt("group", 1) is var group
        && mapping.AxisLength == group && mapping.Group == 1 && outputs % group == 0;

    // A depthwise Conv carries the channels through: channel c feeds only its own `multiplier` output
    // channels, so they go with it, the weight and bias are cut along axis 0, and the group shrinks
    // by the channels removed.
    private ChannelBlock? Depthwise(Node node, ChannelMapping mapping)
    {
        var outputs = node.Inputs[1]!.ConstantTensor!.Dims[0];
        var multiplier = outputs / node.GetInt("group", 1);
        var carried = mapping with { Offset = mapping.Offset * multiplier, Group = multiplier, AxisLength = outputs };
        if (Cut(node, 1, node.Inputs[1], 0, carried) is { } weightBlock)
        {
            return weightBlock;
        }

        if (node.Inputs.Count > 2 && node.Inputs[2] is { } bias && Cut(node, 2, bias, 0, carried) is { } biasBlock)
        {
            return biasBlock;
        }

        regrouped.Add((node, carried));
        return Follow(node.Outputs[0], carried, node);
    }

    // A constant input cut along its own axis; `consumes` when it is a reader's weight (a refit may restore its output).
    private ChannelBlock? Cut(Node node, int slot, Value? input, int axis, ChannelMapping mapping, bool consumes = false)
    {
        if (input?.ConstantTensor is not { } tensor || !TensorSlicing.CanSlice(tensor) || axis >= tensor.Dims.Count)
        {
            return Unsupported($"{Describe(node)} reads '{input?.Name}' as a computed or unsliceable value where the channels need cutting");
        }

        if (tensor.Dims[axis] != mapping.AxisLength)
        {
            return Unsupported($"{Describe(node)}: '{input.Name}' has {tensor.Dims[axis]} along axis {axis}, the channels span {mapping.AxisLength?.ToString() ?? "an unknown length"}");
        }

        slices.Add(new ChannelSlice(node, slot, axis, mapping, consumes));
        return null;
    }
}
