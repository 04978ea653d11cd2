using ModelShrink.Core.Passes.Cleanup;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Passes.Pruning.Channels.Attention;

/// <summary>
/// One element of a Reshape's shape that counts attention heads: element <see cref="Index"/> of input
/// <see cref="Slot"/> of <see cref="Node"/> (the Reshape's shape itself, or one piece of the Concat that builds it)
/// is <see cref="Heads"/> × <see cref="PerHead"/> (the head count, or the width heads × head size of the
/// Reshape back); when heads go it becomes (<see cref="Heads"/> − removed) × <see cref="PerHead"/>. A computed
/// piece (PyTorch's exporter reads the width back from the input's Shape) is replaced by that constant: it must
/// have been heads × head size, since the output projection reads exactly that many columns.
/// </summary>
internal sealed record ShapeEdit(Node Node, int Slot, int Index, long Heads, long PerHead)
{
    /// <summary>Writes the element for <paramref name="removed"/> heads fewer.</summary>
    public void Apply(int removed)
    {
        var value = (Heads - removed) * PerHead;
        var input = Node.Inputs[Slot]!;
        if (input.ConstantTensor is { } tensor)
        {
            var elements = tensor.ToArray<long>();
            elements[Index] = value;
            WeightStore.ReplaceFor(Node, Slot, Tensor.FromArray<long>(tensor.Name, tensor.Dims.ToArray(), elements));
            return;
        }

        var graph = Node.Graph;
        Node.SetInput(Slot, graph.AddInitializer(Tensor.FromArray<long>(graph.UniqueName(input.Name + "_heads"), [1], [value])));
        RemoveDead(input);
    }

    // The computation that only fed the replaced piece (Unsqueeze(Gather(Shape(x)))) goes with it.
    private static void RemoveDead(Value value)
    {
        if (value.Producer is not { } node || !GraphEdits.IsDefaultDomain(node) || node.Subgraphs.Any() || !GraphEdits.OutputsUnused(node))
        {
            return;
        }

        var inputs = node.Inputs.OfType<Value>().ToList();
        GraphEdits.RemoveNode(node);
        foreach (var input in inputs)
        {
            if (input.Initializer is not null && input.Uses.Count == 0 && !input.IsGraphInput && !input.IsGraphOutput)
            {
                input.Graph.RemoveInitializer(input);
            }
            else
            {
                RemoveDead(input);
            }
        }
    }
}
