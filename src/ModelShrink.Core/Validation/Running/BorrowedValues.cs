using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace ModelShrink.Core.Validation.Running;

/// <summary>
/// The float values of one tensor, viewed where they lie (an ONNX Runtime output's buffer or a holdout
/// batch's bytes) instead of copied: valid only while the run that handed it out lasts.
/// </summary>
public sealed class BorrowedValues
{
    private readonly OrtValue? output;
    private readonly ReadOnlyMemory<byte> bytes;

    /// <summary>An ONNX Runtime output of element type float.</summary>
    public BorrowedValues(string name, OrtValue output)
    {
        Name = name;
        this.output = output;
    }

    /// <summary>Float32 values as little-endian bytes (a holdout tensor's raw data).</summary>
    public BorrowedValues(string name, ReadOnlyMemory<byte> bytes)
    {
        Name = name;
        this.bytes = bytes;
    }

    /// <summary>The value's name.</summary>
    public string Name { get; }

    /// <summary>The values.</summary>
    public ReadOnlySpan<float> Values => output is not null ? output.GetTensorDataAsSpan<float>() : MemoryMarshal.Cast<byte, float>(bytes.Span);
}
