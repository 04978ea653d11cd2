using ModelShrink.Core.Calibration;
using ModelShrink.Core.Quantization;

namespace ModelShrink.Core.Passes.Int8Static;

/// <summary>
/// Options of the "int8-static" pass, after onnxruntime.quantization.quantize_static with
/// QuantFormat.QDQ: weights and activations in 8 bits, activation ranges calibrated on data ahead of
/// time, written as QuantizeLinear/DequantizeLinear pairs that ONNX Runtime fuses into integer
/// operators (QLinearConv, QLinearMatMul, QGemm, ...). Defaults are quantize_static's (asymmetric
/// activations, int8 symmetric weights, MinMax) except two: uint8 activations (int8 there since
/// ONNX Runtime 1.16; see <see cref="ActivationType"/>) and per-channel weights (off there).
/// </summary>
public sealed record Int8StaticOptions
{
    /// <summary>The operator types that may run in int8 by default: compute operators with weights, and the ones ONNX Runtime runs on int8 data between them.</summary>
    public static readonly IReadOnlyList<string> DefaultOpTypes =
    [
        "Conv", "MatMul", "Gemm",
        "Relu", "Clip", "MaxPool", "AveragePool", "GlobalAveragePool", "Add", "Mul", "Concat",
        "Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze", "Resize", "Softmax",
    ];

    /// <summary>
    /// The calibration data (any holdout layout: test_data_set_N folders, .npz/.npy, or a folder of
    /// them); required (MSH2500 when missing). Best a few hundred representative samples that are not
    /// the validation holdout.
    /// </summary>
    public string? CalibrationData { get; init; }

    /// <summary>
    /// Whether <see cref="CalibrationData"/> is the validation holdout, taken because no calibration
    /// data was named: the pass warns (MSH2506) that the ranges then fit the very data the result is
    /// validated on.
    /// </summary>
    public bool CalibrationFromHoldout { get; init; }

    /// <summary>How activation ranges are chosen from the calibration data (calibrate_method).</summary>
    public CalibrationMethod Method { get; init; } = CalibrationMethod.MinMax;

    /// <summary>The percentile of absolute values kept by <see cref="CalibrationMethod.Percentile"/> (ONNX Runtime's default 99.999).</summary>
    public double Percentile { get; init; } = 99.999;

    /// <summary>
    /// The activation type (activation_type). uint8 by default, unlike quantize_static since ONNX
    /// Runtime 1.16 (int8): ONNX Runtime's x64 kernels take uint8 activations, and it converts int8
    /// pairs only where a QuantizeLinear has one reader, so a quantized value read twice (a residual,
    /// a hard-swish) leaves its producer in float there; uint8 fuses on x64 and arm64 alike.
    /// </summary>
    public WeightType ActivationType { get; init; } = WeightType.UInt8;

    /// <summary>Symmetric activation ranges (extra_options ActivationSymmetric; off by default, as on CPU a zero point costs nothing).</summary>
    public bool SymmetricActivations { get; init; }

    /// <summary>One weight scale per output channel: Conv axis 0, Gemm axis 0 with transB (1 without), MatMul axis 1. Needs opset 13 (per tensor with MSH2202 when out of reach).</summary>
    public bool PerChannel { get; init; } = true;

    /// <summary>7-bit weights (reduce_range), for CPUs without VNNI whose u8*s8 products can saturate.</summary>
    public bool ReduceRange { get; init; }

    /// <summary>Operator types that may run in int8 (op_types_to_quantize); the default is <see cref="DefaultOpTypes"/>.</summary>
    public IReadOnlyList<string> OpTypes { get; init; } = DefaultOpTypes;

    /// <summary>Node names to leave in float (nodes_to_exclude).</summary>
    public IReadOnlyList<string> ExcludeNodes { get; init; } = [];

    /// <summary>Quantize only MatMuls whose B is a weight (extra_options MatMulConstBOnly; off for static quantization, so attention's activation MatMuls run in int8 too).</summary>
    public bool MatMulConstBOnly { get; init; }

    /// <summary>
    /// Fold a BatchNormalization that alone reads a quantized Conv's output into the Conv's weight and
    /// bias first (ONNX Runtime's tool gets the same from its pre-processing optimizer): a QDQ pair
    /// between them would stop both ONNX Runtime's Conv+BatchNormalization fusion and QLinearConv.
    /// </summary>
    public bool FoldBatchNormalization { get; init; } = true;

    /// <summary>
    /// Convolutions whose kernel reads fewer than 4 input channels per group (depthwise ones, image
    /// stems) keep float compute on int8 weights that ONNX Runtime rebuilds once when it loads the
    /// model: its int8 kernels for them ran 3-4x slower than its float NCHWc ones (ppocr-cls, digits-cnn),
    /// while pointwise and full convolutions run faster in int8.
    /// </summary>
    public bool ThinConvsFloat { get; init; } = true;

    /// <summary>The weight scheme: int8, symmetric (WeightSymmetric), 7-bit with <see cref="ReduceRange"/>.</summary>
    public QuantScheme WeightScheme => QuantScheme.Default(WeightType.Int8, symmetric: true, ReduceRange);

    /// <summary>The activation scheme: <see cref="ActivationType"/>, asymmetric unless <see cref="SymmetricActivations"/>; never reduced.</summary>
    public QuantScheme ActivationScheme => new(ActivationType, SymmetricActivations, false);
}
