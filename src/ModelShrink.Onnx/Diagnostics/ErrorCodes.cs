namespace ModelShrink.Diagnostics;

/// <summary>
/// Every diagnostic code the engine emits. The README's error table documents each one; codes are
/// never reused or renumbered. MSH1xxx: reading and writing models and arguments; MSH2xxx: the
/// engine's passes.
/// </summary>
public static class ErrorCodes
{
    /// <summary>An unexpected internal failure (a bug): the message names the exception type.</summary>
    public const string Internal = "MSH1000";

    /// <summary>The model file does not exist or cannot be opened.</summary>
    public const string ModelNotFound = "MSH1001";

    /// <summary>The model file is empty.</summary>
    public const string ModelEmpty = "MSH1002";

    /// <summary>The file is not an ONNX model (protobuf that does not parse, or no graph).</summary>
    public const string ModelNotOnnx = "MSH1003";

    /// <summary>The file ends inside a message, or a length field points past the end of the file.</summary>
    public const string ModelTruncated = "MSH1004";

    /// <summary>Messages or subgraphs are nested deeper than the reader allows.</summary>
    public const string ModelTooDeep = "MSH1005";

    /// <summary>A tensor's external-data file is missing.</summary>
    public const string ExternalDataMissing = "MSH1006";

    /// <summary>A tensor's external-data location leaves the model's folder (absolute, '..', link).</summary>
    public const string ExternalDataUnsafePath = "MSH1007";

    /// <summary>A tensor's external-data offset/length lies outside its file, or its entries are malformed.</summary>
    public const string ExternalDataRange = "MSH1008";

    /// <summary>The graph is malformed: an undefined input, a value produced twice, or a cycle.</summary>
    public const string InvalidGraph = "MSH1009";

    /// <summary>A tensor's data does not match its shape and data type.</summary>
    public const string InvalidTensor = "MSH1010";

    /// <summary>A tensor's data type is unknown or not supported by the requested operation.</summary>
    public const string UnsupportedDataType = "MSH1011";

    /// <summary>The model would exceed protobuf's 2 GB limit; external data is required.</summary>
    public const string ModelTooLarge = "MSH1012";

    /// <summary>An output file could not be written.</summary>
    public const string WriteFailed = "MSH1013";

    /// <summary>A command-line argument or option value is invalid.</summary>
    public const string InvalidArgument = "MSH1014";

    /// <summary>A pass failed unexpectedly; the message names the pass and those run before it.</summary>
    public const string PassFailed = "MSH2000";

    /// <summary>The model cannot be processed in the requested mode (an op or opset the pass cannot handle).</summary>
    public const string UnsupportedModel = "MSH2001";

    /// <summary>Quantization: a weight is also a graph input, so a caller may replace it at run time; it stays float.</summary>
    public const string QuantWeightIsGraphInput = "MSH2200";

    /// <summary>Quantization: a weight cannot be quantized (not float32, NaN or infinite values, unexpected shape); it stays float.</summary>
    public const string QuantWeightSkipped = "MSH2201";

    /// <summary>Quantization: per-channel DequantizeLinear needs opset 13 and the model's opset cannot be raised unchanged; per-tensor was used.</summary>
    public const string QuantPerTensorFallback = "MSH2202";

    /// <summary>Quantization: the model's opset is below 10 and cannot be raised unchanged; com.microsoft.DequantizeLinear (ONNX Runtime only) was used.</summary>
    public const string QuantContribDequantize = "MSH2203";

    /// <summary>Quantization: an option value is invalid (unknown operator type, block size, format).</summary>
    public const string QuantInvalidOption = "MSH2204";

    /// <summary>Quantization: a node named in the exclude or include list does not exist in the model.</summary>
    public const string QuantNodeNotFound = "MSH2205";

    /// <summary>int4: the blocked DequantizeLinear form needs opset 21 and the model's opset cannot be raised unchanged.</summary>
    public const string Int4OpsetTooLow = "MSH2206";

    /// <summary>Quantization: nothing in the model could be quantized; the output equals the input.</summary>
    public const string QuantNothingQuantized = "MSH2207";
}
