using System.Buffers;
using System.Numerics.Tensors;

namespace ModelShrink.Core.Passes.Fp16;

/// <summary>
/// How much a float32 tensor changes when stored as float16, accumulated batch by batch in constant
/// memory: the relative RMS error ‖half(x) − x‖ / ‖x‖ (infinite when a finite value overflows) and
/// the largest magnitude seen. Plain rounding gives at most 2⁻¹¹ (about 0.05%) per value; more means
/// values overflow or fall into float16's subnormals (below 6.1e-5), where precision runs out.
/// </summary>
public sealed class HalfError
{
    private const int ChunkElements = 16 * 1024;

    private double errorSquares;
    private double valueSquares;

    /// <summary>The largest finite magnitude seen.</summary>
    public float MaxMagnitude { get; private set; }

    /// <summary>Whether some finite value lies beyond float16's largest (65504): it would become infinity.</summary>
    public bool Overflows { get; private set; }

    /// <summary>‖half(x) − x‖ / ‖x‖ over everything added (0 for all-zero data, infinity when a value overflows).</summary>
    public double Relative => Overflows ? double.PositiveInfinity : valueSquares > 0 ? Math.Sqrt(errorSquares / valueSquares) : 0;

    /// <summary>Adds values (NaN and infinities are skipped: float16 keeps them as they are).</summary>
    public void Add(ReadOnlySpan<float> values)
    {
        var halves = ArrayPool<Half>.Shared.Rent(Math.Min(values.Length, ChunkElements));
        var back = ArrayPool<float>.Shared.Rent(Math.Min(values.Length, ChunkElements));
        try
        {
            for (var start = 0; start < values.Length; start += ChunkElements)
            {
                var chunk = values.Slice(start, Math.Min(ChunkElements, values.Length - start));
                var roundTrip = back.AsSpan(0, chunk.Length);
                TensorPrimitives.ConvertToHalf(chunk, halves.AsSpan(0, chunk.Length));
                TensorPrimitives.ConvertToSingle(halves.AsSpan(0, chunk.Length), roundTrip);
                if (!float.IsFinite(TensorPrimitives.Sum(chunk)) || !float.IsFinite(TensorPrimitives.Sum(roundTrip)))
                {
                    AddSlowly(chunk);
                    continue;
                }

                MaxMagnitude = Math.Max(MaxMagnitude, Math.Abs(TensorPrimitives.MaxMagnitude(chunk)));
                valueSquares += TensorPrimitives.SumOfSquares(chunk);
                TensorPrimitives.Subtract(chunk, roundTrip, roundTrip);
                errorSquares += TensorPrimitives.SumOfSquares(roundTrip);
            }
        }
        finally
        {
            ArrayPool<Half>.Shared.Return(halves);
            ArrayPool<float>.Shared.Return(back);
        }
    }

    // A chunk with NaN, infinity or a value float16 cannot hold: element by element, in double.
    private void AddSlowly(ReadOnlySpan<float> chunk)
    {
        foreach (var value in chunk)
        {
            if (!float.IsFinite(value))
            {
                continue;
            }

            var half = (Half)value;
            if (Half.IsInfinity(half))
            {
                Overflows = true;
            }

            MaxMagnitude = Math.Max(MaxMagnitude, Math.Abs(value));
            var error = (double)value - (double)(float)half;
            valueSquares += (double)value * value;
            errorSquares += Half.IsInfinity(half) ? 0 : error * error;
        }
    }
}
