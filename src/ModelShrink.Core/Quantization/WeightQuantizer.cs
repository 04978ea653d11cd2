using System.Numerics.Tensors;

namespace ModelShrink.Core.Quantization;

/// <summary>
/// Quantizes a float32 weight to 8 bits, per tensor or per channel along any axis. Large tensors
/// are split into chunks that run in parallel, both for the range scan and for the quantization.
/// </summary>
public static class WeightQuantizer
{
    private const int ChunkElements = 1 << 18;

    /// <summary>Thrown when a weight holds NaN or infinity, which no scale can represent.</summary>
    public sealed class NonFiniteWeightException() : Exception("the weight holds NaN or infinite values");

    /// <summary>Quantizes <paramref name="values"/> (shape <paramref name="dims"/>) with one scale and zero point.</summary>
    /// <remarks>
    /// <paramref name="adjust"/> (layer-wise reconstruction) sees the grid chosen from the original
    /// values and may return other values to quantize with it.
    /// </remarks>
    public static QuantizedWeight PerTensor(ReadOnlyMemory<float> values, long[] dims, QuantScheme scheme, WeightAdjuster? adjust = null)
    {
        CheckCount(values.Length, dims);
        var (min, max) = Range(values);
        var parameters = QuantParameters.FromRange(min, max, scheme);
        if (adjust?.Invoke(values, new ChannelGrid(new ChannelLayout(1, 1, values.Length), [parameters.Scale], [parameters.ZeroPoint], scheme.QMin, scheme.QMax)) is { } adjusted)
        {
            values = adjusted;
        }

        var data = new byte[values.Length];
        ForChunks(values.Length, (start, length) =>
            QuantizeKernels.Quantize(values.Span.Slice(start, length), data.AsSpan(start, length),
                parameters.Scale, parameters.ZeroPoint, scheme.QMin, scheme.QMax));
        return new QuantizedWeight(data, dims, scheme, -1, [parameters.Scale], [parameters.ZeroPoint]);
    }

    /// <summary>
    /// Quantizes <paramref name="values"/> with one scale and zero point per index along
    /// <paramref name="axis"/>: Conv [O,I,kh,kw] uses axis 0, MatMul's [K,N] weight axis 1, Gemm with
    /// transB axis 0. <paramref name="adjust"/>: as for <see cref="PerTensor"/>.
    /// </summary>
    public static QuantizedWeight PerChannel(ReadOnlyMemory<float> values, long[] dims, int axis, QuantScheme scheme, WeightAdjuster? adjust = null)
    {
        CheckCount(values.Length, dims);
        if (axis < 0 || axis >= dims.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(axis), $"axis {axis} is outside a rank-{dims.Length} tensor");
        }

        var layout = ChannelLayout.Of(dims, axis);
        var (mins, maxs) = layout.Inner == 1 ? RangesOfColumns(values, layout) : RangesOfSlices(values, layout);
        var scales = new float[layout.Channels];
        var zeroPoints = new int[layout.Channels];
        for (var c = 0; c < layout.Channels; c++)
        {
            (scales[c], zeroPoints[c]) = QuantParameters.FromRange(mins[c], maxs[c], scheme);
        }

        if (adjust?.Invoke(values, new ChannelGrid(layout, scales, zeroPoints, scheme.QMin, scheme.QMax)) is { } adjusted)
        {
            values = adjusted;
        }

        var data = new byte[values.Length];
        if (layout.Inner == 1)
        {
            // Channels run along each row: quantize row by row with per-lane parameters.
            var zeros = Array.ConvertAll(zeroPoints, z => (float)z);
            ForRows(layout.Outer, layout.Channels, row =>
            {
                var offset = row * layout.Channels;
                QuantizeKernels.Quantize(values.Span.Slice(offset, layout.Channels), data.AsSpan(offset, layout.Channels),
                    scales, zeros, scheme.QMin, scheme.QMax);
            });
        }
        else
        {
            ForRows(layout.Outer * layout.Channels, layout.Inner, slice =>
            {
                var c = slice % layout.Channels;
                var offset = slice * layout.Inner;
                QuantizeKernels.Quantize(values.Span.Slice(offset, layout.Inner), data.AsSpan(offset, layout.Inner),
                    scales[c], zeroPoints[c], scheme.QMin, scheme.QMax);
            });
        }

