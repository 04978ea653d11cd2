namespace ModelShrink.Core.Plans;

/// <summary>How much giving one layer alone a precision costs, measured on the holdout data.</summary>
/// <param name="Layer">The node's name.</param>
/// <param name="OpType">The node's operator.</param>
/// <param name="Metric">The headline metric with only this layer at <see cref="Precision"/>.</param>
/// <param name="Drop">Its drop from the original (positive = worse).</param>
public sealed record LayerSensitivity(string Layer, string OpType, double Metric, double Drop)
{
    /// <summary>The precision the layer was given.</summary>
    public LayerPrecision Precision { get; init; } = LayerPrecision.Int8;

    /// <summary>
    /// The error this layer alone puts into the scored output, as a share of the output's energy
    /// (10^(-SNR/10)): continuous where the headline metric is not (one layer rarely flips a top-1
    /// class), and close to additive over layers whose rounding errors are independent, which is
    /// what lets a plan's total be estimated as a sum.
    /// </summary>
    public double Noise { get; init; }
}
