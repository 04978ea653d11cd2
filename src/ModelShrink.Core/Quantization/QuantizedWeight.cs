using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Quantization;

/// <summary>
/// A weight quantized to 8 bits: one byte per element in <see cref="Dims"/> order, and the scale and
/// zero point of the whole tensor (<see cref="Axis"/> = -1) or of each index along <see cref="Axis"/>.
/// </summary>
/// <param name="Data">The quantized elements, two's complement for int8.</param>
/// <param name="Dims">The shape of <paramref name="Data"/>.</param>
/// <param name="Scheme">The mapping used.</param>
/// <param name="Axis">The channel axis, or -1 for one scale for the whole tensor.</param>
/// <param name="Scales">One scale, or one per channel.</param>
/// <param name="ZeroPoints">One zero point, or one per channel.</param>
public sealed record QuantizedWeight(byte[] Data, long[] Dims, QuantScheme Scheme, int Axis, float[] Scales, int[] ZeroPoints)
{
    /// <summary>Whether one scale covers the whole tensor.</summary>
    public bool PerTensor => Axis < 0;

    /// <summary>The quantized data as a tensor named <paramref name="name"/>.</summary>
    public Tensor DataTensor(string name) => Tensor.FromRawData(name, Scheme.DataType, Dims, Data);

    /// <summary>The scales as a float tensor: a scalar per tensor, else 1-D (or shaped by <paramref name="dims"/>).</summary>
    public Tensor ScaleTensor(string name, long[]? dims = null) =>
        Tensor.FromArray<float>(name, dims ?? (PerTensor ? [] : [Scales.Length]), Scales);

    /// <summary>The zero points in the stored type: a scalar per tensor, else 1-D (or shaped by <paramref name="dims"/>).</summary>
    public Tensor ZeroPointTensor(string name, long[]? dims = null)
    {
        var shape = dims ?? (PerTensor ? [] : [ZeroPoints.Length]);
        return Scheme.Type == WeightType.Int8
            ? Tensor.FromArray<sbyte>(name, shape, Array.ConvertAll(ZeroPoints, z => (sbyte)z))
            : Tensor.FromArray<byte>(name, shape, Array.ConvertAll(ZeroPoints, z => (byte)z));
    }

    /// <summary>
    /// The same weight transposed, for a 2-D weight: [N, K] with per-row parameters becomes [K, N]
    /// with per-column ones (Gemm transB=1 feeding MatMulInteger, which wants B as [K, N]).
    /// </summary>
    public QuantizedWeight Transpose2D()
    {
        if (Dims.Length != 2)
        {
            throw new InvalidOperationException($"only a 2-D weight can be transposed, not rank {Dims.Length}");
        }

        var rows = checked((int)Dims[0]);
        var cols = checked((int)Dims[1]);
        return this with
        {
            Data = ByteMatrix.Transpose(Data, rows, cols),
            Dims = [cols, rows],
            Axis = PerTensor ? -1 : 1 - Axis,
        };
    }

    /// <summary>Dequantizes element <paramref name="index"/> (for tests and checks).</summary>
    public float Dequantize(long index)
    {
        var channel = PerTensor ? 0 : (int)(index / Inner % Dims[Axis]);
        int q = Scheme.Type == WeightType.Int8 ? (sbyte)Data[index] : Data[index];
        return (q - ZeroPoints[channel]) * Scales[channel];
    }

    private long Inner => PerTensor ? 1 : Dims.Skip(Axis + 1).Aggregate(1L, (a, b) => a * b);
}
