using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.Ir;
using ModelShrink.Core.Passes.Pruning.Channels.Layout;

namespace ModelShrink.Core.Passes.Pruning.Channels;

/// <summary>Why a layer's channels cannot be removed: a warning code and the reason.</summary>
internal sealed record ChannelBlock(string Code, string Reason);

/// <summary>
/// Follows a layer's output channels forward to every place they are read and builds the
/// <see cref="ChannelPlan"/> that removes channels consistently, or says why it cannot:
/// <list type="bullet">
/// <item>passes through element-wise unary ops, Clip with constant bounds, BatchNormalization and
/// InstanceNormalization (parameters cut), pooling (channel axis 1), element-wise binary ops with a
/// constant that broadcasts (cut when it runs along the channels) or with another value carrying the
/// same channels at the same places (GELU's x*erf(x));</item>
/// <item>moves through Flatten at the channel axis when the trailing size is known (a channel
/// becomes a run of H*W features) and Concat (the channels shift by the sizes before them); through
/// Split and Slice along the channel axis (each output holds a range of them; the sizes or bounds shrink
/// with them) or along others, Squeeze, Unsqueeze, Expand and Tile of other axes, a Reshape that flattens the
/// channel axis with those after it, past a Shape read only for other dims (<see cref="ChannelLayout"/>);</item>
/// <item>ends at the next Conv (group 1: its weight loses input channels), Gemm (A operand,
/// transA = 0) and MatMul (first operand, constant second operand): their weights are cut along the
/// reduction axis.</item>
/// </list>
/// A depthwise Conv passes the channels through (its weight, bias and group shrink with them), as do
/// a Resize or Upsample over the spatial axes and a Pad that pads none of the channels.
/// Anything else leaves the layer alone with a coded reason: a computed operand that does not carry
/// the same channels (residual Add, MSH2404), a grouped Conv that is not depthwise (MSH2405), a Reshape,
/// Transpose or other layout change, a Split or Slice by computed sizes or bounds, a fused attention op (MSH2406; MatMul-based attention heads are
/// <see cref="Attention.AttentionHeads"/>' groups), or a graph output, subgraph
/// read, op mixing channels, unknown op or shared weight (MSH2407).
/// </summary>
internal sealed class ChannelTrace
{
    private static readonly IReadOnlySet<string> Unary = new HashSet<string>(StringComparer.Ordinal)
    {
        "Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Elu", "Selu", "Celu", "Gelu", "Mish", "Softplus",
        "Softsign", "ThresholdedRelu", "Erf", "Abs", "Neg", "Exp", "Log", "Sqrt", "Reciprocal", "Ceil", "Floor", "Round", "Sign",
        "Sin", "Cos", "Identity", "Cast",
    };

    private static readonly IReadOnlySet<string> Binary = new HashSet<string>(StringComparer.Ordinal)
    {
        "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "PRelu", "Sum", "Mean",
    };

    private static readonly IReadOnlySet<string> Pools = new HashSet<string>(StringComparer.Ordinal)
    {
        "MaxPool", "AveragePool", "LpPool", "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool",
    };

    private static readonly IReadOnlySet<string> LayoutChanges = new HashSet<string>(StringComparer.Ordinal)
    {
        "Transpose", "Gather", "GatherElements", "DepthToSpace", "SpaceToDepth", "Einsum",
    };

    private readonly PrunableLayer producer;
    private readonly Func<Node, PrunableLayer?> partners;
    private readonly List<PrunableLayer> members = [];
    private readonly Dictionary<Value, ChannelMapping> traced = [];
    private readonly Queue<Value> pending = new();
    private readonly List<ChannelSlice> slices = [];
    private readonly List<(Value Other, ChannelMapping Expected, Node At)> mustMatch = [];
    private readonly List<(Node Node, ChannelMapping Mapping)> regrouped = [];
    private readonly List<RangeEdit> ranges = [];
    private readonly List<int[]> parts = [];
    private readonly List<Attention.ShapeEdit> shapeEdits = [];
    private readonly long opset;

    private ChannelTrace(PrunableLayer producer, Func<Node, PrunableLayer?> partners, long opset) =>
        (this.producer, this.partners, this.opset) = (producer, partners, opset);

