using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.Ir;

namespace ModelShrink.Core.Passes.Pruning;

/// <summary>A layer chosen for pruning and the sparsity it gets (<see cref="Explicit"/>: from the per-layer list).</summary>
internal sealed record LayerTarget(PrunableLayer Layer, double Sparsity, bool Explicit);

/// <summary>What <see cref="LayerSelection"/> decided: the layers to prune and the counts of those left alone.</summary>
internal sealed record SelectedLayers(IReadOnlyList<LayerTarget> Targets, IReadOnlyList<PrunableLayer> All, long KeptAtEnds, long SkippedByName, long BelowMinSize)
{
    /// <summary>
    /// The layers whose output channels may go with another layer's, in a dependency group (a
    /// residual join, a squeeze-excitation gate): every layer but those skipped by name or kept at
    /// the ends. A small one (below the minimum size) may join; it is not pruned for itself.
    /// </summary>
    public IReadOnlyList<PrunableLayer> Groupable { get; init; } = [];
}

/// <summary>
/// Applies the options that decide which layers are pruned, in this order: the skip list, then an
/// explicit per-layer sparsity (which prunes the layer whatever its place or size), then the first
/// and last layers (kept by default, MSH2401), then the minimum size. Unknown names warn (MSH2402).
/// </summary>
internal static class LayerSelection
{
    public static SelectedLayers Select(Model model, PruneOptions options, PassContext context, bool includeGather)
    {
        var overridable = new List<Value>();
        var layers = PrunableLayers.Find(model, includeGather, overridable);
        if (overridable.Count > 0)
        {
            context.Warn(ErrorCodes.PruneWeightIsGraphInput,
                $"{overridable.Count} weight(s) are also graph inputs, so callers may replace them; left dense: {List(overridable.Select(v => v.Name))}");
        }

        var named = options.SkipNodes.Concat(options.LayerSparsity.Keys).Distinct(StringComparer.Ordinal);
        var unknown = named.Where(n => !layers.Any(l => l.IsNamed([n]))).ToList();
        if (unknown.Count > 0)
        {
            context.Warn(ErrorCodes.PruneNodeNotFound,
                $"no prunable layer is named {List(unknown.Select(n => $"'{n}'"))} (layers: {List(layers.Select(l => l.Name))})", "SkipNodes");
        }

        var ends = options.KeepFirstAndLast ? LayerOrder.Ends(layers) : new Dictionary<PrunableLayer, string>();
        var targets = new List<LayerTarget>();
        var kept = new List<string>();
        long skipped = 0, small = 0;
        foreach (var layer in layers)
        {
            if (layer.IsNamed(options.SkipNodes))
            {
                skipped++;
            }
            else if (options.LayerSparsity.FirstOrDefault(p => layer.IsNamed([p.Key])) is { Key: not null } explicitSparsity)
            {
                targets.Add(new LayerTarget(layer, explicitSparsity.Value, true));
            }
            else if (ends.TryGetValue(layer, out var end))
            {
                kept.Add($"{layer.Name} ({end})");
            }
            else if (layer.Size < options.MinLayerSize)
            {
                small++;
            }
            else
            {
                targets.Add(new LayerTarget(layer, options.Sparsity, false));
            }
        }

        if (kept.Count > 0)
        {
            context.Warn(ErrorCodes.PruneEndsKept,
                $"kept {kept.Count} layer(s) dense at the ends of the network: {List(kept)}; turn KeepFirstAndLast off (--prune-keep-ends false) to prune them too",
                "KeepFirstAndLast");
        }

        return new SelectedLayers(targets, layers, kept.Count, skipped, small)
        {
            Groupable = layers.Where(l => !l.IsNamed(options.SkipNodes) && !ends.ContainsKey(l)).ToArray(),
        };
    }

    /// <summary>Names joined for a message, the first 20 of them.</summary>
    public static string List(IEnumerable<string> names)
    {
        var all = names.ToList();
        return all.Count <= 20 ? string.Join(", ", all) : string.Join(", ", all.Take(20)) + $" and {all.Count - 20} more";
    }
}
