namespace ModelShrink.Core.Plans;

/// <summary>
/// One weight-bearing node a plan can give a precision to, with the precisions it can take (from
/// the smallest) and its float32 weight count, from which each precision's size is estimated.
/// </summary>
/// <param name="Name">The node's name.</param>
/// <param name="OpType">The node's operator.</param>
/// <param name="Weights">float32 weight elements only this node reads (a shared weight counts once, at its first reader).</param>
/// <param name="Channels">Output channels of its main weight (what per-channel scales are counted by).</param>
/// <param name="Ladder">The precisions the node can take, smallest first; <see cref="LayerPrecision.Float"/> is always last.</param>
public sealed record PlanLayer(string Name, string OpType, long Weights, long Channels, IReadOnlyList<LayerPrecision> Ladder)
{
    /// <summary>
    /// Per-channel int8's output error as a share of per-tensor int8's, estimated from the weights
    /// (Search.PerChannelNoiseRatio), or null when the layer's weights do not allow the estimate.
    /// </summary>
    public double? PerChannelNoiseRatio { get; init; }

    /// <summary>Estimated bytes of this layer's weights at <paramref name="precision"/> (int4 with a float32 scale per block of <paramref name="int4BlockSize"/>).</summary>
    public double Bytes(LayerPrecision precision, int int4BlockSize = 32) => precision switch
    {
        LayerPrecision.Float => Weights * 4.0,
        LayerPrecision.Fp16 => Weights * 2.0,
        LayerPrecision.Int4 => Weights * (0.5 + 4.0 / int4BlockSize),
        LayerPrecision.Int8PerTensor => Weights + 5.0,
        _ => Weights + 5.0 * Channels,
    };
}
