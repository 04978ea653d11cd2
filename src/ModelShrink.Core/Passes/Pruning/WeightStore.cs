using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using IrAttribute = ModelShrink.Onnx.Ir.Attribute;

namespace ModelShrink.Core.Passes.Pruning;

/// <summary>Writes a weight's new data back where the weight lives: its initializer, or its Constant node.</summary>
internal static class WeightStore
{
    /// <summary>Replaces the data of <paramref name="weight"/> (same name) for every reader.</summary>
    public static void Replace(Value weight, Tensor tensor)
    {
        var named = tensor.Name == weight.Name ? tensor : tensor.WithName(weight.Name);
        if (weight.Initializer is not null)
        {
            weight.Graph.ReplaceInitializer(weight, named);
        }
        else if (weight.Producer is { IsConstant: true } constant)
        {
            constant.Attributes.Clear();
            constant.Attributes.Add(IrAttribute.FromTensor("value", named));
        }
        else
        {
            throw new InvalidOperationException($"'{weight.Name}' is not a weight");
        }
    }

    /// <summary>
    /// Gives input <paramref name="slot"/> of <paramref name="node"/> the data <paramref name="tensor"/>:
    /// in place when the node is the weight's only reader, else as a new initializer for this node alone.
    /// </summary>
    public static void ReplaceFor(Node node, int slot, Tensor tensor)
    {
        var weight = node.Inputs[slot] ?? throw new InvalidOperationException($"{node} has no input {slot}");
        if (weight.Uses.Count == 1 && !weight.IsGraphInput && !weight.IsGraphOutput)
        {
            Replace(weight, tensor);
            return;
        }

        var copy = node.Graph.AddInitializer(tensor.WithName(node.Graph.UniqueName(weight.Name + "_pruned")));
        node.SetInput(slot, copy);
    }
}
