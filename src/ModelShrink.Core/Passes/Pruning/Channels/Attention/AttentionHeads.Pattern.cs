using ModelShrink.Onnx.Ir;
using static ModelShrink.Core.Passes.Pruning.Channels.NodeText;

namespace ModelShrink.Core.Passes.Pruning.Channels.Attention;

/// <summary>
/// Recognising the block: from a projection's Reshape into heads to the attention core (scores, Softmax, context),
/// and back from the core to each of the Q, K and V projections, with the head count and size.
/// </summary>
internal sealed partial class AttentionHeads
{
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
