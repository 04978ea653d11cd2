using ModelShrink.Core.Passes;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;

namespace ModelShrink.Core.Compression;

/// <summary>What a compression produced.</summary>
/// <param name="Input">The source model, as named by the user.</param>
/// <param name="Output">The written model.</param>
/// <param name="OriginalBytes">Source size on disk (model file plus its external data).</param>
/// <param name="CompressedBytes">Output size on disk (model file plus its external data).</param>
/// <param name="Passes">Each pass that ran, with its counters and time.</param>
/// <param name="Warnings">Warnings raised along the way.</param>
/// <param name="FloatWeightBytes">Bytes of float32 weights in the source (what quantization can shrink).</param>
public sealed record CompressionResult(
    string Input,
    string Output,
    long OriginalBytes,
    long CompressedBytes,
    IReadOnlyList<PassRecord> Passes,
    IReadOnlyList<Diagnostic> Warnings,
    long FloatWeightBytes = 0)
{
    /// <summary>Output size over input size.</summary>
    public double SizeRatio => OriginalBytes == 0 ? 1 : CompressedBytes / (double)OriginalBytes;
}
