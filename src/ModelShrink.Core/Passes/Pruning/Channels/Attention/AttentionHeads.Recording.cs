using ModelShrink.Onnx.Ir;
using static ModelShrink.Core.Passes.Pruning.Channels.NodeText;

namespace ModelShrink.Core.Passes.Pruning.Channels.Attention;

/// <summary>
/// Recording what runs along the heads once the block is recognised: the projections' weight and bias columns,
/// per-head constants, the declared shapes on the way, the Reshape back and the output projection's weight rows.
/// </summary>
internal sealed partial class AttentionHeads
{
    // Everything on a projection's path that runs along its heads: weight and bias columns, per-head constants, declared shapes.
    private (PrunableLayer? Layer, string? Reason) Record(PrunableLayer layer, Node reshape, List<Node> biasOps, List<Node> headOps, int[] order, string role)
    {
        var columns = Columns;
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
                if (Transposed(node, axes) is not { } moved)
                {
                    return (null, NotHeadAxes(node));
                }

                axes = moved;
            }
            else if (Operand(node, ConstantSlot(node)!.Value, HeadsAt(axes)) is { } reason)
            {
                return (null, reason);
            }

            values[node.Outputs[0]!] = HeadsAt(axes);
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
            if (Transposed(node, axes) is not { } moved)
            {
                return NotHeadAxes(node);
            }

            axes = moved;
            value = node.Outputs[0]!;
            values[value] = HeadsAt(axes);
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
        var columns = Columns;
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

    // Where the heads sit in a value whose axes are `axes` of [B, T, H, D]: at H's place, counted from the end.
    private ChannelMapping HeadsAt(int[] axes) => HeadMapping(Array.IndexOf(axes, 2) - 4);

    // The heads as runs of `size` columns: a projection's outputs, the merged context, the output projection's rows.
    private ChannelMapping Columns => new(-1, null, 0, size, heads * size);

    // The axes after a Transpose (no perm: reversed) of values whose axes are `axes`; null unless it permutes all 4.
    private static int[]? Transposed(Node transpose, int[] axes) =>
        (transpose.GetInts("perm")?.ToArray() ?? [3, 2, 1, 0]) is { Length: 4 } perm ? perm.Select(p => axes[p]).ToArray() : null;

    private static string NotHeadAxes(Node transpose) => $"{Describe(transpose)} does not transpose the 4 axes of the heads";
}
