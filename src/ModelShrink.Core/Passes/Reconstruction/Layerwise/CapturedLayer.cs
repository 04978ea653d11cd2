namespace ModelShrink.Core.Passes.Reconstruction.Layerwise;

/// <summary>A layer and the second moments of its input, one per group, measured on the teacher.</summary>
internal sealed record CapturedLayer(LayerGeometry Geometry, SecondMoment[] Moments)
{
    private readonly Dictionary<bool, float[]?[]> factors = [];

    /// <summary>Whether <paramref name="dims"/> is still the shape the layer was measured with.</summary>
    public bool Matches(IReadOnlyList<long> dims) => dims.SequenceEqual(Geometry.WeightDims);

    /// <summary>
    /// The column order of group <paramref name="group"/> (by decreasing H diagonal when
    /// <paramref name="actOrder"/>, else the natural order) and its inverse factor U in that order
    /// (null when H is not positive definite). Computed once per order and kept: the pruning and the
    /// quantization of one weight share them.
    /// </summary>
    public (int[] Order, float[]? Factor) Factor(int group, bool actOrder, double dampening, CancellationToken cancellation)
    {
        var n = Geometry.Columns;
        var lower = Moments[group].Lower;
        var order = Enumerable.Range(0, n).ToArray();
        if (actOrder)
        {
            // Stable sort by decreasing diagonal.
            order = order.OrderByDescending(i => lower[(long)i * n + i]).ToArray();
        }

        lock (factors)
        {
            if (factors.TryGetValue(actOrder, out var cached) && cached[group] is { } known)
            {
                return (order, known);
            }
        }

        var permuted = actOrder ? Permute(lower, n, order) : lower;
        var factor = InverseFactor.Compute(permuted, n, dampening, cancellation);
        lock (factors)
        {
            if (!factors.TryGetValue(actOrder, out var slots))
            {
                factors[actOrder] = slots = new float[]?[Moments.Length];
            }

            slots[group] = factor;
        }

        return (order, factor);
    }

    // The lower triangle of P·H·Pᵀ: entry (i, j) is H[order[i], order[j]], read from H's lower triangle.
    private static double[] Permute(double[] lower, int n, int[] order)
    {
        var permuted = new double[(long)n * n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j <= i; j++)
            {
                var (a, b) = (order[i], order[j]);
                permuted[(long)i * n + j] = a >= b ? lower[(long)a * n + b] : lower[(long)b * n + a];
            }
        }

        return permuted;
    }
}
