namespace ModelShrink.Core.Quantization;

/// <summary>
/// The values one weight can take once quantized: for each element (by its flat index in the weight's
/// own layout) the scale, zero point and code range the quantizer will use. Layer-wise reconstruction
/// (GPTQ) rounds onto it column by column and compensates the rounding error in the columns still to
/// come; the quantizer then stores the adjusted weight with these same parameters, so every adjusted
/// value lands on its code exactly.
/// </summary>
public interface IWeightGrid
{
    /// <summary>The grid value nearest to <paramref name="value"/> for element <paramref name="index"/>: quantize, then dequantize.</summary>
    float Snap(long index, float value);
}

/// <summary>
/// Adjusts a weight before it is quantized, given the grid its quantizer chose from the original
/// values; returns the values to quantize in their place (same layout), or null to keep the originals.
/// </summary>
public delegate float[]? WeightAdjuster(ReadOnlyMemory<float> values, IWeightGrid grid);

/// <summary>The grid of an 8-bit weight quantized per tensor (one channel) or per channel along an axis.</summary>
/// <param name="Layout">The weight around its channel axis ([1, 1, n] per tensor).</param>
/// <param name="Scales">One scale per channel.</param>
/// <param name="ZeroPoints">One zero point per channel.</param>
/// <param name="QMin">Smallest code.</param>
/// <param name="QMax">Largest code.</param>
public sealed record ChannelGrid(ChannelLayout Layout, float[] Scales, int[] ZeroPoints, int QMin, int QMax) : IWeightGrid
{
    /// <inheritdoc />
    public float Snap(long index, float value)
    {
        var c = Layout.Channels == 1 ? 0 : (int)(index / Layout.Inner % Layout.Channels);
        return SnapTo(value, Scales[c], ZeroPoints[c], QMin, QMax);
    }

    /// <summary>clamp(round_half_even(value / scale) + zero, qmin, qmax) dequantized: the kernels' order of operations.</summary>
    internal static float SnapTo(float value, float scale, float zero, int qmin, int qmax)
    {
        var q = Math.Clamp(MathF.Round(value / scale, MidpointRounding.ToEven) + zero, qmin, qmax);
        return (q - zero) * scale;
    }
}

/// <summary>The grid of a [K, N] weight quantized to 4 bits in blocks of <paramref name="BlockSize"/> rows.</summary>
/// <param name="N">Columns.</param>
/// <param name="BlockSize">Rows per block.</param>
/// <param name="Scales">float [Blocks, N].</param>
/// <param name="Stored">The stored zero point of each block [Blocks, N] (8 when symmetric), codes 0..15.</param>
public sealed record BlockGrid(int N, int BlockSize, float[] Scales, float[] Stored) : IWeightGrid
{
    /// <inheritdoc />
    public float Snap(long index, float value)
    {
        var block = index / N / BlockSize * N + index % N;
        return ChannelGrid.SnapTo(value, Scales[block], Stored[block], 0, 15);
    }
}
