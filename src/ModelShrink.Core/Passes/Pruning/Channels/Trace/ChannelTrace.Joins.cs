using ModelShrink.Onnx.Ir;
using ModelShrink.Shared;
using static ModelShrink.Core.Passes.Pruning.Channels.NodeText;

namespace ModelShrink.Core.Passes.Pruning.Channels.Trace;

/// <summary>
/// The layers whose output channels go together: the producer, and the layers whose output meets the channels
/// computed elsewhere (a residual Add, a squeeze-excitation gate's Mul) and may join it; and the residual
/// branches that cannot, which leave the layer alone (MSH2404).
/// </summary>
internal sealed partial class ChannelTrace
{
    // A member's output channels: its weight and bias cut along them, its output followed. Channel c sits at
    // `offset` + c of the member's outputs (0 but for a member that meets one part of a Split).
    private ChannelBlock? Start(PrunableLayer member, long offset = 0)
    {
        var node = member.Node;
        var weight = member.Tensor;
        if (member.Readers.Count > 1 || member.Weight.Uses.Count > 1)
        {
            return Unsupported($"{(member == producer ? "its" : $"{Describe(node)}'s")} weight '{member.Weight.Name}' is read by {member.Weight.Uses.Count} nodes");
        }

        if (node.Outputs.Count == 0 || node.Outputs[0] is not { } output)
        {
            return Unsupported("it has no output");
        }

        var channels = weight.Dims[member.OutputAxis];
        ChannelMapping start;
        switch (member.Kind)
        {
            case LayerKind.Conv:
                if (node.GetInt("group", 1) != 1)
                {
                    // A depthwise Conv narrowed with the layer before it is not named (ChannelPruner drops it), so
                    // the one named here was not pruned.
                    return new ChannelBlock(ErrorCodes.PruneChannelsGrouped, member != producer
                        ? $"its channels meet the output of {Describe(node)}, a grouped Conv (group {node.GetInt("group", 1)})"
                        : weight.Dims is [_, 1, ..]
                        ? "it is a depthwise Conv: its channels go with the layer before it, which was not pruned"
                        : $"it is a grouped Conv (group {node.GetInt("group", 1)})");
                }

                start = new ChannelMapping(1 - weight.Dims.Count, weight.Dims.Count, offset, 1, channels);
                if (Bias(node, 2, 0, start) is { } convBias)
                {
                    return convBias;
                }

                break;
            case LayerKind.Gemm:
                start = new ChannelMapping(-1, 2, offset, 1, channels);
                if (node.Inputs.Count > 2 && node.Inputs[2] is { } c && Operand(node, 2, c, start) is { } gemmBias)
                {
                    return gemmBias;
                }

                break;
            default:
                start = new ChannelMapping(-1, node.Inputs[0] is { } a ? ChannelShapes.Of(a)?.Length : null, offset, 1, channels);
                break;
        }

        if (member != producer)
        {
            slices.Add(new ChannelSlice(node, 1, member.OutputAxis, start));
            if (start.Filling(0, channels, Channels) is { } part)
            {
                parts.Add(part); // a member made only of the group's channels keeps one
            }
        }

        members.Add(member);
        return Follow(output, start, node);
    }

    // A bias-like input of the producer (Conv B, Gemm C): cut when it runs along the output channels.
    private ChannelBlock? Bias(Node node, int slot, int axis, ChannelMapping mapping) =>
        node.Inputs.Count > slot && node.Inputs[slot] is { } bias ? Cut(node, slot, bias, axis, mapping) : null;

    // An operand the channels met that is computed elsewhere, traced back through ops that keep its
    // shape to a layer that may join: its output channels then go with the producer's (a residual
    // join, a squeeze-excitation gate), its weight and bias are cut, and its output is followed too.
    // A member may hold only some of the channels, at an offset (it meets one part of a Split).
    private (bool Joined, ChannelBlock? Block) Join()
    {
        foreach (var (other, expected, _) in mustMatch.ToArray())
        {
            if (traced.ContainsKey(other) || expected.Group != 1 || Source(other) is not { } member
                || members.Contains(member) || member.Tensor.Dims[member.OutputAxis] != expected.AxisLength)
            {
                continue;
            }

            return (true, Start(member, expected.Offset));
        }

        return (false, null);
    }

    // The layer `value` comes from through ops that keep its shape, when it may join (not a Gather table).
    private PrunableLayer? Source(Value value)
    {
        for (var steps = 0; steps < 16 && value.Producer is { } node && node.Domain is "" or "ai.onnx"
            && ChannelShapes.SameShape.Contains(node.OpType) && node.Inputs.Count > 0 && node.Inputs[0] is { } input; steps++)
        {
            value = input;
        }

        return value.Producer is { } producerNode && partners(producerNode) is { } layer && layer.Node.Outputs[0] == value && layer.Kind != LayerKind.Gather
            ? layer
            : null;
    }

    // The first operand the channels met that does not carry them alike: `outside` ones are computed
    // elsewhere (a residual branch); at the end, every operand must carry the same channels at the same places.
    private ChannelBlock? Residual(Func<Value, bool> outside)
    {
        foreach (var (other, expected, at) in mustMatch)
        {
            if (outside(other) || (traced.TryGetValue(other, out var mapping) && !mapping.SamePlaces(expected)))
            {
                return new ChannelBlock(ErrorCodes.PruneChannelsResidual,
                    $"its channels meet '{other.Name}' at {Describe(at)}, which is computed elsewhere and not pruned alike (a residual branch)");
            }
        }

        return null;
    }

    // Every value computed from `start` in its graph, whatever the ops.
    private static HashSet<Value> Downstream(Value start)
    {
        var seen = new HashSet<Value> { start };
        var pending = new Stack<Value>([start]);
        while (pending.TryPop(out var value))
        {
            foreach (var output in value.Uses.Where(u => u.Node.Graph == start.Graph).SelectMany(u => u.Node.Outputs).OfType<Value>())
            {
                if (seen.Add(output))
                {
                    pending.Push(output);
                }
            }
        }

        return seen;
    }
}
