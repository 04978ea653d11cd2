using ModelShrink.Core.Compression;
using ModelShrink.Core.Plans;

namespace ModelShrink.Core.Search;

/// <summary>The precision table of a compression: each inventoried layer under its plan, counted per operator type.</summary>
public static class PlanTable
{
    /// <summary>The rows for <paramref name="options"/> over <paramref name="inventory"/>, by operator type.</summary>
    public static IReadOnlyList<PlanTableRow> For(LayerInventory inventory, CompressionOptions options) =>
        inventory.Layers
            .GroupBy(l => l.OpType, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g =>
            {
                var precisions = g.Select(l => PrecisionOf(l, options)).ToArray();
                return new PlanTableRow(g.Key,
                    precisions.Count(p => p == LayerPrecision.Int4),
                    precisions.Count(p => p is LayerPrecision.Int8 or LayerPrecision.Int8PerTensor or LayerPrecision.Int8Static),
                    precisions.Count(p => p == LayerPrecision.Fp16),
                    precisions.Count(p => p == LayerPrecision.Float)) { Int8PerTensor = precisions.Count(p => p == LayerPrecision.Int8PerTensor) };
            })
            .ToArray();

    /// <summary>"int4 1, int8 53, float 1": the counts over every layer, zeros left out.</summary>
    public static string Describe(IEnumerable<PlanTableRow> rows)
    {
        var all = rows.ToArray();
        var parts = new (string Name, int Count)[]
        {
            ("int4", all.Sum(r => r.Int4)), ("int8", all.Sum(r => r.Int8)), ("fp16", all.Sum(r => r.Fp16)), ("float", all.Sum(r => r.Float)),
        };
        var perTensor = all.Sum(r => r.Int8PerTensor);
        return string.Join(", ", parts.Where(p => p.Count > 0).Select(p => $"{p.Name} {p.Count}{(p.Name == "int8" && perTensor > 0 ? $" ({perTensor} per tensor)" : "")}"));
    }

    /// <summary>The precision <paramref name="layer"/> gets under <paramref name="options"/>.</summary>
    public static LayerPrecision PrecisionOf(PlanLayer layer, CompressionOptions options)
    {
        if (options.Plan?.Layers.TryGetValue(layer.Name, out var named) == true)
        {
            return named;
        }

        var precision = LayerPlan.Of(options.Quantize);
        if (precision == LayerPrecision.Int8 && !options.Int8.PerChannel)
        {
            precision = LayerPrecision.Int8PerTensor;
        }

        var excluded = precision switch
        {
            LayerPrecision.Int8 or LayerPrecision.Int8PerTensor => options.Int8.ExcludeNodes.Contains(layer.Name) || !options.Int8.OpTypes.Contains(layer.OpType),
            LayerPrecision.Int4 => options.Int4.ExcludeNodes.Contains(layer.Name) || !layer.Ladder.Contains(LayerPrecision.Int4),
            LayerPrecision.Int8Static => options.Int8Static.ExcludeNodes.Contains(layer.Name) || !options.Int8Static.OpTypes.Contains(layer.OpType),
            LayerPrecision.Fp16 => options.Fp16.NodeBlockList.Contains(layer.Name) || options.Fp16.OpBlockList.Contains(layer.OpType),
            _ => false,
        };
        return excluded ? LayerPrecision.Float : precision;
    }
}
