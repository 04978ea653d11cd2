using ModelShrink.Core.Passes.Pruning.Channels.Layout;
using ModelShrink.Onnx.Ir;
using ModelShrink.Shared;
using static ModelShrink.Core.Passes.Pruning.Channels.NodeText;

namespace ModelShrink.Core.Passes.Pruning.Channels.Trace;

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
/// <para>
/// This file holds the walk itself; the rule each op gets is chosen in ChannelTrace.Ops.cs and written in
/// ChannelTrace.Readers.cs (the layers that read the channels: the walk ends there), ChannelTrace.Carriers.cs (ops
/// that keep the channels where they are), ChannelTrace.Moves.cs (ops that move them along the axis or into
/// another shape) and ChannelTrace.Joins.cs (the layers whose channels go with the producer's, and residuals).
/// </para>
/// </summary>
internal sealed partial class ChannelTrace
{
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

    // The producer's output channels.
    private int Channels => (int)producer.Tensor.Dims[producer.OutputAxis];

    // Breadth first from the producer's output; when the queue runs dry, a layer whose output met the channels
    // may join the group (its output is then followed too), until none does.
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

    // A value the channels reach: queued the first time, and then it must hold them at the same places.
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
}
