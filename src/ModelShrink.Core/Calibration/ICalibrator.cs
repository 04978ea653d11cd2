namespace ModelShrink.Core.Calibration;

/// <summary>The range chosen for one activation: values outside it saturate when quantized.</summary>
public readonly record struct ActivationRange(float Min, float Max);

/// <summary>How activation ranges are chosen from calibration data (the --calibration-method option).</summary>
public enum CalibrationMethod
{
    /// <summary>The smallest and largest value seen.</summary>
    MinMax,

    /// <summary>A percentile of the absolute values (99.999 by default), from a histogram.</summary>
    Percentile,

    /// <summary>The threshold whose 8-bit quantization loses least information (KL divergence).</summary>
    Entropy,
}

/// <summary>
/// Collects the statistics of one activation batch by batch in constant memory and then picks its
/// range (ONNX Runtime's calibrators have the same three methods).
/// </summary>
public interface ICalibrator
{
    /// <summary>Adds the values of one batch.</summary>
    void Add(ReadOnlySpan<float> values);

    /// <summary>The range for quantization, from everything added.</summary>
    ActivationRange Range();
}

/// <summary>Makes the calibrator of a method.</summary>
public static class Calibrators
{
    /// <summary>A new calibrator for one activation.</summary>
    public static ICalibrator Create(CalibrationMethod method, double percentile = 99.999) => method switch
    {
        CalibrationMethod.MinMax => new MinMaxCalibrator(),
        CalibrationMethod.Percentile => new HistogramCalibrator(h => h.Percentile(percentile)),
        _ => new HistogramCalibrator(h => h.EntropyThreshold()),
    };
}
