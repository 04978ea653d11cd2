using ModelShrink.Onnx.Ir;
using ModelShrink.Shared;
using static ModelShrink.Core.Passes.Pruning.Channels.NodeText;

namespace ModelShrink.Core.Passes.Pruning.Channels.Attention;

/// <summary>
/// Attention heads as one dependency group, for MatMul-based attention as PyTorch's exporter writes it:
/// <c>x -> Q, K, V projections (MatMul + bias Add, or Gemm) -> Reshape [B, T, H, D] -> Transpose -> MatMul(Q, Kᵀ)
/// -> Mul/Div by a constant -> (Add mask) -> Softmax -> MatMul(·, V) -> Transpose -> Reshape [B, T, H·D] -> output
/// projection</c>. Removing head h removes columns [h·D, (h+1)·D) of Q, K and V (weights and biases), the same rows
/// of the output projection's weight, and shrinks the head count in the Reshape shapes (and the width H·D of the
/// Reshape back); the other heads' scores, softmax and context are untouched, so the result equals the original
/// with head h's V and output rows zeroed.
/// <para>
/// The block is recognised by following the graph from any of the three projections, never by names: every
/// value on the way has one reader, the transposes compose to [B, H, T, D] for Q and V and [B, H, D, T] for K,
/// element-wise ops take constants that are scalars or run along the heads (cut with them), a computed mask must
/// broadcast over the heads, and the head count and size are read from the Reshape shapes (constants, or a Concat
/// of pieces with the head count constant). Anything else is left alone with a coded reason (MSH2406), as are
/// grouped- or multi-query attention (fewer K/V heads) and fused attention ops.
/// </para>
/// <para>
/// This file runs the match and makes the plan; AttentionHeads.Pattern.cs recognises the block's parts and
/// AttentionHeads.Recording.cs records what runs along the heads on each part.
/// </para>
/// </summary>
internal sealed partial class AttentionHeads
{
    private static readonly int[] QueryOrder = [0, 2, 1, 3];
    private static readonly int[] KeyOrder = [0, 2, 3, 1];

    private readonly PrunableLayer entry;
    private readonly Func<Node, PrunableLayer?> partners;
    private readonly long opset;
    private readonly List<ChannelSlice> slices = [];
    private readonly Dictionary<Value, ChannelMapping> values = [];
    private readonly List<ShapeEdit> edits = [];
    private readonly HashSet<Node> reshapes = [];
    private long heads;
    private long size;

    private AttentionHeads(PrunableLayer entry, Func<Node, PrunableLayer?> partners, long opset) => (this.entry, this.partners, this.opset) = (entry, partners, opset);

    /// <summary>
    /// The plan that removes whole heads of the attention block <paramref name="layer"/> projects into, or why not;
    /// null when the layer's output is not reshaped (it is no attention projection, and the channel trace decides).
    /// </summary>
    public static (ChannelPlan? Plan, ChannelBlock? Block)? Plan(PrunableLayer layer, Func<Node, PrunableLayer?> partners, long opset)
    {
        if (layer.Kind is not (LayerKind.MatMul or LayerKind.Gemm) || layer.Tensor.Dims.Count != 2 || ReshapeAfter(layer.Node.Outputs[0]) is null)
        {
            return null;
        }

        var match = new AttentionHeads(layer, partners, opset);
        var (members, reason) = match.Run();
        if (reason is not null)
        {
            return (null, new ChannelBlock(ErrorCodes.PruneChannelsReshaped, $"its output is reshaped into heads, but not as an attention block this pass prunes: {reason}"));
        }

        var plan = new ChannelPlan(layer, match.slices, match.values)
        {
            Members = members!,
            Width = match.size,
            Heads = true,
            ShapeEdits = match.edits.DistinctBy(e => (e.Node, e.Slot, e.Index)).ToArray(),
        };
        return (plan, null);
    }

    private (IReadOnlyList<PrunableLayer>? Members, string? Reason) Run()
    {
        // The entry's own path gives the head count and size; then the core, then the other paths.
        var reshape = ReshapeAfter(entry.Node.Outputs[0])!;
        if (Heads(reshape, Width(entry)) is not { } found)
        {
            return (null, $"the head count and size of {Describe(reshape)} are not constants");
        }

        (heads, size) = found;
        if (Core(reshape) is not { } core || core.Context is not { } context)
        {
            return (null, Core(reshape)?.Reason ?? "no MatMul(Q, Kᵀ) -> Softmax -> MatMul(·, V) follows");
        }

        var scores = core.Scores;

        var layers = new List<PrunableLayer>();
        foreach (var (value, role, order) in new[] { (scores.Inputs[0]!, "Q", QueryOrder), (scores.Inputs[1]!, "K", KeyOrder), (context.Inputs[1]!, "V", QueryOrder) })
        {
            var (layer, reason) = Projection(value, role, order);
            if (reason is not null)
            {
                return (null, reason);
            }

            layers.Add(layer!);
        }

        if (layers.Distinct().Count() != 3 || !layers.Contains(entry))
        {
            return (null, "the Q, K and V projections are not three different layers");
        }

        if (layers.FirstOrDefault(l => l.Readers.Count > 1 || l.Weight.Uses.Count > 1) is { } shared)
        {
            return (null, $"the weight '{shared.Weight.Name}' of {Describe(shared.Node)} is read by {shared.Weight.Uses.Count} nodes");
        }

        // The scale and mask ops are checked against the heads once the projections agree on them.
        if (Scores(scores, check: true).Reason is { } scoresReason)
        {
            return (null, scoresReason);
        }

        if (Output(context) is { } outputReason)
        {
            return (null, outputReason);
        }

        if (reshapes.FirstOrDefault(r => !ShapeElements.OnlyFor(r, reshapes)) is { } sharedShape)
        {
            return (null, $"the shape of {Describe(sharedShape)} is also read outside the attention block");
        }

        return ([entry, .. layers.Where(l => l != entry)], null);
    }
}
