using System.Buffers;
using System.Runtime.InteropServices;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Quantization;

/// <summary>A read-only float view over little-endian float32 bytes (a weight's raw_data), without a copy.</summary>
public sealed class FloatMemory : MemoryManager<float>
{
    private readonly ReadOnlyMemory<byte> bytes;

    private FloatMemory(ReadOnlyMemory<byte> bytes) => this.bytes = bytes;

    /// <summary>The floats held in <paramref name="bytes"/>.</summary>
    public static ReadOnlyMemory<float> Over(ReadOnlyMemory<byte> bytes) =>
        bytes.Length % sizeof(float) == 0
            ? new FloatMemory(bytes).Memory
            : throw new ArgumentException($"{bytes.Length} bytes are not a whole number of floats", nameof(bytes));

    /// <summary>The float32 values of a float tensor, viewed in place when the data is inline.</summary>
    public static ReadOnlyMemory<float> Of(Tensor tensor) =>
        tensor.DataType == DataType.Float
            ? Over(tensor.GetRawData())
            : throw new ArgumentException($"tensor '{tensor.Name}' is {tensor.DataType.DisplayName()}, not float32", nameof(tensor));

    /// <inheritdoc />
    public override Span<float> GetSpan() =>
        MemoryMarshal.Cast<byte, float>(MemoryMarshal.AsMemory(bytes).Span);

    /// <inheritdoc />
    public override MemoryHandle Pin(int elementIndex = 0) =>
        throw new NotSupportedException("a float view over tensor bytes cannot be pinned");

    /// <inheritdoc />
    public override void Unpin()
    {
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
    }
}
