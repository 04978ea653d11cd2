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
/// </summary>
internal sealed class AttentionHeads
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

    // The Reshape a projection's output reaches through element-wise ops with constants (its bias Add), or null.
    private static Node? ReshapeAfter(Value? value)
    {
        for (var steps = 0; value is { Uses.Count: 1, IsGraphOutput: false } && steps < 8; steps++)
        {
            var node = value.Uses[0].Node;
            if (node.Is("Reshape") && value.Uses[0].InputIndex == 0)
            {
                return node;
            }

            if (ConstantOperand(node, value.Uses[0].InputIndex) is null)
            {
                return null;
            }

            value = node.Outputs[0];
        }

        return null;
    }

    // From the entry's Reshape to the attention core: the scores MatMul(Q, Kᵀ) and the context MatMul(softmax, V).
    private (Node Scores, Node? Context, string? Reason)? Core(Node reshape)
    {
        var value = reshape.Outputs[0];
        while (value is { Uses.Count: 1, IsGraphOutput: false } && value.Uses[0].Node is var node && (node.Is("Transpose") || ConstantOperand(node, value.Uses[0].InputIndex) is not null))
        {
            value = node.Outputs[0];
        }

        if (value is not { Uses.Count: 1, IsGraphOutput: false } || value.Uses[0].Node is not { } matmul || !matmul.Is("MatMul") || IsConstant(matmul, 0) || IsConstant(matmul, 1))
        {
            return null;
        }

        // Entered from Q or K: this is the scores MatMul; from V, the context MatMul after the Softmax.
        if (Scores(matmul, check: false) is var (context, reason) && (context is not null || reason is not null))
        {
            return (matmul, context, reason);
        }

        if (matmul.Inputs[0]?.Producer is { } softmax && softmax.Is("Softmax") && FindScores(softmax.Inputs[0]!, 8) is { } scores)
        {
            var (found, foundReason) = Scores(scores, check: false);
            return found == matmul ? (scores, matmul, null) : (scores, null, foundReason ?? $"{Describe(scores)} does not lead to {Describe(matmul)}");
        }

        return null;
    }

    // The scores' way to the context MatMul: scale and mask ops, then Softmax over the keys, then MatMul(·, V);
    // with `check`, the ops' other operands are checked against the heads (and cut when they run along them).
    private (Node? Context, string? Reason) Scores(Node scores, bool check)
    {
        var value = scores.Outputs[0]!;
        var mapping = HeadMapping(-3);
        while (true)
        {
            if (value.Uses.Count != 1 || value.IsGraphOutput)
            {
                return (null, null);
            }

            values[value] = mapping;
            var (node, slot) = value.Uses[0];
            if (node.Is("Softmax"))
            {
                var axis = node.GetInt("axis", opset >= 13 ? -1 : 1);
                if (axis is not (-1 or 3))
                {
                    return (null, $"{Describe(node)} normalizes over axis {axis}, not the keys");
                }

                var probabilities = node.Outputs[0]!;
                if (probabilities is not { Uses.Count: 1, IsGraphOutput: false } || probabilities.Uses[0] is not { InputIndex: 0 } use || !use.Node.Is("MatMul"))
                {
                    return (null, $"the output of {Describe(node)} is not read by one MatMul with V");
                }

                values[probabilities] = mapping;
                return (use.Node, null);
            }

            if (node.OpType is not ("Mul" or "Div" or "Add" or "Sub") || !GraphEditsDefault(node) || (node.OpType is "Div" or "Sub" && slot != 0))
            {
                return (null, null);
            }

            if (check && Operand(node, 1 - slot, mapping) is { } reason)
            {
                return (null, reason);
            }

            value = node.Outputs[0]!;
        }
    }

    // Back from the Softmax's input through scale and mask ops to the MatMul of two computed values.
    private static Node? FindScores(Value value, int depth)
    {
        if (depth == 0 || value.Producer is not { } node || !GraphEditsDefault(node))
        {
            return null;
        }

        if (node.Is("MatMul"))
        {
            return IsConstant(node, 0) || IsConstant(node, 1) ? null : node;
        }

        return node.OpType is "Mul" or "Div" or "Add" or "Sub"
            ? node.Inputs.OfType<Value>().Where(v => v.ConstantTensor is null).Select(v => FindScores(v, depth - 1)).FirstOrDefault(n => n is not null)
            : null;
    }

    // One of Q, K, V back from where the core reads it: transposes and scales, the Reshape into heads, the bias, the layer.
    private (PrunableLayer? Layer, string? Reason) Projection(Value value, string role, int[] order)
    {
        var headOps = new List<Node>();
        while (value is { Uses.Count: 1, IsGraphOutput: false } && value.Producer is { } node && !node.Is("Reshape"))
        {
            if (!node.Is("Transpose") && ConstantSlot(node) is null)
            {
                return (null, $"the {role} path has {Describe(node)}");
            }

            headOps.Insert(0, node);
            value = node.Inputs[node.Is("Transpose") ? 0 : 1 - ConstantSlot(node)!.Value]!;
        }

        if (value is not { Uses.Count: 1, IsGraphOutput: false } || value.Producer is not { } reshape || !reshape.Is("Reshape"))
        {
            return (null, $"the {role} path does not start at a Reshape into heads read only there");
        }

        var biasOps = new List<Node>();
        value = reshape.Inputs[0]!;
        while (value is { Uses.Count: 1, IsGraphOutput: false } && value.Producer is { } node && partners(node) is null && ConstantSlot(node) is { } constantSlot)
        {
            biasOps.Insert(0, node);
            value = node.Inputs[1 - constantSlot]!;
        }

        if (value is not { Uses.Count: 1, IsGraphOutput: false } || value.Producer is not { } producer || partners(producer) is not { } layer
            || layer.Node.Outputs[0] != value || layer.Kind is not (LayerKind.MatMul or LayerKind.Gemm) || layer.Tensor.Dims.Count != 2
            || (layer.Kind == LayerKind.Gemm && producer.GetInt("transA", 0) != 0))
        {
            return (null, $"the {role} projection ({(value?.Producer is { } p ? Describe(p) : "a graph input")}) is not a MatMul or Gemm layer this pass may prune (skipped by name, kept at the ends, or shared)");
        }

        var width = Width(layer);
        if (Heads(reshape, width) is not { } shape || shape.Size != size)
        {
            return (null, $"the head count and size of {Describe(reshape)} are not constants of the same head size");
        }

        if (shape.Heads != heads)
        {
            return (null, $"grouped- or multi-query attention: the {role} projection {Describe(layer.Node)} has {shape.Heads} heads, {Describe(entry.Node)} {heads}");
        }

        return Record(layer, reshape, biasOps, headOps, order, role);
    }

    // Everything on a projection's path that runs along its heads: weight and bias columns, per-head constants, declared shapes.
    private (PrunableLayer? Layer, string? Reason) Record(PrunableLayer layer, Node reshape, List<Node> biasOps, List<Node> headOps, int[] order, string role)
    {
        var columns = new ChannelMapping(-1, null, 0, size, heads * size);
        if (layer != entry)
        {
            slices.Add(new ChannelSlice(layer.Node, 1, layer.OutputAxis, columns));
        }

        if (layer.Kind == LayerKind.Gemm && layer.Node.Inputs.ElementAtOrDefault(2) is { } c && Operand(layer.Node, 2, columns) is { } gemmBias)
        {
            return (null, gemmBias);
        }

        values[layer.Node.Outputs[0]!] = columns;
        foreach (var node in biasOps)
        {
            if (Operand(node, ConstantSlot(node)!.Value, columns) is { } reason)
            {
                return (null, reason);
            }

            values[node.Outputs[0]!] = columns;
        }

        reshapes.Add(reshape);
        var axes = new[] { 0, 1, 2, 3 };
        values[reshape.Outputs[0]!] = HeadMapping(-2);
        foreach (var node in headOps)
        {
            if (node.Is("Transpose"))
            {
                var perm = node.GetInts("perm")?.ToArray() ?? [3, 2, 1, 0];
                if (perm.Length != 4)
                {
                    return (null, $"{Describe(node)} does not transpose the 4 axes of the heads");
                }

                axes = perm.Select(p => axes[p]).ToArray();
            }
            else if (Operand(node, ConstantSlot(node)!.Value, HeadMapping(Array.IndexOf(axes, 2) - 4)) is { } reason)
            {
                return (null, reason);
            }

            values[node.Outputs[0]!] = HeadMapping(Array.IndexOf(axes, 2) - 4);
        }

        return axes.SequenceEqual(order) ? (layer, null) : (null, $"the {role} path's transposes give axes [{string.Join(",", axes)}] of [B, T, H, D], not [{string.Join(",", order)}]");
    }

    // After the context MatMul: back to [B, T, H, D], a Reshape to [..., H·D], the output projection's weight rows.
    private string? Output(Node context)
    {
        var value = context.Outputs[0]!;
        var axes = new[] { 0, 1, 2, 3 };
        values[value] = HeadMapping(-3);
        while (value is { Uses.Count: 1, IsGraphOutput: false } && value.Uses[0].Node is var node && node.Is("Transpose"))
        {
            var perm = node.GetInts("perm")?.ToArray() ?? [3, 2, 1, 0];
            if (perm.Length != 4)
            {
                return $"{Describe(node)} does not transpose the 4 axes of the heads";
            }

            axes = perm.Select(p => axes[p]).ToArray();
            value = node.Outputs[0]!;
            values[value] = HeadMapping(Array.IndexOf(axes, 2) - 4);
        }

        // Context [B, H, T, D] (axes of [B, T, H, D]: 0, 2, 1, 3) back to [B, T, H, D].
        if (!axes.SequenceEqual(QueryOrder) || value is not { Uses.Count: 1, IsGraphOutput: false } || value.Uses[0] is not { InputIndex: 0 } use || !use.Node.Is("Reshape"))
        {
            return "the attention's context is not transposed back to [B, T, H, D] and reshaped for the output projection";
        }

        var reshape = use.Node;
        var rank = reshape.Outputs[0]!.Type?.TensorType?.Shape?.Dim.Count;
        if (ShapeElements.Of(reshape, rank) is not { Count: >= 2 } elements || elements.SkipLast(1).Skip(2).Any(e => e.Value is null or 0))
        {
            return $"the shape of {Describe(reshape)} cannot be placed";
        }

        var last = elements[^1];
        if (last.Value is { } width && width != -1 && width != heads * size)
        {
            return $"{Describe(reshape)} reshapes the context to width {width}, not heads × head size {heads * size}";
        }

        if (last.Value != -1)
        {
            edits.Add(last.Edit(heads, size));
        }

        reshapes.Add(reshape);
        var columns = new ChannelMapping(-1, null, 0, size, heads * size);
        var merged = reshape.Outputs[0]!;
        values[merged] = columns;
        if (merged is not { Uses.Count: 1, IsGraphOutput: false } || merged.Uses[0] is not { InputIndex: 0 } read)
        {
            return $"the output of {Describe(reshape)} is not read by one output projection";
        }

        var projection = read.Node;
        var axis = projection.Is("MatMul") ? 0 : projection.Is("Gemm") && projection.GetInt("transA", 0) == 0 ? (int)projection.GetInt("transB", 0) : -1;
        if (axis < 0 || projection.Inputs[1]?.ConstantTensor is not { Dims.Count: 2 } weight || weight.Dims[axis] != heads * size || !TensorSlicing.CanSlice(weight))
        {
            return $"the output projection {Describe(projection)} is not a MatMul or Gemm with a constant weight of {heads * size} input rows";
        }

        slices.Add(new ChannelSlice(projection, 1, axis, columns, Consumes: true));
        return null;
    }

    // The head count and size a Reshape into [B, T, H, D] gives a projection of `width` columns, with the edit of
    // its head count; null when they are not constants (a head size of -1 needs a constant head count).
    private (long Heads, long Size)? Heads(Node reshape, long width)
    {
        if (ShapeElements.Of(reshape, 4) is not { Count: 4 } elements || elements[2].Value is 0 || elements[3].Value is null or 0 or < -1)
        {
            return null;
        }

        var d = elements[3].Value!.Value;
        if (d == -1)
        {
            if (elements[2].Value is not { } count || count <= 0 || width % count != 0)
            {
                return null;
            }

            d = width / count;
        }

        if (width % d != 0 || (elements[2].Value is { } given && given != -1 && given != width / d))
        {
            return null;
        }

        if (elements[2].Value != -1)
        {
            edits.Add(elements[2].Edit(width / d, 1));
        }

        return (width / d, d);
    }

    // A constant operand of an element-wise op on values whose heads sit as `mapping` says: a scalar or one that
    // broadcasts over them stays, one that runs along them is cut; a computed one (a mask) must broadcast.
    private string? Operand(Node node, int slot, ChannelMapping mapping)
    {
        var operand = node.Inputs[slot]!;
        var dims = operand.ConstantTensor?.Dims.Select(d => (long?)d).ToArray() ?? ChannelShapes.Of(operand);
        var axis = dims is null ? -1 : dims.Length + mapping.FromEnd;
        if (dims is not null && (axis < 0 || dims[axis] == 1))
        {
            return null;
        }

        if (operand.ConstantTensor is { } constant && constant.Dims[axis] == mapping.AxisLength && TensorSlicing.CanSlice(constant))
        {
            slices.Add(new ChannelSlice(node, slot, axis, mapping));
            return null;
        }

        return $"{Describe(node)} reads '{operand.Name}', which {(operand.ConstantTensor is null ? "may differ per head" : "does not line up with the heads")}";
    }

    private ChannelMapping HeadMapping(int fromEnd) => new(fromEnd, 4, 0, 1, heads);

    // The slot of the constant operand of an element-wise Add, Sub, Mul or Div (Div and Sub: the second), else null.
    private static int? ConstantSlot(Node node) =>
        !GraphEditsDefault(node) || node.Inputs.Count != 2 || node.OpType is not ("Add" or "Sub" or "Mul" or "Div") ? null
        : node.Inputs[1]?.ConstantTensor is not null ? 1
        : node.Inputs[0]?.ConstantTensor is not null && node.OpType is "Add" or "Mul" ? 0
        : null;

    // The constant operand's slot when `node` is an element-wise op reading a value at `slot` and a constant beside it.
    private static int? ConstantOperand(Node node, int slot) => ConstantSlot(node) is { } constant && constant != slot ? constant : null;

    private static long Width(PrunableLayer layer) => layer.Tensor.Dims[layer.OutputAxis];

    private static bool IsConstant(Node node, int slot) => node.Inputs.ElementAtOrDefault(slot)?.ConstantTensor is not null;

    private static bool GraphEditsDefault(Node node) => node.Domain is "" or "ai.onnx";
}
