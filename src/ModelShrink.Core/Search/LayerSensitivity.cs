using ModelShrink.Core.Budgets;
using ModelShrink.Core.Compression;
using ModelShrink.Onnx.IO;

namespace ModelShrink.Core.Search;

/// <summary>How much quantizing one layer alone costs on the headline metric.</summary>
/// <param name="Layer">The node's name.</param>
/// <param name="OpType">The node's operator.</param>
/// <param name="Metric">The headline metric with only this layer quantized.</param>
/// <param name="Drop">Its drop from the original (positive = worse).</param>
public sealed record LayerSensitivity(string Layer, string OpType, double Metric, double Drop);

/// <summary>
/// Ranks the layers a mode would quantize by the damage each does alone: one compression and one
/// holdout run per layer, so the search keeps the most sensitive layers in float first.
/// </summary>
public static class SensitivityAnalysis
{
    /// <summary>At most this many layers are measured (the largest weights first); the rest rank last.</summary>
    public const int MaxLayers = 48;

    /// <summary>The operator types each per-layer-capable mode quantizes.</summary>
    public static IReadOnlyList<string> OpTypes(CompressionOptions options) => options.Quantize switch
    {
        QuantizeMode.Int8 => options.Int8.OpTypes,
        QuantizeMode.Int4 => ["MatMul"],
        _ => [],
    };

    /// <summary>The layers of <paramref name="source"/> ranked from most to least sensitive under the settings' compression.</summary>
    public static IReadOnlyList<LayerSensitivity> Rank(string source, string folder, JobSettings settings, string display, CancellationToken cancellation, IProgress<string>? progress = null)
    {
        var ops = OpTypes(settings.Compression);
        var model = ModelReader.Load(source);
        var layers = model.Graph.EnumerateNodes()
            .Where(n => ops.Contains(n.OpType) && n.Name.Length > 0 && n.Inputs.Skip(1).Any(v => v?.ConstantTensor is not null))
            .Select(n => (Node: n, Bytes: n.Inputs.Skip(1).Sum(v => v?.ConstantTensor?.ByteCount ?? 0)))
            .OrderByDescending(l => l.Bytes)
            .Take(MaxLayers)
            .ToArray();
        var names = model.Graph.EnumerateNodes().Where(n => ops.Contains(n.OpType) && n.Name.Length > 0).Select(n => n.Name).ToArray();
        var rows = new List<LayerSensitivity>();
        foreach (var (node, _) in layers)
        {
            cancellation.ThrowIfCancellationRequested();
            progress?.Report($"sensitivity: layer {rows.Count + 1}/{layers.Length}, {node.Name}");
            // Ranked under plain rounding: reconstruction would measure the whole model's layer inputs
            // again for every one-layer candidate, and the order it gives is what is wanted here.
            var only = OnlyLayer(settings.Compression with { Reconstruct = Passes.Reconstruction.ReconstructMode.None }, node.Name, names);
            var file = Path.Combine(folder, $"sensitivity-{rows.Count}.onnx");
            var job = CompressionJob.Run(source, file, settings with { Compression = only, Size = new SizeBudget(null, null), Accuracy = new AccuracyBudget(null, null, null) }, display, cancellation);
            File.Delete(file);
            if (job.Validation is { } v)
            {
                rows.Add(new LayerSensitivity(node.Name, node.OpType, v.Value, AccuracyBudget.Drop(v)));
            }
        }

        return rows.OrderByDescending(r => r.Drop).ThenBy(r => r.Layer, StringComparer.Ordinal).ToArray();
    }

    /// <summary>The options that quantize every layer but <paramref name="keepFloat"/>.</summary>
    public static CompressionOptions Excluding(CompressionOptions options, IReadOnlyList<string> keepFloat) => options.Quantize switch
    {
        QuantizeMode.Int8 => options with { Int8 = options.Int8 with { ExcludeNodes = [.. options.Int8.ExcludeNodes, .. keepFloat] } },
        QuantizeMode.Int4 => options with { Int4 = options.Int4 with { ExcludeNodes = [.. options.Int4.ExcludeNodes, .. keepFloat] } },
        _ => options,
    };

    // int8 has an include list; int4 only an exclude list, so every other layer is excluded.
    private static CompressionOptions OnlyLayer(CompressionOptions options, string layer, IReadOnlyList<string> allLayers) => options.Quantize switch
    {
        QuantizeMode.Int8 => options with { Int8 = options.Int8 with { NodesToQuantize = [layer] } },
        _ => Excluding(options, allLayers.Where(l => l != layer).ToArray()),
    };
}
