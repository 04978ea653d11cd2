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
        long done = 0;
        for (var start = 0; start < cols; start += BlockColumns)
        {
            var width = Math.Min(BlockColumns, cols - start);
            var due = (long)Math.Round((double)zeros * (start + width) / cols, MidpointRounding.AwayFromZero) - done;
            SelectSmallest(w, rows, cols, u, start, width, (int)Math.Min(due, (long)rows * width), mask);
            done += due;
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
        }, cancellation);
    }

    private static float Saliency(float value, float pivot) => value / pivot * (value / pivot);

    // mask[r, j] = whether (r, start + j) is among the `count` smallest saliencies of the block (ties by position).
    private static void SelectSmallest(float[] w, int rows, int cols, float[] u, int start, int width, int count, bool[] mask)
    {
        var keys = new float[rows * width];
        var positions = new int[rows * width];
        for (var r = 0; r < rows; r++)
        {
            for (var j = 0; j < width; j++)
            {
                var c = start + j;
                keys[r * width + j] = Saliency(w[r * cols + c], u[c * cols + c]);
                positions[r * width + j] = r * BlockColumns + j;
            }
        }

        Array.Clear(mask);
        Array.Sort(keys, positions);
        for (var i = 0; i < count; i++)
        {
            mask[positions[i]] = true;
        }
    }
}
