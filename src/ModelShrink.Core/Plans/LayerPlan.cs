using ModelShrink.Core.Compression;

namespace ModelShrink.Core.Plans;

/// <summary>
/// A precision per weight-bearing node, by node name: what a mixed-precision compression does to
/// each layer. Layers it does not name get <see cref="CompressionOptions.Quantize"/>, so a plain
/// mode is the plan that names no layer ("every layer Int8"), and a user's mode never changes
/// meaning. Searches build plans; <see cref="PipelineFactory"/> realises one as a sequence of
/// quantize passes, each given the nodes that are its own.
/// </summary>
/// <param name="Layers">The precision of each named node.</param>
public sealed record LayerPlan(IReadOnlyDictionary<string, LayerPrecision> Layers)
{
    /// <summary>A plan that names nothing (every layer gets the mode).</summary>
    public static LayerPlan Empty { get; } = new(new Dictionary<string, LayerPrecision>());

    /// <summary>The precision a plain <paramref name="mode"/> gives every layer it quantizes.</summary>
    public static LayerPrecision Of(QuantizeMode mode) => mode switch
    {
        QuantizeMode.Int8 => LayerPrecision.Int8,
        QuantizeMode.Int8Static => LayerPrecision.Int8Static,
        QuantizeMode.Int4 => LayerPrecision.Int4,
        QuantizeMode.Fp16 => LayerPrecision.Fp16,
        QuantizeMode.None => LayerPrecision.Float,
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Auto is a search, not a precision"),
    };

    /// <summary>The nodes this plan gives <paramref name="precision"/>, in name order.</summary>
    public IReadOnlyList<string> Named(LayerPrecision precision) =>
        Layers.Where(l => l.Value == precision).Select(l => l.Key).Order(StringComparer.Ordinal).ToArray();

    /// <summary>The nodes this plan gives anything but <paramref name="precision"/>, in name order.</summary>
    public IReadOnlyList<string> NamedOtherThan(LayerPrecision precision) =>
        Layers.Where(l => l.Value != precision).Select(l => l.Key).Order(StringComparer.Ordinal).ToArray();

    /// <summary>Every precision the plan names.</summary>
    public IReadOnlySet<LayerPrecision> Precisions => Layers.Values.ToHashSet();
}
