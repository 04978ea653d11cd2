using System.Numerics;
using System.Runtime.InteropServices;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Passes.Pruning;

/// <summary>
/// A writable copy of a float weight's raw bytes, with a sort key per element: the magnitude's
/// float32 bit pattern (sign cleared), which orders like the magnitude. float32 weights are keyed
/// in place (no second copy); other float types carry a key array.
/// </summary>
internal sealed class WeightBuffer
{
    private readonly byte[] raw;
    private readonly uint[]? keys;
    private readonly int elementSize;

    public WeightBuffer(Tensor tensor)
    {
        Source = tensor;
        // Every byte is overwritten by the copy, so the array need not be zeroed first (400 MB: ~0.1 s).
        var data = tensor.GetRawData().Span;
        raw = GC.AllocateUninitializedArray<byte>(data.Length);
        data.CopyTo(raw);
        elementSize = tensor.DataType.BitWidth() / 8;
        Length = checked((int)tensor.ElementCount);
        if (tensor.DataType != DataType.Float)
        {
            keys = Array.ConvertAll(tensor.ToFloatArray(), v => BitConverter.SingleToUInt32Bits(v) & 0x7FFF_FFFFu);
        }
    }

    /// <summary>The tensor it was copied from.</summary>
    public Tensor Source { get; }

    /// <summary>Number of elements.</summary>
    public int Length { get; }

    /// <summary>Whether <see cref="Bits"/> views the float32 data itself (so zeroing can be vectorized over it).</summary>
    public bool IsFloat32 => keys is null;

    /// <summary>Per element: the magnitude key, or for float32 the raw bits (mask the sign with 0x7FFFFFFF).</summary>
    public ReadOnlySpan<uint> Bits => keys ?? MemoryMarshal.Cast<byte, uint>(raw.AsSpan());

    /// <summary>The float32 data as bits, writable (float32 only).</summary>
    public Span<uint> Float32Bits => IsFloat32 ? MemoryMarshal.Cast<byte, uint>(raw.AsSpan()) : throw new InvalidOperationException("not float32");

    /// <summary>The magnitude key of element <paramref name="i"/>.</summary>
    public uint Key(int i) => Bits[i] & 0x7FFF_FFFFu;

    /// <summary>Makes element <paramref name="i"/> zero (+0).</summary>
    public void Zero(int i)
    {
        raw.AsSpan(i * elementSize, elementSize).Clear();
        if (keys is not null)
        {
            keys[i] = 0;
        }
    }

    /// <summary>Elements equal to zero (either sign), counted a vector at a time in parallel chunks.</summary>
    public long CountZeros()
    {
        const int chunk = 1 << 20;
        long total = 0;
        Parallel.For(0, (Length + chunk - 1) / chunk, () => 0L, (c, _, local) =>
        {
            var bits = Bits.Slice(c * chunk, Math.Min(chunk, Length - c * chunk));
            var mask = new Vector<uint>(0x7FFF_FFFFu);
            var count = Vector<uint>.Count;
            var i = 0;
            for (; i + count <= bits.Length; i += count)
            {
                // Equals gives all ones (uint.MaxValue) per zero lane; subtracting counts them.
                local -= (long)Vector.Sum(Vector.Equals(new Vector<uint>(bits.Slice(i, count)) & mask, Vector<uint>.Zero) & Vector<uint>.One);
            }

            for (; i < bits.Length; i++)
            {
                local -= (bits[i] & 0x7FFF_FFFFu) == 0 ? 1 : 0;
            }

            return local;
        }, local => Interlocked.Add(ref total, -local));
        return total;
    }

    /// <summary>The pruned data as a tensor of the source's name, type and shape (no copy).</summary>
    public Tensor ToTensor() => Tensor.FromRawData(Source.Name, Source.DataType, Source.Dims.ToArray(), raw);
}