        return new QuantizedWeight(data, dims, scheme, axis, scales, zeroPoints);
    }

    /// <summary>The range of all values (chunks scanned in parallel).</summary>
    public static (float Min, float Max) Range(ReadOnlyMemory<float> values)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        var nonFinite = false;
        var gate = new object();
        ForChunks(values.Length, (start, length) =>
        {
            var (mn, mx, bad) = QuantizeKernels.MinMax(values.Span.Slice(start, length));
            lock (gate)
            {
                min = MathF.Min(min, mn);
                max = MathF.Max(max, mx);
                nonFinite |= bad;
            }
        });
        if (nonFinite)
        {
            throw new NonFiniteWeightException();
        }

        return values.Length == 0 ? (0f, 0f) : (min, max);
    }

    // Channel axis last (inner == 1): each row of `Channels` values widens per-lane ranges.
    // TensorPrimitives.Min/Max propagate NaN, so one check of the totals finds any non-finite value.
    private static (float[] Mins, float[] Maxs) RangesOfColumns(ReadOnlyMemory<float> values, ChannelLayout layout)
    {
        var mins = Filled(layout.Channels, float.PositiveInfinity);
        var maxs = Filled(layout.Channels, float.NegativeInfinity);
        var gate = new object();
        var rowsPerChunk = Math.Max(1, ChunkElements / Math.Max(1, layout.Channels));
        var chunks = (layout.Outer + rowsPerChunk - 1) / rowsPerChunk;
        ParallelWork.Run(chunks, (long)layout.Outer * layout.Channels, chunk =>
        {
            var localMin = Filled(layout.Channels, float.PositiveInfinity);
            var localMax = Filled(layout.Channels, float.NegativeInfinity);
            var last = Math.Min(layout.Outer, (chunk + 1) * rowsPerChunk);
            var span = values.Span;
            for (var row = chunk * rowsPerChunk; row < last; row++)
            {
                QuantizeKernels.AccumulateMinMax(span.Slice(row * layout.Channels, layout.Channels), localMin, localMax);
            }

            lock (gate)
            {
                TensorPrimitives.Min(localMin, mins, mins);
                TensorPrimitives.Max(localMax, maxs, maxs);
            }
        });
        if (!IsFinite(mins) || !IsFinite(maxs))
        {
            throw new NonFiniteWeightException();
        }

        return (mins, maxs);
    }

    // Channel axis not last: each channel owns `Outer` contiguous slices of `Inner` values.
    private static (float[] Mins, float[] Maxs) RangesOfSlices(ReadOnlyMemory<float> values, ChannelLayout layout)
    {
        var mins = Filled(layout.Channels, float.PositiveInfinity);
        var maxs = Filled(layout.Channels, float.NegativeInfinity);
        var nonFinite = 0;
        ParallelWork.Run(layout.Channels, values.Length, c =>
        {
            var span = values.Span;
            for (var o = 0; o < layout.Outer; o++)
            {
                var (mn, mx, bad) = QuantizeKernels.MinMax(span.Slice((o * layout.Channels + c) * layout.Inner, layout.Inner));
                mins[c] = MathF.Min(mins[c], mn);
                maxs[c] = MathF.Max(maxs[c], mx);
                if (bad)
                {
                    Interlocked.Exchange(ref nonFinite, 1);
                }
            }
        });
        if (nonFinite != 0)
        {
            throw new NonFiniteWeightException();
        }

        return (mins, maxs);
    }

    private static void ForChunks(int length, Action<int, int> body)
    {
        var chunks = (length + ChunkElements - 1) / ChunkElements;
        ParallelWork.Run(chunks, length, chunk =>
        {
            var start = chunk * ChunkElements;
            body(start, Math.Min(ChunkElements, length - start));
        });
    }

    // Runs body(row) for each of `rows` rows of `width` values, grouping rows so each task has real work.
    private static void ForRows(int rows, int width, Action<int> body)
    {
        var rowsPerChunk = Math.Max(1, ChunkElements / Math.Max(1, width));
        var chunks = (rows + rowsPerChunk - 1) / rowsPerChunk;
        ParallelWork.Run(chunks, (long)rows * width, chunk =>
        {
            var last = Math.Min(rows, (chunk + 1) * rowsPerChunk);
            for (var row = chunk * rowsPerChunk; row < last; row++)
            {
                body(row);
            }
        });
    }

    private static bool IsFinite(ReadOnlySpan<float> values)
    {
        foreach (var v in values)
        {
            if (!float.IsFinite(v))
            {
                return false;
            }
        }

        return true;
    }

    private static float[] Filled(int length, float value)
    {
        var array = new float[length];
        Array.Fill(array, value);
        return array;
    }

    private static void CheckCount(int count, long[] dims)
    {
        var expected = dims.Aggregate(1L, (a, b) => a * b);
        if (expected != count)
        {
            throw new ArgumentException($"{count} values do not fill shape [{string.Join(",", dims)}]");
        }
    }
}
