using System.Numerics;

namespace ModelShrink.Core.Passes.Pruning;

/// <summary>
/// Zeroes exactly the <c>count</c> weights of smallest magnitude across one or more buffers (one
/// layer, or every layer for a global threshold), in linear time: a radix select on the magnitude's
/// float32 bits (high 16 bits, then low 16 bits), then one masking pass, all in parallel chunks.
/// Ties at the threshold are broken by position (earlier buffer, then lower index), so the count is
/// exact and the result deterministic. Weights already zero are the smallest and count toward it.
/// </summary>
internal static class MagnitudeSelection
{
    private const int ChunkSize = 1 << 20;
    private const uint SignMask = 0x7FFF_FFFFu;

    /// <summary>Zeroes the <paramref name="count"/> smallest-magnitude elements of <paramref name="buffers"/>.</summary>
    public static void ZeroSmallest(IReadOnlyList<WeightBuffer> buffers, long count, CancellationToken cancellation)
    {
        if (count <= 0)
        {
            return;
        }

        var chunks = Chunks(buffers);
        var total = buffers.Sum(b => (long)b.Length);
        if (count >= total)
        {
            Zero(buffers, chunks, uint.MaxValue, null, cancellation);
            return;
        }

        // High 16 bits: which bin holds the count-th smallest key.
        var high = Histogram(buffers, chunks, null, cancellation);
        var (highBin, belowHigh) = Find(high, count);

        // Low 16 bits within that bin: the exact threshold key and how many below it.
        var low = Histogram(buffers, chunks, (uint)highBin, cancellation);
        var (lowBin, belowLow) = Find(low, count - belowHigh);
        var threshold = ((uint)highBin << 16) | (uint)lowBin;
        var ties = count - belowHigh - belowLow;

        // Every key below the threshold goes; of those equal to it, the first `ties` (all of them, or zeros anyway).
        if (ties == low[lowBin] || threshold == 0)
        {
            Zero(buffers, chunks, threshold, null, cancellation);
        }
        else
        {
            Zero(buffers, chunks, threshold - 1, TieQuotas(buffers, chunks, threshold, ties, cancellation), cancellation);
        }
    }

    private static List<(int Buffer, int Start, int Length)> Chunks(IReadOnlyList<WeightBuffer> buffers)
    {
        var chunks = new List<(int, int, int)>();
        for (var b = 0; b < buffers.Count; b++)
        {
            for (var start = 0; start < buffers[b].Length; start += ChunkSize)
            {
                chunks.Add((b, start, Math.Min(ChunkSize, buffers[b].Length - start)));
            }
        }

        return chunks;
    }

    // Counts of the keys' high 16 bits, or (within a high bin) of the low 16 bits of the keys in it.
    // Chunks count into int histograms (a chunk holds at most 2^20 keys); two interleaved ones
    // keep runs of equal bins from waiting on each other's increments.
    private static long[] Histogram(IReadOnlyList<WeightBuffer> buffers, List<(int Buffer, int Start, int Length)> chunks,
        uint? withinHighBin, CancellationToken cancellation)
    {
        const int bins = 1 << 16;
        var total = new long[bins];
        var gate = new object();
        Parallel.For(0, chunks.Count, new ParallelOptions { CancellationToken = cancellation }, () => new int[2 * bins], (c, _, local) =>
        {
            var (b, start, length) = chunks[c];
            var bits = buffers[b].Bits.Slice(start, length);
            var i = 0;
            if (withinHighBin is { } highBin)
            {
                for (; i < bits.Length; i++)
                {
                    var key = bits[i] & SignMask;
                    if (key >> 16 == highBin)
                    {
                        local[key & 0xFFFF]++;
                    }
                }
            }
            else
            {
                for (; i + 1 < bits.Length; i += 2)
                {
                    local[(bits[i] & SignMask) >> 16]++;
                    local[bins + ((bits[i + 1] & SignMask) >> 16)]++;
                }

                for (; i < bits.Length; i++)
                {
                    local[(bits[i] & SignMask) >> 16]++;
                }
            }

            return local;
        }, local =>
        {
            lock (gate)
            {
                for (var i = 0; i < bins; i++)
                {
                    total[i] += local[i] + (long)local[bins + i];
                }
            }
        });
        return total;
    }

    // The bin where the running count reaches `count`, and how many elements lie in bins below it.
    private static (int Bin, long Below) Find(long[] histogram, long count)
    {
        long below = 0;
        for (var bin = 0; bin < histogram.Length; bin++)
        {
            if (below + histogram[bin] >= count)
            {
                return (bin, below);
            }

            below += histogram[bin];
        }

        throw new InvalidOperationException("the histogram holds fewer elements than asked for");
    }

    // How many threshold-equal elements each chunk zeroes: the first `ties` of them in chunk order.
    private static long[] TieQuotas(IReadOnlyList<WeightBuffer> buffers, List<(int Buffer, int Start, int Length)> chunks, uint threshold, long ties, CancellationToken cancellation)
    {
        var equal = new long[chunks.Count];
        Parallel.For(0, chunks.Count, new ParallelOptions { CancellationToken = cancellation }, c =>
        {
            var (b, start, length) = chunks[c];
            var bits = buffers[b].Bits.Slice(start, length);
            long n = 0;
            for (var i = 0; i < bits.Length; i++)
            {
                n += (bits[i] & SignMask) == threshold ? 1 : 0;
            }

            equal[c] = n;
        });
        var quotas = new long[chunks.Count];
        for (var c = 0; c < chunks.Count && ties > 0; c++)
        {
            quotas[c] = Math.Min(ties, equal[c]);
            ties -= quotas[c];
        }

        return quotas;
    }

    // Zeroes keys <= limit, plus (with quotas) the first quota[c] keys equal to limit + 1 in each chunk.
    private static void Zero(IReadOnlyList<WeightBuffer> buffers, List<(int Buffer, int Start, int Length)> chunks, uint limit, long[]? quotas, CancellationToken cancellation)
    {
        Parallel.For(0, chunks.Count, new ParallelOptions { CancellationToken = cancellation }, c =>
        {
            var (b, start, length) = chunks[c];
            var buffer = buffers[b];
            var from = 0;
            if (buffer.IsFloat32 && quotas is null)
            {
                from = ZeroVectorized(buffer.Float32Bits.Slice(start, length), limit);
            }

            var quota = quotas?[c] ?? 0;
            for (var i = start + from; i < start + length; i++)
            {
                var key = buffer.Key(i);
                if (key <= limit || (quota > 0 && key == limit + 1 && quota-- > 0))
                {
                    buffer.Zero(i);
                }
            }
        });
    }

    // Clears every float32 whose magnitude bits are <= limit, a vector at a time; returns how far it got.
    private static int ZeroVectorized(Span<uint> bits, uint limit)
    {
        var count = Vector<uint>.Count;
        var mask = new Vector<uint>(SignMask);
        var bound = new Vector<uint>(limit);
        var i = 0;
        for (; i + count <= bits.Length; i += count)
        {
            var v = new Vector<uint>(bits.Slice(i, count));
            var keep = Vector.GreaterThan(v & mask, bound);
            (v & keep).CopyTo(bits.Slice(i, count));
        }

        return i;
    }
}
