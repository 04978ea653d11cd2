namespace ModelShrink.Core.Calibration;

/// <summary>A calibrator that keeps an <see cref="AbsHistogram"/> and picks the range from it.</summary>
public sealed class HistogramCalibrator(Func<AbsHistogram, ActivationRange> pick) : ICalibrator
{
    private readonly AbsHistogram histogram = new();

    /// <inheritdoc />
    public void Add(ReadOnlySpan<float> values) => histogram.Add(values);

    /// <inheritdoc />
    public ActivationRange Range() => pick(histogram);
}
