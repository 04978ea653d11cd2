using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using IrAttribute = ModelShrink.Onnx.Ir.Attribute;

namespace ModelShrink.Core.Passes.Pruning.Channels.Layout;

/// <summary>
/// A Slice along the channel axis with constant bounds and step 1: the kept range's start and end are written
/// back as plain non-negative positions, element <see cref="Index"/> of the <c>starts</c> and <c>ends</c>
/// inputs (opset 10 on, int32 or int64 as they were) or attributes (before).
/// </summary>
internal sealed class SliceEdit(Node node, ChannelMapping mapping, long start, long length, int index)
    : RangeEdit(node, mapping, [(start, length)])
{
    /// <summary>Which element of starts and ends is the channel axis's.</summary>
    public int Index { get; } = index;

    protected override void Write(IReadOnlyList<(long Start, long Length)> ranges)
    {
        var (start, length) = ranges[0];
        Set("starts", 1, start);
        Set("ends", 2, start + length);
    }

    private void Set(string name, int slot, long value)
    {
        if (Node.FindAttribute(name)?.Ints is { } attribute)
        {
            var values = attribute.ToArray();
            values[Index] = value;
            Node.SetAttribute(IrAttribute.FromInts(name, values));
            return;
        }

        var tensor = Node.Inputs[slot]!.ConstantTensor!;
        var dims = tensor.Dims.ToArray();
        if (tensor.DataType == DataType.Int32)
        {
            var values = tensor.ToArray<int>();
            values[Index] = checked((int)value);
            WeightStore.ReplaceFor(Node, slot, Tensor.FromArray<int>(tensor.Name, dims, values));
        }
        else
        {
            var values = tensor.ToArray<long>();
            values[Index] = value;
            WeightStore.ReplaceFor(Node, slot, Tensor.FromArray<long>(tensor.Name, dims, values));
        }
    }
}
