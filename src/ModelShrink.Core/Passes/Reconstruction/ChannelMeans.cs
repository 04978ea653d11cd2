namespace ModelShrink.Core.Passes.Reconstruction;

/// <summary>
/// Streaming per-channel means of one layer output over batches, from each batch's means (computed by
/// ONNX Runtime, <see cref="Calibration.InGraphStatistics.AddChannelMeans"/>) and shape: a Conv's channels
/// lie on axis 1, a Gemm's or MatMul's on the last axis. Memory is one double per channel whatever the
/// number of samples.
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

    /// <summary>
    /// Adds one batch: <paramref name="batchMeans"/>, its per-channel means (computed in the graph), over a
    /// value of shape <paramref name="shape"/>; returns the batch's means. Batches weigh by their elements.
    /// </summary>
    public double[] Add(long[] shape, ReadOnlySpan<float> batchMeans)
    {
        var channels = batchMeans.Length;
        if (shape.Length == 0 || channels == 0)
        {
            return [];
        }

        if (sums.Length != channels || Rank != shape.Length)
        {
            // A value whose channel count changes between batches starts again (never seen in practice).
            (sums, count, Rank, Axis) = (new double[channels], 0, shape.Length, convAxis ? Math.Min(1, shape.Length - 1) : shape.Length - 1);
        }

        var per = shape.Aggregate(1L, (a, b) => a * b) / channels;
        var batch = new double[channels];
        for (var c = 0; c < channels; c++)
        {
            batch[c] = batchMeans[c];
            sums[c] += batchMeans[c] * (double)per;
        }

        count += per;
        return batch;
    }
}
