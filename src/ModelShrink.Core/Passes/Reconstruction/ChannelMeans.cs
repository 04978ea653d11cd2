using System.Numerics.Tensors;

namespace ModelShrink.Core.Passes.Reconstruction;

/// <summary>
/// Streaming per-channel means of one layer output over batches: a Conv's channels lie on axis 1, a
/// Gemm's or MatMul's on the last axis. Memory is one double per channel whatever the number of samples.
/// </summary>
internal sealed class ChannelMeans(bool convAxis)
{
    private double[] sums = [];
    private long count;

    /// <summary>The rank of the values seen.</summary>
    public int Rank { get; private set; }

    /// <summary>The channel axis of the values seen.</summary>
    public int Axis { get; private set; }

    /// <summary>The channel count of the values seen (0 before any).</summary>
    public int Channels => sums.Length;

    /// <summary>The means over everything added.</summary>
    public double[] Means => sums.Select(s => s / Math.Max(1, count)).ToArray();

    /// <summary>Adds one batch of shape <paramref name="shape"/> and returns this batch's own per-channel means.</summary>
    public double[] Add(long[] shape, ReadOnlySpan<float> data)
    {
        if (shape.Length == 0)
        {
            return [];
        }

        var axis = convAxis ? Math.Min(1, shape.Length - 1) : shape.Length - 1;
        var channels = (int)shape[axis];
        long inner = 1;
        for (var i = axis + 1; i < shape.Length; i++)
        {
            inner *= shape[i];
        }

        if (sums.Length != channels || Rank != shape.Length)
        {
            // A value whose channel count changes between batches starts again (never seen in practice).
            (sums, count, Rank, Axis) = (new double[channels], 0, shape.Length, axis);
        }

        var batch = new double[channels];
        var block = channels * inner;
        var per = channels == 0 ? 0 : data.Length / channels;
        if (inner == 1)
        {
            // Channels are the last axis: rows of `channels` values added up as vectors, in float per
            // run of 256 rows and in double across runs.
            var partial = new float[channels];
            for (long start = 0, row = 0; start + block <= data.Length; start += block, row++)
            {
                TensorPrimitives.Add(partial, data.Slice((int)start, channels), partial);
                if (row % 256 == 255 || start + 2 * block > data.Length)
                {
                    for (var c = 0; c < channels; c++)
                    {
                        batch[c] += partial[c];
                    }

                    Array.Clear(partial);
                }
            }
        }
        else
        {
            for (long start = 0; start + block <= data.Length; start += block)
            {
                for (var c = 0; c < channels; c++)
                {
                    batch[c] += TensorPrimitives.Sum(data.Slice((int)(start + c * inner), (int)inner));
                }
            }
        }

        for (var c = 0; c < channels; c++)
        {
            sums[c] += batch[c];
            batch[c] /= Math.Max(1, per);
        }

        count += per;
        return batch;
    }
}
