namespace ModelShrink.Core.Quantization;

/// <summary>
/// What a quantizer is handed by the pass that runs it: where warnings go, cancellation, and the
/// rounding service when one measured the layers (layer-wise reconstruction). The quantizers know
/// nothing of passes; the passes build this from their own context.
/// </summary>
/// <param name="Warn">Records a warning: code, message.</param>
/// <param name="Cancellation">Stops long work.</param>
/// <param name="Rounding">Rounds each measured layer's weights to keep its output closest to the original's (GPTQ), or null for plain rounding.</param>
public sealed record QuantizerContext(Action<string, string> Warn, CancellationToken Cancellation, IWeightRounding? Rounding = null);

/// <summary>A service that rounds a weight onto a quantizer's grid better than to the nearest point (GPTQ from layer statistics).</summary>
public interface IWeightRounding
{
    /// <summary>The counter the quantizers report: weights this service rounded.</summary>
    public const string WeightsRounded = "weights reconstructed (GPTQ)";

    /// <summary>The adjuster for <paramref name="weight"/> with <paramref name="dims"/>, or null when the weight's layer was not measured.</summary>
    WeightAdjuster? For(string weight, IReadOnlyList<long> dims, CancellationToken cancellation);

    /// <summary>The weights rounded so far.</summary>
    IReadOnlyCollection<string> Rounded { get; }
}
