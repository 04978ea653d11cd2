using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Quantization;

/// <summary>The integer type 8-bit weights are stored as (CLI <c>--weight-type</c>).</summary>
public enum WeightType
{
    /// <summary>Signed 8-bit, symmetric by default (ONNX Runtime's default weight type).</summary>
    Int8,

    /// <summary>Unsigned 8-bit, asymmetric by default.</summary>
    UInt8,
}

/// <summary>
/// How 8-bit values are mapped: the type, symmetric or not, and the 7-bit "reduce range" that
/// ONNX Runtime's tool offers for CPUs whose u8*s8 dot products saturate (no VNNI).
/// </summary>
/// <param name="Type">The stored integer type.</param>
/// <param name="Symmetric">Zero maps to the middle of the range and the range is ±max|x|.</param>
/// <param name="ReduceRange">Use 7 bits: [-64, 64] for int8, [0, 127] for uint8.</param>
public readonly record struct QuantScheme(WeightType Type, bool Symmetric, bool ReduceRange)
{
    /// <summary>The scheme ONNX Runtime's quantize_dynamic uses for a weight type: int8 symmetric, uint8 asymmetric.</summary>
    public static QuantScheme Default(WeightType type, bool? symmetric = null, bool reduceRange = false) =>
        new(type, symmetric ?? type == WeightType.Int8, reduceRange);

    /// <summary>The smallest stored value (ONNX Runtime's get_qmin_qmax_for_qType).</summary>
    public int QMin => Type switch
    {
        WeightType.Int8 => ReduceRange ? -64 : Symmetric ? -127 : -128,
        _ => 0,
    };

    /// <summary>The largest stored value.</summary>
    public int QMax => Type switch
    {
        WeightType.Int8 => ReduceRange ? 64 : 127,
        _ => ReduceRange ? 127 : 255,
    };

    /// <summary>The ONNX element type of the stored values.</summary>
    public DataType DataType => Type == WeightType.Int8 ? DataType.Int8 : DataType.UInt8;
}

/// <summary>One scale and zero point: real = (q - ZeroPoint) * Scale.</summary>
public readonly record struct QuantParameters(float Scale, int ZeroPoint)
{
    // numpy.finfo(float32).tiny: ONNX Runtime treats a smaller scale as a zero-width range.
    private const double SmallestNormal = 1.17549435e-38;

    /// <summary>
    /// The parameters for values in [<paramref name="min"/>, <paramref name="max"/>], computed as
    /// ONNX Runtime's compute_scale_zp does: the range is widened to include 0, made ±max|x| when
    /// symmetric, the scale is (max - min) / (qmax - qmin) in double precision stored as float, a
    /// zero-width range gets scale 1, and the zero point is round-half-even(qmin - min / scale)
    /// (the middle of the range when symmetric).
    /// </summary>
    public static QuantParameters FromRange(float min, float max, QuantScheme scheme)
    {
        min = MathF.Min(min, 0f);
        max = MathF.Max(max, 0f);
        if (scheme.Symmetric)
        {
            var absMax = MathF.Max(MathF.Abs(min), MathF.Abs(max));
            min = -absMax;
            max = absMax;
        }

        double qmin = scheme.QMin, qmax = scheme.QMax;
        var scale = (double)(max - min) / (qmax - qmin);
        if (scale < SmallestNormal || !double.IsFinite(scale))
        {
            return new QuantParameters(1f, scheme.Symmetric ? MiddleOf(scheme) : 0);
        }

        var zeroPoint = scheme.Symmetric ? MiddleOf(scheme) : (int)Math.Round(qmin - min / scale, MidpointRounding.ToEven);
        return new QuantParameters((float)scale, Math.Clamp(zeroPoint, scheme.QMin, scheme.QMax));
    }

    private static int MiddleOf(QuantScheme scheme) => (int)Math.Round((scheme.QMin + scheme.QMax) / 2.0, MidpointRounding.ToEven);
}
