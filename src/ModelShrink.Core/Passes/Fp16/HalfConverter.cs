using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using ModelShrink.Onnx.Tensors;
using Tensor = ModelShrink.Onnx.Tensors.Tensor;

namespace ModelShrink.Core.Passes.Fp16;

/// <summary>A tensor converted to float16 and how many of its values were clamped.</summary>
internal readonly record struct HalfResult(Tensor Tensor, long Clamped);

/// <summary>
/// float32 -> float16 tensor data, vectorized, with the reference converters' clamping: non-zero
/// values smaller in magnitude than the minimum positive value become ±that value (instead of
/// rounding to zero), finite values beyond the maximum finite value become ±that value (instead of
/// infinity). Zero, NaN and infinities are kept.
/// </summary>
internal sealed class HalfConverter(float minPositive, float maxFinite)
{
    // Chunks are checked for out-of-range values with SIMD; only a chunk holding one is fixed element by element.
    private const int ChunkElements = 16 * 1024;

    // Tensors at least this large are also split across threads.
    private const int ParallelElements = 1 << 20;

    private long clamped;

    /// <summary>How many values were clamped so far (any thread).</summary>
    public long Clamped => Interlocked.Read(ref clamped);

    /// <summary>Converts every tensor of <paramref name="tensors"/>, several at a time; results in the same order.</summary>
    public HalfResult[] ConvertAll(IReadOnlyList<Tensor> tensors, CancellationToken cancellation)
    {
        var results = new HalfResult[tensors.Count];
        var options = new ParallelOptions { CancellationToken = cancellation };

        // Largest first, so one big tensor does not start last and run alone.
        var order = Enumerable.Range(0, tensors.Count).OrderByDescending(i => tensors[i].ElementCount).ToArray();
        Parallel.ForEach(order, options, i => results[i] = Convert(tensors[i]));
        return results;
    }

    /// <summary>Converts one float32 tensor to float16 (same name and shape), counting the values clamped.</summary>
    public HalfResult Convert(Tensor tensor)
    {
        if (tensor.DataType != DataType.Float)
        {
            throw new ArgumentException($"tensor '{tensor.Name}' is {tensor.DataType.DisplayName()}, not float32");
        }

        var source = tensor.GetRawData();
        var count = checked((int)tensor.ElementCount);
        var output = new byte[count * 2];
        long tensorClamped = 0;
        if (count >= ParallelElements)
        {
            var chunks = (count + ChunkElements - 1) / ChunkElements;
            Parallel.For(0, chunks, c =>
            {
                var start = c * ChunkElements;
                var length = Math.Min(ChunkElements, count - start);
                Interlocked.Add(ref tensorClamped, ConvertChunk(Floats(source.Span).Slice(start, length), Halves(output).Slice(start, length)));
            });
        }
        else
        {
            var from = Floats(source.Span);
            var to = Halves(output);
            for (var start = 0; start < count; start += ChunkElements)
            {
                var length = Math.Min(ChunkElements, count - start);
                tensorClamped += ConvertChunk(from.Slice(start, length), to.Slice(start, length));
            }
        }

        Interlocked.Add(ref clamped, tensorClamped);
        return new HalfResult(Tensor.FromRawData(tensor.Name, DataType.Float16, tensor.Dims.ToArray(), output), tensorClamped);
    }

    private static ReadOnlySpan<float> Floats(ReadOnlySpan<byte> bytes) => MemoryMarshal.Cast<byte, float>(bytes);

    private static Span<Half> Halves(byte[] bytes) => MemoryMarshal.Cast<byte, Half>(bytes.AsSpan());

    // Returns how many values were clamped.
    private int ConvertChunk(ReadOnlySpan<float> source, Span<Half> destination)
    {
        if (!HasOutOfRange(source))
        {
            TensorPrimitives.ConvertToHalf(source, destination);
            return 0;
        }

        var buffer = ArrayPool<float>.Shared.Rent(source.Length);
        try
        {
            var fixedValues = buffer.AsSpan(0, source.Length);
            source.CopyTo(fixedValues);
            var changed = 0;
            for (var i = 0; i < fixedValues.Length; i++)
            {
                var value = fixedValues[i];
                var magnitude = MathF.Abs(value);
                if (magnitude > 0 && magnitude < minPositive)
                {
                    fixedValues[i] = MathF.CopySign(minPositive, value);
                    changed++;
                }
                else if (magnitude > maxFinite && float.IsFinite(value))
                {
                    fixedValues[i] = MathF.CopySign(maxFinite, value);
                    changed++;
                }
            }

            TensorPrimitives.ConvertToHalf(fixedValues, destination);
            return changed;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    // Any value with 0 < |v| < minPositive, or maxFinite < |v| < infinity (NaN compares false).
    private bool HasOutOfRange(ReadOnlySpan<float> values)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<float>.Count)
        {
            var low = new Vector<float>(minPositive);
            var high = new Vector<float>(maxFinite);
            var infinity = new Vector<float>(float.PositiveInfinity);
            var vectors = MemoryMarshal.Cast<float, Vector<float>>(values);
            foreach (var vector in vectors)
            {
                var magnitude = Vector.Abs(vector);
                var tiny = Vector.LessThan(magnitude, low) & Vector.GreaterThan(magnitude, Vector<float>.Zero);
                var huge = Vector.GreaterThan(magnitude, high) & Vector.LessThan(magnitude, infinity);
                if ((tiny | huge) != Vector<int>.Zero)
                {
                    return true;
                }
            }

            i = vectors.Length * Vector<float>.Count;
        }

        for (; i < values.Length; i++)
        {
            var magnitude = MathF.Abs(values[i]);
            if ((magnitude > 0 && magnitude < minPositive) || (magnitude > maxFinite && !float.IsPositiveInfinity(magnitude)))
            {
                return true;
            }
        }

        return false;
    }
}
