using ModelShrink.Core.Plans;

namespace ModelShrink.Core.Search;

/// <summary>
/// The plans a Lagrangian relaxation of "smallest model under an error budget" passes through
/// (HAWQ-V3's integer program with size as the cost and the measured output error as the
/// constraint): every layer starts at the smallest precision on its ladder, and raising the price
/// of error step by step moves one layer at a time to its next precision, in the order of error
/// removed per byte added. Plan k is the plan after the first k moves: each is larger and (by the
/// estimate) more accurate than the one before, so the search can bisect the chain for the
/// first plan that holds on the holdout.
/// </summary>
public sealed class PlanChain
{
    private readonly IReadOnlyList<PlanLayer> layers;
    private readonly IReadOnlyList<(string Layer, LayerPrecision To)> moves;

    private PlanChain(IReadOnlyList<PlanLayer> layers, IReadOnlyList<(string, LayerPrecision)> moves)
    {
        this.layers = layers;
        this.moves = moves;
    }

    /// <summary>Plans in the chain: the smallest (0) to every layer float (<see cref="Count"/> - 1).</summary>
    public int Count => moves.Count + 1;

    /// <summary>
    /// Builds the chain from each layer's measured error at each precision (a layer or precision
    /// left unmeasured counts as too sensitive to take it: it is raised first).
    /// </summary>
    public static PlanChain Build(IReadOnlyList<PlanLayer> layers, IReadOnlyList<LayerSensitivity> sensitivity, int int4BlockSize = 32)
    {
        var noise = sensitivity.ToDictionary(s => (s.Layer, s.Precision), s => s.Noise);
        var steps = new List<(string Layer, LayerPrecision To, double Slope, int Order)>();
        foreach (var layer in layers)
        {
            var points = layer.Ladder
                .Select(p => (Precision: p, Bytes: layer.Bytes(p, int4BlockSize), Noise: p == LayerPrecision.Float ? 0 : noise.GetValueOrDefault((layer.Name, p), double.PositiveInfinity)))
                .OrderBy(p => p.Bytes)
                .ToList();
            var hull = LowerHull(points);
            for (var i = 1; i < hull.Count; i++)
            {
                var added = Math.Max(hull[i].Bytes - hull[i - 1].Bytes, 1e-9);
                var removed = hull[i - 1].Noise - hull[i].Noise;
                steps.Add((layer.Name, hull[i].Precision, double.IsPositiveInfinity(removed) ? double.PositiveInfinity : removed / added, i));
            }
        }

        // Most error removed per byte first; a layer's own steps keep their order (the hull's slopes fall).
        var ordered = steps.OrderByDescending(s => s.Slope).ThenBy(s => s.Order).ThenBy(s => s.Layer, StringComparer.Ordinal).Select(s => (s.Layer, s.To)).ToArray();
        return new PlanChain(layers, ordered);
    }

    /// <summary>Plan <paramref name="k"/>: the precision of every layer.</summary>
    public IReadOnlyDictionary<string, LayerPrecision> Plan(int k)
    {
        var plan = layers.ToDictionary(l => l.Name, l => l.Ladder[0], StringComparer.Ordinal);
        foreach (var (layer, to) in moves.Take(k))
        {
            plan[layer] = to;
        }

        return plan;
    }

    // The points on the lower-left convex hull of (bytes, noise): dominated precisions (larger and no
    // more accurate) and ones a mix of their neighbours beats are dropped, so slopes fall along it.
    private static List<(LayerPrecision Precision, double Bytes, double Noise)> LowerHull(List<(LayerPrecision Precision, double Bytes, double Noise)> points)
    {
        var hull = new List<(LayerPrecision Precision, double Bytes, double Noise)>();
        foreach (var point in points)
        {
            if (hull.Count > 0 && point.Noise >= hull[^1].Noise)
            {
                continue;
            }

            while (hull.Count >= 2 && Slope(hull[^2], hull[^1]) <= Slope(hull[^1], point))
            {
                hull.RemoveAt(hull.Count - 1);
            }

            hull.Add(point);
        }

        return hull;
    }

    // Error removed per byte added from a to b (infinite when a's error is).
    private static double Slope((LayerPrecision, double Bytes, double Noise) a, (LayerPrecision, double Bytes, double Noise) b) =>
        double.IsPositiveInfinity(a.Noise) ? double.PositiveInfinity : (a.Noise - b.Noise) / Math.Max(b.Bytes - a.Bytes, 1e-9);
}
