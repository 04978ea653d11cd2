using System.Buffers;
using System.Numerics.Tensors;

namespace ModelShrink.Core.Calibration;

/// <summary>
/// A histogram of absolute values over [0, width) with a fixed number of bins. When a batch holds a
/// larger value the width doubles and neighbouring bins merge, so memory stays constant and earlier
/// batches are never revisited. Also remembers the signed min and max.
/// </summary>
public sealed class AbsHistogram(int bins = 2048)
{
    private readonly double[] counts = new double[bins];
    private float width;

    /// <summary>The smallest value seen.</summary>
    public float Min { get; private set; }

    /// <summary>The largest value seen.</summary>
    public float Max { get; private set; }

    /// <summary>The values counted.</summary>
    public long Count { get; private set; }

    /// <summary>Adds a batch.</summary>
    public void Add(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty)
        {
            return;
        }

        Min = Math.Min(Min, TensorPrimitives.Min(values));
        Max = Math.Max(Max, TensorPrimitives.Max(values));
        var absMax = TensorPrimitives.MaxMagnitude(values);
        absMax = Math.Abs(absMax);
        if (width == 0)
        {
            width = absMax > 0 ? absMax * 1.0001f : 1e-8f;
        }

        while (absMax >= width)
        {
            Widen();
        }

        // Bins computed a block at a time with SIMD (|v| * scale, clamped to the last bin, truncated),
        // then counted: the same bins as (int)(|v| * scale) capped at the last, value by value.
        var scale = counts.Length / width;
        var last = counts.Length - 1;
        var scaled = ArrayPool<float>.Shared.Rent(Math.Min(values.Length, Block));
        var bins = ArrayPool<int>.Shared.Rent(Math.Min(values.Length, Block));
        try
        {
            for (var start = 0; start < values.Length; start += Block)
            {
                var length = Math.Min(Block, values.Length - start);
                var block = scaled.AsSpan(0, length);
                TensorPrimitives.Abs(values.Slice(start, length), block);
                TensorPrimitives.Multiply(block, scale, block);
                TensorPrimitives.Min(block, last, block);
                TensorPrimitives.ConvertTruncating<float, int>(block, bins.AsSpan(0, length));
                foreach (var bin in bins.AsSpan(0, length))
                {
                    counts[bin]++;
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scaled);
            ArrayPool<int>.Shared.Return(bins);
        }

        Count += values.Length;
    }

    // Values binned per SIMD block: 16 KB of floats and of bins, within the L1/L2 caches.
    private const int Block = 4096;

    /// <summary>The count in each bin (tests compare it with a value-by-value reference).</summary>
    internal ReadOnlySpan<double> Counts => counts;

    /// <summary>The width the bins cover, [0, Width).</summary>
    internal float Width => width;

    /// <summary>The absolute value below which <paramref name="percentile"/> % of the values lie; the range is symmetric, clipped to what was seen.</summary>
    public ActivationRange Percentile(double percentile)
    {
        var target = Count * percentile / 100;
        double seen = 0;
        var threshold = width;
        for (var i = 0; i < counts.Length; i++)
        {
            seen += counts[i];
            if (seen >= target)
            {
                threshold = (i + 1) * width / counts.Length;
                break;
            }
        }

        return Clip(threshold);
    }

    /// <summary>
    /// The threshold T minimising KL(P || Q), where P is the histogram clipped at T (outliers added
    /// to the last bin) and Q is P quantized to 128 levels (TensorRT's entropy calibration, as in
    /// ONNX Runtime's calibrate.py).
    /// </summary>
    public ActivationRange EntropyThreshold(int levels = 128)
    {
        var bestBins = counts.Length;
        var bestDivergence = double.MaxValue;
        for (var used = levels; used <= counts.Length; used += Math.Max(1, levels / 8))
        {
            var divergence = Divergence(used, levels);
            if (divergence < bestDivergence)
            {
                bestDivergence = divergence;
                bestBins = used;
            }
        }

        return Clip(bestBins * width / counts.Length);
    }

    private double Divergence(int used, int levels)
    {
        var reference = new double[used];
        Array.Copy(counts, reference, used);
        for (var i = used; i < counts.Length; i++)
        {
            reference[used - 1] += counts[i];
        }

        // Q: each of `levels` groups of bins spreads its total evenly over its non-empty bins.
        var quantized = new double[used];
        var perLevel = used / (double)levels;
        for (var level = 0; level < levels; level++)
        {
            var start = (int)(level * perLevel);
            var end = level == levels - 1 ? used : (int)((level + 1) * perLevel);
            double total = 0;
            var nonEmpty = 0;
            for (var i = start; i < end; i++)
            {
                total += counts[i];
                nonEmpty += counts[i] > 0 ? 1 : 0;
            }

            for (var i = start; i < end; i++)
            {
                quantized[i] = counts[i] > 0 ? total / nonEmpty : 0;
            }
        }

        double pSum = reference.Sum(), qSum = quantized.Sum(), divergence = 0;
        for (var i = 0; i < used; i++)
        {
            if (reference[i] <= 0)
            {
                continue;
            }

            var p = reference[i] / pSum;
            var q = quantized[i] > 0 ? quantized[i] / qSum : 1e-10;
            divergence += p * Math.Log(p / q);
        }

        return divergence;
    }

    private ActivationRange Clip(float threshold) => new(Math.Max(Min, -threshold), Math.Min(Max, threshold));

    private void Widen()
    {
        for (var i = 0; i < counts.Length / 2; i++)
        {
            counts[i] = counts[2 * i] + counts[2 * i + 1];
        }

        Array.Clear(counts, counts.Length / 2, counts.Length / 2);
        width *= 2;
    }
}
