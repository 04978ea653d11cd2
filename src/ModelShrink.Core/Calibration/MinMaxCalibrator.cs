using System.Numerics.Tensors;

namespace ModelShrink.Core.Calibration;

/// <summary>Running minimum and maximum; the range always includes zero, as quantization needs.</summary>
public sealed class MinMaxCalibrator : ICalibrator
{
    private float min;
    private float max;

    /// <inheritdoc />
    public void Add(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty)
        {
            return;
        }

        min = Math.Min(min, TensorPrimitives.Min(values));
        max = Math.Max(max, TensorPrimitives.Max(values));
    }

    /// <inheritdoc />
    public ActivationRange Range() => new(min, max);
}
