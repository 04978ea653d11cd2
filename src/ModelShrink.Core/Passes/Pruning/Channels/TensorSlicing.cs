using ModelShrink.Core.Quantization;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Passes.Pruning.Channels;

/// <summary>Removes positions along one axis of a tensor (whole hyperplanes), for any whole-byte element type.</summary>
internal static class TensorSlicing
{
    /// <summary>Whether a tensor's elements are whole bytes, so it can be sliced.</summary>
    public static bool CanSlice(Tensor tensor) => tensor.DataType != DataType.String && tensor.DataType.BitWidth() is 8 or 16 or 32 or 64;

    /// <summary>
    /// The tensor without the hyperplanes at <paramref name="positions"/> of <paramref name="axis"/>
    /// (counted from the front), under the same name.
    /// </summary>
    public static Tensor Remove(Tensor tensor, int axis, IReadOnlyCollection<long> positions)
    {
        if (!CanSlice(tensor))
        {
            throw new InvalidOperationException($"cannot slice {tensor}");
        }

        var dims = tensor.Dims.ToArray();
        var removed = positions.ToHashSet();
        if (removed.Any(p => p < 0 || p >= dims[axis]))
        {
            throw new InvalidOperationException($"positions outside axis {axis} of {tensor}");
        }

        var layout = ChannelLayout.Of(dims, axis);
        long outer = layout.Outer, inner = (long)layout.Inner * (tensor.DataType.BitWidth() / 8), length = layout.Channels;
        var kept = length - removed.Count;
        var source = tensor.GetRawData().Span;
        var result = new byte[checked(outer * kept * inner)];
        long at = 0;
        for (long o = 0; o < outer; o++)
        {
            for (long p = 0; p < length; p++)
            {
                if (!removed.Contains(p))
                {
                    source.Slice(checked((int)((o * length + p) * inner)), (int)inner).CopyTo(result.AsSpan(checked((int)at), (int)inner));
                    at += inner;
                }
            }
        }

        dims[axis] = kept;
        return Tensor.FromRawData(tensor.Name, tensor.DataType, dims, result);
    }

    /// <summary>L2 norm of each hyperplane along <paramref name="axis"/> (a layer's output channels).</summary>
    public static double[] Norms(Tensor tensor, int axis)
    {
        var values = tensor.ToFloatArray();
        var (outer, length, inner) = ChannelLayout.Of(tensor.Dims, axis);
        var norms = new double[length];
        for (long o = 0; o < outer; o++)
        {
            for (var p = 0; p < length; p++)
            {
                var start = (o * length + p) * inner;
                double sum = 0;
                for (long i = 0; i < inner; i++)
                {
                    var v = values[start + i];
                    sum += (double)v * v;
                }

                norms[p] += sum;
            }
        }

        return Array.ConvertAll(norms, Math.Sqrt);
    }
}
