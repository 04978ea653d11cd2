using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace ModelShrink.Core.Passes.Reconstruction.Layerwise;

/// <summary>A layer and the second moments of its input, one per group, measured on the teacher.</summary>
internal sealed record CapturedLayer(LayerGeometry Geometry, SecondMoment[] Moments)
{
    // Factors belong to an input's H, not to a layer: layers reading one activation (Q, K and V) share
    // their SecondMoment objects, so they share one factorization per order too, computed once.
    private static readonly ConditionalWeakTable<SecondMoment, ConcurrentDictionary<bool, Lazy<(int[] Order, float[]? Factor)>>> Factors = new();

    /// <summary>Whether <paramref name="dims"/> is still the shape the layer was measured with.</summary>
    public bool Matches(IReadOnlyList<long> dims) => dims.SequenceEqual(Geometry.WeightDims);

    /// <summary>
    /// The column order of group <paramref name="group"/> (by decreasing H diagonal when
    /// <paramref name="actOrder"/>, else the natural order) and its inverse factor U in that order
    /// (null when H is not positive definite). Computed once per input and order and kept: the pruning
    /// and the quantization of a weight, and every layer reading the same input, share them.
    /// </summary>
    public (int[] Order, float[]? Factor) Factor(int group, bool actOrder, double dampening, CancellationToken cancellation)
    {
        var moment = Moments[group];
        if (moment.IsSpilled)
        {
            // A matrix moved to a file is past the memory budget: its factors are not kept either.
            return Compute(moment, actOrder, dampening, cancellation);
        }

        var cache = Factors.GetValue(moment, _ => new ConcurrentDictionary<bool, Lazy<(int[], float[]?)>>());
        return cache.GetOrAdd(actOrder, _ => new Lazy<(int[], float[]?)>(() => Compute(moment, actOrder, dampening, cancellation))).Value;
    }

    private static (int[] Order, float[]? Factor) Compute(SecondMoment moment, bool actOrder, double dampening, CancellationToken cancellation)
    {
        var n = moment.Width;
        var lower = moment.Lower;
        var order = Enumerable.Range(0, n).ToArray();
        if (actOrder)
        {
            // Stable sort by decreasing diagonal.
            order = order.OrderByDescending(i => lower[(long)i * n + i]).ToArray();
        }

        var permuted = actOrder ? Permute(lower, n, order) : lower;
        return (order, InverseFactor.Compute(permuted, n, dampening, cancellation));
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
