using System.Globalization;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Passes.Reconstruction;
using ModelShrink.Core.Plans;

namespace ModelShrink.Core.Search;

/// <summary>
/// The label of a candidate in the text summary, the JSON and the report, made from what the
/// candidate ran (never from which search made it), so two candidates that differ get different
/// labels: "int8 per-channel", "pruned 0.4 (magnitude) + float32", "mixed (2 int4, 3 int8 per-tensor)
/// + layerwise reconstruction". What may be absent comes first (pruning) or is written out in every
/// label of a run that varies it (reconstruction, where the search may add it: "+ no reconstruction"),
/// so no label of a run is the beginning of another.
/// </summary>
public static class CandidateLabel
{
    /// <summary>
    /// The label of a candidate that ran <paramref name="options"/>; <paramref name="plan"/> gives a mixed plan's
    /// counts per precision; <paramref name="reconstructionVaries"/> names the reconstruction even when there is none.
    /// </summary>
    public static string Of(CompressionOptions options, IReadOnlyList<PlanTableRow>? plan = null, bool reconstructionVaries = false)
    {
        var parts = new List<string>(3);
        if (options.Prune is { Auto: false } prune)
        {
            parts.Add($"pruned {prune.TargetSparsity.ToString("0.0#", CultureInfo.InvariantCulture)} ({prune.ModeText})");
        }

        parts.Add(plan is not null && options.Plan is not null ? Mixed(plan) : Precision(options));
        if (options.Reconstruct != ReconstructMode.None || reconstructionVaries)
        {
            parts.Add(options.Reconstruct switch
            {
                ReconstructMode.None => "no reconstruction",
                ReconstructMode.Bias => "bias correction",
                _ => $"{options.Reconstruct.ToString().ToLowerInvariant()} reconstruction",
            });
        }

        return string.Join(" + ", parts);
    }

    /// <summary>The precision of a plain mode: "int8 per-channel", "int8 static per-tensor", "int4", "fp16", "float32".</summary>
    public static string Precision(CompressionOptions options) => options.Quantize switch
    {
        QuantizeMode.Int8 => "int8 " + Scales(options.Int8.PerChannel),
        QuantizeMode.Int8Static => "int8 static " + Scales(options.Int8Static.PerChannel),
        QuantizeMode.Int4 => "int4",
        QuantizeMode.Fp16 => "fp16",
        QuantizeMode.None => "float32",
        _ => options.Quantize.ToString().ToLowerInvariant(),
    };

    // "mixed (2 int4, 1 int8 per-channel, 3 int8 per-tensor, 1 float32)": the layers of each precision, zeros left out.
    private static string Mixed(IReadOnlyList<PlanTableRow> rows)
    {
        var perTensor = rows.Sum(r => r.Int8PerTensor);
        var counts = new (int Count, string Name)[]
        {
            (rows.Sum(r => r.Int4), "int4"), (rows.Sum(r => r.Int8) - perTensor, "int8 per-channel"), (perTensor, "int8 per-tensor"),
            (rows.Sum(r => r.Fp16), "fp16"), (rows.Sum(r => r.Float), "float32"),
        };
        return $"mixed ({string.Join(", ", counts.Where(c => c.Count > 0).Select(c => $"{c.Count} {c.Name}"))})";
    }

    private static string Scales(bool perChannel) => perChannel ? "per-channel" : "per-tensor";
}
