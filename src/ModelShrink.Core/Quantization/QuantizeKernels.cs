using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ModelShrink.Core.Quantization;

/// <summary>
/// The vectorized inner loops: range of a span, and q = clamp(round_half_even(x / scale) + zp, qmin, qmax)
/// written as one byte per value (two's complement for signed types). The order of operations is
/// ONNX Runtime's quantize_nparray (divide in float32, round, then add the zero point), so equal
/// parameters give equal bytes.
/// </summary>
/// <remarks>
/// The loops are compiled fully optimized on first call (AggressiveOptimization): they run millions of
/// times within a second of the process's start, and tiered compilation would run them as unoptimized
/// tier-0 code until its call counting (after a 100 ms delay that every new method restarts) caught up.
/// </remarks>
public static class QuantizeKernels
{
    /// <summary>The smallest and largest value of <paramref name="values"/>, and whether any is NaN or infinite.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (float Min, float Max, bool NonFinite) MinMax(ReadOnlySpan<float> values)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        var i = 0;
        var allFinite = true;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<float>.Count)
        {
            var vmin = new Vector<float>(float.PositiveInfinity);
            var vmax = new Vector<float>(float.NegativeInfinity);
            var limit = new Vector<float>(float.MaxValue);
            var finite = Vector<int>.AllBitsSet;
            var v = MemoryMarshal.Cast<float, Vector<float>>(values);
            for (var k = 0; k < v.Length; k++)
            {
                vmin = Vector.Min(vmin, v[k]);
                vmax = Vector.Max(vmax, v[k]);

                // |x| <= float.MaxValue is false for NaN and infinities.
                finite &= Vector.LessThanOrEqual(Vector.Abs(v[k]), limit);
            }

            allFinite = Vector.EqualsAll(finite, Vector<int>.AllBitsSet);
            for (var lane = 0; lane < Vector<float>.Count; lane++)
            {
                min = MathF.Min(min, vmin[lane]);
                max = MathF.Max(max, vmax[lane]);
            }

            i = v.Length * Vector<float>.Count;
        }

        for (; i < values.Length; i++)
        {
            var x = values[i];
            allFinite &= float.IsFinite(x);
            min = MathF.Min(min, x);
            max = MathF.Max(max, x);
        }

        return (min, max, !allFinite);
    }

    /// <summary>Widens running per-lane ranges with one row: mins[j] = min(mins[j], row[j]), likewise maxs; a NaN propagates.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AccumulateMinMax(ReadOnlySpan<float> row, Span<float> mins, Span<float> maxs)
    {
        if (mins.Length < row.Length || maxs.Length < row.Length)
        {
            throw new ArgumentException("mins and maxs must be as long as row");
        }

        var i = 0;
        var lanes = Vector<float>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            // Vector.Min/Max follow IEEE 754:2019 (a NaN propagates), as TensorPrimitives.Min/Max and MathF.Min/Max do.
            for (; i <= row.Length - lanes; i += lanes)
            {
                var x = new Vector<float>(row.Slice(i));
                Vector.Min(new Vector<float>(mins.Slice(i)), x).CopyTo(mins.Slice(i));
                Vector.Max(new Vector<float>(maxs.Slice(i)), x).CopyTo(maxs.Slice(i));
            }
        }

        for (; i < row.Length; i++)
        {
            mins[i] = MathF.Min(mins[i], row[i]);
            maxs[i] = MathF.Max(maxs[i], row[i]);
        }
    }

    /// <summary>Quantizes <paramref name="source"/> with one scale and zero point.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Quantize(ReadOnlySpan<float> source, Span<byte> destination, float scale, int zeroPoint, int qmin, int qmax)
    {
        if (destination.Length < source.Length)
        {
            throw new ArgumentException("destination is shorter than source", nameof(destination));
        }

        var i = 0;
        var step = Vector<byte>.Count;
        if (Vector.IsHardwareAccelerated && source.Length >= step)
        {
            var s = new Vector<float>(scale);
            var z = new Vector<float>(zeroPoint);
            var lo = new Vector<float>(qmin);
            var hi = new Vector<float>(qmax);
            var lanes = Vector<float>.Count;
            for (; i <= source.Length - step; i += step)
            {
                var a = Lane(source.Slice(i), s, z, lo, hi);
                var b = Lane(source.Slice(i + lanes), s, z, lo, hi);
                var c = Lane(source.Slice(i + 2 * lanes), s, z, lo, hi);
                var d = Lane(source.Slice(i + 3 * lanes), s, z, lo, hi);
                Pack(a, b, c, d).CopyTo(destination.Slice(i));
            }
        }

        for (; i < source.Length; i++)
        {
            destination[i] = Scalar(source[i], scale, zeroPoint, qmin, qmax);
        }
    }

    /// <summary>
    /// Quantizes a row whose lanes each have their own scale and zero point (per-channel along the
    /// last axis, or one block row of a blocked layout): element j uses scales[j] and zeroPoints[j].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Quantize(ReadOnlySpan<float> source, Span<byte> destination, ReadOnlySpan<float> scales, ReadOnlySpan<float> zeroPoints, int qmin, int qmax)
    {
        if (destination.Length < source.Length || scales.Length < source.Length || zeroPoints.Length < source.Length)
        {
            throw new ArgumentException("destination, scales and zero points must be as long as source");
        }

        var i = 0;
        var step = Vector<byte>.Count;
        if (Vector.IsHardwareAccelerated && source.Length >= step)
        {
            var lo = new Vector<float>(qmin);
            var hi = new Vector<float>(qmax);
            var lanes = Vector<float>.Count;
            for (; i <= source.Length - step; i += step)
            {
                var a = Lane(source.Slice(i), new Vector<float>(scales.Slice(i)), new Vector<float>(zeroPoints.Slice(i)), lo, hi);
                var b = Lane(source.Slice(i + lanes), new Vector<float>(scales.Slice(i + lanes)), new Vector<float>(zeroPoints.Slice(i + lanes)), lo, hi);
                var c = Lane(source.Slice(i + 2 * lanes), new Vector<float>(scales.Slice(i + 2 * lanes)), new Vector<float>(zeroPoints.Slice(i + 2 * lanes)), lo, hi);
                var d = Lane(source.Slice(i + 3 * lanes), new Vector<float>(scales.Slice(i + 3 * lanes)), new Vector<float>(zeroPoints.Slice(i + 3 * lanes)), lo, hi);
                Pack(a, b, c, d).CopyTo(destination.Slice(i));
            }
        }

        for (; i < source.Length; i++)
        {
            destination[i] = Scalar(source[i], scales[i], (int)zeroPoints[i], qmin, qmax);
        }
    }

    /// <summary>One value, the scalar reference the vector loops must agree with.</summary>
    public static byte Scalar(float value, float scale, int zeroPoint, int qmin, int qmax)
    {
        var q = MathF.Round(value / scale, MidpointRounding.ToEven) + zeroPoint;
        return (byte)(int)Math.Clamp(q, qmin, qmax);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<int> Lane(ReadOnlySpan<float> source, Vector<float> scale, Vector<float> zeroPoint, Vector<float> lo, Vector<float> hi)
    {
        var q = Vector.Round(new Vector<float>(source) / scale) + zeroPoint;
        return Vector.ConvertToInt32(Vector.Min(Vector.Max(q, lo), hi));
    }

    // Values are already within [-128, 255], so the truncating narrows keep them exactly (as two's complement bytes).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<byte> Pack(Vector<int> a, Vector<int> b, Vector<int> c, Vector<int> d) =>
        Vector.AsVectorByte(Vector.Narrow(Vector.Narrow(a, b), Vector.Narrow(c, d)));
}