    /// <summary>
    /// The plan for removing output channels of <paramref name="layer"/>, or why not. Layers that
    /// <paramref name="partners"/> returns for a node may join the group, when their output meets the
    /// channels at a residual Add or a gating Mul: their channels then go too. <paramref name="opset"/> (the model's
    /// default domain) says where a Split into equal parts gets its explicit sizes.
    /// </summary>
    public static (ChannelPlan? Plan, ChannelBlock? Block) Plan(PrunableLayer layer, Func<Node, PrunableLayer?>? partners = null, long opset = 13)
    {
        var trace = new ChannelTrace(layer, partners ?? (_ => null), opset);
        var block = trace.Run();
        return block is null
            ? (new ChannelPlan(layer, trace.slices, trace.traced)
            {
                Regrouped = trace.regrouped, Members = trace.members, Ranges = trace.ranges, ShapeEdits = trace.shapeEdits,
                Parts = [.. trace.parts, .. trace.ranges.SelectMany(r => r.Parts(trace.Channels))],
            }, null)
            : (null, block);
    }

    private ChannelBlock? Run()
    {
        if (Start(producer) is { } block)
        {
            return block;
        }

        var downstream = Downstream(producer.Node.Outputs[0]!);
        while (true)
        {
            while (pending.TryDequeue(out var value))
            {
                if (Visit(value, traced[value]) is { } visitBlock)
                {
                    // A residual met on the way is the first cause, whatever stopped the walk after it.
                    return Residual(other => !downstream.Contains(other)) ?? visitBlock;
                }
            }

            var (joined, joinBlock) = Join();
            if (joinBlock is not null)
            {
                return joinBlock;
            }

            if (!joined)
            {
                return Residual(other => !traced.TryGetValue(other, out _));
            }
        }
    }

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

