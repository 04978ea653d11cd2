namespace ModelShrink.Core.Passes.Reconstruction.Layerwise;

/// <summary>
/// SparseGPT (Frantar and Alistarh, 2023): prune with the same sweep as GPTQ, choosing which weights
/// to zero by the OBS saliency w² / [H⁻¹]cc = (w / U[c,c])² of their current (already compensated)
/// values, and spreading each zeroed weight's value over the columns after it.
/// </summary>
internal static class SparseGpt
{
    /// <summary>Columns per mask block (the paper's Bs = 128): the mask adapts to the compensation as the sweep goes.</summary>
    public const int BlockColumns = 128;

    /// <summary>
    /// Zeroes <paramref name="zeros"/> weights of <paramref name="w"/> (row-major [rows, cols]): block by
    /// block of columns, the block's share of the count (cumulative, so the total is exact) goes to
    /// the smallest saliencies across all rows of the block.
    /// </summary>
    public static void Unstructured(float[] w, int rows, int cols, float[] u, long zeros, CancellationToken cancellation)
    {
        var mask = new bool[(long)rows * BlockColumns];
        for (var start = 0; start < cols; start += BlockColumns)
        {
            var width = Math.Min(BlockColumns, cols - start);
            var due = Share(zeros, start + width, cols) - Share(zeros, start, cols);
            SelectSmallest(w, rows, cols, u, start, width, (int)Math.Min(due, (long)rows * width), mask);
            var blockStart = start;
            ColumnSweep.Run(w, rows, cols, u, start, start + width,
                (r, c, values) => mask[r * BlockColumns + c - blockStart] ? 0f : values[c], cancellation);
        }
    }

    /// <summary>
    /// N:M: in each group of <paramref name="m"/> columns <paramref name="stride"/> apart (consecutive
    /// inputs; for Conv, consecutive input channels at one kernel position) keeps the
    /// <paramref name="n"/> of largest saliency, chosen when the sweep reaches the group's first column.
    /// The caller checks that the channel count divides into whole groups.
    /// </summary>
    public static void NOfM(float[] w, int rows, int cols, float[] u, int n, int m, int stride, CancellationToken cancellation)
    {
        var mask = new bool[(long)rows * cols];

        // A group's saliencies are read when the sweep reaches its first column, so the whole group
        // must lie in that column's block: groups starting in [g·m·stride, (g+1)·m·stride) end in it,
        // and blocks are whole numbers of such spans.
        var span = m * stride;
        var block = (ColumnSweep.DefaultBlockColumns + span - 1) / span * span;
        ColumnSweep.Run(w, rows, cols, u, 0, cols, (r, c, values) =>
        {
            if (c / stride % m == 0)
            {
                Span<float> saliency = stackalloc float[m];
                for (var t = 0; t < m; t++)
                {
                    var at = c + t * stride;
                    saliency[t] = Saliency(values[at], u[at * cols + at]);
                }

                for (var t = 0; t < m; t++)
                {
                    // Rank among the group: larger saliencies, and equal ones at lower positions, come first.
                    var rank = 0;
                    for (var other = 0; other < m; other++)
                    {
                        rank += saliency[other] > saliency[t] || (saliency[other] == saliency[t] && other < t) ? 1 : 0;
                    }

                    mask[r * cols + c + t * stride] = rank >= n;
                }
            }

            return mask[r * cols + c] ? 0f : values[c];
        }, cancellation, block);
    }

    /// <summary>
    /// The part of <paramref name="total"/> due by <paramref name="reached"/> of <paramref name="whole"/>,
    /// rounded: consecutive differences of it split a count into parts that add up exactly.
    /// </summary>
    public static long Share(long total, long reached, long whole) =>
        (long)Math.Round((double)total * reached / whole, MidpointRounding.AwayFromZero);

    private static float Saliency(float value, float pivot) => value / pivot * (value / pivot);

    // mask[r, j] = whether (r, start + j) is among the `count` smallest saliencies of the block, ties
    // at the threshold going to the first positions (row by row). The threshold is found by selection,
    // linear on average, rather than by sorting the block's rows × 128 saliencies.
    private static void SelectSmallest(float[] w, int rows, int cols, float[] u, int start, int width, int count, bool[] mask)
    {
        Array.Clear(mask);
        if (count <= 0)
        {
            return;
        }

        var keys = new float[rows * width];
        for (var r = 0; r < rows; r++)
        {
            for (var j = 0; j < width; j++)
            {
                var c = start + j;
                keys[r * width + j] = Saliency(w[r * cols + c], u[c * cols + c]);
            }
        }

        var scratch = (float[])keys.Clone();
        var threshold = Select(scratch, Math.Min(count, keys.Length) - 1);
        var below = 0;
        foreach (var key in keys)
        {
            below += key < threshold ? 1 : 0;
        }

        var ties = count - below;
        for (var i = 0; i < keys.Length; i++)
        {
            var key = keys[i];
            if (key < threshold || (key == threshold && ties-- > 0))
            {
                mask[i / width * BlockColumns + i % width] = true;
            }
        }
    }

    // The k-th smallest value (from 0) of `values`, which it reorders: quickselect with a three-way
    // partition, so runs of equal values (weights already zero) end the search at once.
    private static float Select(float[] values, int k)
    {
        int low = 0, high = values.Length - 1;
        while (low < high)
        {
            var (a, b, c) = (values[low], values[low + (high - low) / 2], values[high]);
            var pivot = Math.Max(Math.Min(a, b), Math.Min(Math.Max(a, b), c));
            int less = low, i = low, more = high;
            while (i <= more)
            {
                var value = values[i];
                if (value < pivot)
                {
                    (values[less], values[i]) = (value, values[less]);
                    less++;
                    i++;
                }
                else if (value > pivot)
                {
                    (values[more], values[i]) = (value, values[more]);
                    more--;
                }
                else
                {
                    i++;
                }
            }

            if (k < less)
            {
                high = less - 1;
            }
            else if (k > more)
            {
                low = more + 1;
            }
            else
            {
                return pivot;
            }
        }

        return values[low];
    }
}
