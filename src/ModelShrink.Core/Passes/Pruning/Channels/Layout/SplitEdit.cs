using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using IrAttribute = ModelShrink.Onnx.Ir.Attribute;

namespace ModelShrink.Core.Passes.Pruning.Channels.Layout;

/// <summary>
/// A Split along the channel axis: its parts' sizes are written where the op keeps them, the <c>split</c>
/// attribute (opset &lt; 13) or the <c>split</c> input (opset 13 on). A Split into equal parts (no sizes, or
/// <c>num_outputs</c>) gets explicit sizes, since the parts seldom lose the same number of channels.
/// </summary>
internal sealed class SplitEdit(Node node, ChannelMapping mapping, IReadOnlyList<(long Start, long Length)> ranges, bool sizesAsInput)
    : RangeEdit(node, mapping, ranges)
{
    protected override void Write(IReadOnlyList<(long Start, long Length)> ranges)
    {
        var sizes = ranges.Select(r => r.Length).ToArray();
        if (Node.FindAttribute("split") is not null || !sizesAsInput)
        {
            Node.SetAttribute(IrAttribute.FromInts("split", sizes));
            return;
        }

        Node.Attributes.RemoveAll(a => a.Name == "num_outputs");
        if (Node.Inputs.ElementAtOrDefault(1) is not null)
        {
            WeightStore.ReplaceFor(Node, 1, Tensor.FromArray<long>(Node.Inputs[1]!.Name, [sizes.Length], sizes));
            return;
        }

        var graph = Node.Graph;
        var input = graph.AddInitializer(Tensor.FromArray<long>(graph.UniqueName(Node.Name + "_split"), [sizes.Length], sizes));
        if (Node.Inputs.Count > 1)
        {
            Node.SetInput(1, input);
        }
        else
        {
            Node.AddInput(input);
        }
    }
}
