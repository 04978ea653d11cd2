namespace ModelShrink.Core.Quantization;

/// <summary>
/// A bias in int32 for an integer Conv/MatMul: it is added to the int32 accumulator of
/// (x - x_zp) * (w - w_zp), so its scale is input scale x weight scale (per output channel with
/// per-channel weights) and its zero point 0. The arithmetic is ONNX Runtime's quantize_bias_static:
/// the scale product and the division in float32, rounded half to even.
/// </summary>
public static class BiasQuantization
{
    /// <summary>
    /// Quantizes <paramref name="bias"/> (one value per output channel) for an input of scale
    /// <paramref name="inputScale"/> and weights of <paramref name="weightScales"/> (one, or one per
    /// channel). Returns the codes, the scales (one per channel, or one when the weight has one) and
    /// how many values did not fit int32 and were clamped.
    /// </summary>
    public static (int[] Codes, float[] Scales, int Clamped) Quantize(ReadOnlySpan<float> bias, float inputScale, ReadOnlySpan<float> weightScales)
    {
        if (weightScales.Length != 1 && weightScales.Length != bias.Length)
        {
            throw new ArgumentException($"{weightScales.Length} weight scales for {bias.Length} bias values", nameof(weightScales));
        }

        var scales = new float[weightScales.Length];
        for (var i = 0; i < scales.Length; i++)
        {
            scales[i] = inputScale * weightScales[i];
        }

        var codes = new int[bias.Length];
        var clamped = 0;
        for (var c = 0; c < codes.Length; c++)
        {
            var q = MathF.Round(bias[c] / scales[scales.Length == 1 ? 0 : c], MidpointRounding.ToEven);
            if (float.IsNaN(q))
            {
                q = 0f;
            }

            // (float)int.MaxValue rounds up to 2^31, so the upper test is on >=.
            if (q >= int.MaxValue || q < int.MinValue)
            {
                codes[c] = q > 0 ? int.MaxValue : int.MinValue;
                clamped++;
            }
            else
            {
                codes[c] = (int)q;
            }
        }

        return (codes, scales, clamped);
    }
}