    // The producer's output channels.
    private int Channels => (int)producer.Tensor.Dims[producer.OutputAxis];

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
                    return new ChannelBlock(ErrorCodes.PruneChannelsGrouped, member != producer
                        ? $"its channels meet the output of {Describe(node)}, a grouped Conv (group {node.GetInt("group", 1)})"
                        : weight.Dims is [_, 1, ..]
                        ? "it is a depthwise Conv: its channels go with the layer before it"
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

    private ChannelBlock? Visit(Value value, ChannelMapping mapping)
    {
        if (value.IsGraphOutput)
        {
            return Unsupported($"its channels reach the graph output '{value.Name}'");
        }

        foreach (var use in value.Uses)
        {
            if (use.Node.Graph != value.Graph)
            {
                return Unsupported($"its channels are read inside a subgraph ({Describe(use.Node)})");
            }

            if (Consume(use.Node, use.InputIndex, value, mapping) is { } block)
            {
                return block;
            }
        }

        return null;
    }

    private ChannelBlock? Consume(Node node, int slot, Value value, ChannelMapping mapping)
    {
        var op = node.Domain is "" or "ai.onnx" ? node.OpType : $"{node.Domain}.{node.OpType}";
        if (Unary.Contains(op) || op == "Dropout")
        {
            return FollowAll(node, mapping);
        }

        if (op == "Clip")
        {
            return slot == 0 && node.Inputs.Skip(1).All(b => b is null || b.ConstantTensor is { ElementCount: 1 })
                ? FollowAll(node, mapping)
                : Unsupported($"{Describe(node)} has computed or per-element bounds");
        }

        if (Binary.Contains(op))
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

        switch (op)
        {
            case "BatchNormalization" or "InstanceNormalization":
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
            case var _ when Pools.Contains(op):
                return slot == 0 && mapping.IsAxis(1) && node.Outputs.Skip(1).All(o => o is null || (o.Uses.Count == 0 && !o.IsGraphOutput))
                    ? Follow(node.Outputs[0], mapping, node)
                    : Unsupported($"{Describe(node)} does not pool with the channels on axis 1");
            case "Flatten":
                return Flatten(node, value, mapping);
            case "Concat":
                return Concat(node, slot, mapping);
            case "Conv":
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
            case "Resize" or "Upsample":
                return slot == 0 && mapping.IsAxis(1) && KeepsChannels(node)
                    ? Follow(node.Outputs[0], mapping, node)
                    : new ChannelBlock(ErrorCodes.PruneChannelsReshaped, $"{Describe(node)} resizes the batch or channel axis, or by sizes that name the channel count");
            case "Pad":
                return slot == 0 && mapping.Rank is { } padRank && mapping.Axis is { } padAxis && PadsAlong(node, padRank, padAxis) == false
                    ? Follow(node.Outputs[0], mapping, node)
                    : new ChannelBlock(ErrorCodes.PruneChannelsReshaped, $"{Describe(node)} pads the channel axis, or by computed pads");
            case var _ when ChannelLayout.Ops.Contains(op):
                return Layout(node, slot, value, mapping);
            case "Gemm":
                if (slot != 0 || node.GetInt("transA", 0) != 0 || mapping.FromEnd != -1)
                {
                    return Unsupported($"{Describe(node)} reads the channels as {(slot == 0 ? "a transposed A" : "its B or C input")}");
                }

                return Cut(node, 1, node.Inputs[1], node.GetInt("transB", 0) != 0 ? 1 : 0, mapping, consumes: true);
            case "MatMul":
                if (slot != 0 || mapping.FromEnd != -1 || node.Inputs[1] is not { ConstantTensor: { } w } || w.Dims.Count < 2)
                {
                    return new ChannelBlock(ErrorCodes.PruneChannelsReshaped,
                        $"{Describe(node)} multiplies the channels with a computed value or along another axis (attention)");
                }

                return Cut(node, 1, node.Inputs[1], w.Dims.Count - 2, mapping, consumes: w.Dims.Count == 2);
            case "Attention" or "com.microsoft.Attention" or "com.microsoft.MultiHeadAttention" or "com.microsoft.GroupQueryAttention"
                or "com.microsoft.PackedAttention" or "com.microsoft.PackedMultiHeadAttention" or "com.microsoft.DecoderMaskedMultiHeadAttention":
                return new ChannelBlock(ErrorCodes.PruneChannelsReshaped,
                    $"{Describe(node)} is a fused attention op: its heads are not pruned (only MatMul-based attention is)");
            case var _ when LayoutChanges.Contains(op):
                return new ChannelBlock(ErrorCodes.PruneChannelsReshaped,
                    $"{Describe(node)} changes the layout of the channels before the next layer (e.g. attention heads)");
            default:
                return Unsupported($"{Describe(node)} is an op the channel pruning does not rewrite");
        }
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
    private static bool? PadsAlong(Node node, int rank, int axis)
    {
        var pads = node.Inputs.Count > 1 && node.Inputs[1] is { } input
            ? input.ConstantTensor?.ToArray<long>()
            : node.GetInts("pads")?.ToArray();
        if (pads is null || pads.Length != 2 * rank || node.Inputs.ElementAtOrDefault(3) is not null)
        {
            return null;
        }

        return pads[axis] != 0 || pads[rank + axis] != 0;
    }

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

    // A bias-like input of the producer (Conv B, Gemm C): cut when it runs along the output channels.
    private ChannelBlock? Bias(Node node, int slot, int axis, ChannelMapping mapping) =>
        node.Inputs.Count > slot && node.Inputs[slot] is { } bias ? Cut(node, slot, bias, axis, mapping) : null;

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

    // A constant input cut along its own axis.
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

    private ChannelBlock? FollowAll(Node node, ChannelMapping mapping)
    {
        foreach (var output in node.Outputs)
        {
            if (Follow(output, mapping, node) is { } block)
            {
                return block;
            }
        }

        return null;
    }

    private ChannelBlock? Follow(Value? value, ChannelMapping mapping, Node at)
    {
        if (value is null)
        {
            return null;
        }

        if (traced.TryGetValue(value, out var known))
        {
            return known.SamePlaces(mapping) ? null : Unsupported($"the channels reach '{value.Name}' at {Describe(at)} in two different places");
        }

        traced[value] = mapping;
        pending.Enqueue(value);
        return null;
    }

    private static ChannelBlock Unsupported(string reason) => new(ErrorCodes.PruneChannelsUnsupported, reason);

    private static string Describe(Node node) => $"{node.OpType} '{node.Name}'";
}
