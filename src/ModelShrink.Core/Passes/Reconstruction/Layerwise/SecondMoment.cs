using System.Buffers;
using System.Numerics.Tensors;

namespace ModelShrink.Core.Passes.Reconstruction.Layerwise;

/// <summary>
/// A layer input's second-moment matrix H = XᵀX, summed over every input row seen (a row is one
/// vector the layer multiplies by its weight: a token for MatMul, an im2col patch for Conv). Memory
/// is width² doubles whatever the number of rows. Rows arrive in chunks that are transposed so each
/// entry is one contiguous, vectorized dot product; rows of H are filled in parallel.
/// </summary>
internal sealed class SecondMoment(int width)
{
    // Rows per transposed chunk: 256 floats a column keeps a chunk of a 1024-wide input within 1 MB.
    private const int ChunkRows = 256;

    /// <summary>The input width (columns of X).</summary>
    public int Width { get; } = width;

    /// <summary>H's lower triangle, row-major [Width, Width] (the upper triangle stays zero).</summary>
    public double[] Lower { get; } = new double[(long)width * width];

    /// <summary>Rows accumulated so far.</summary>
    public long Rows { get; private set; }

    /// <summary>Adds <paramref name="count"/> rows of <see cref="Width"/> values (row-major).</summary>
    public void Add(ReadOnlySpan<float> rows, int count)
    {
        var n = Width;
        var transposed = ArrayPool<float>.Shared.Rent(n * ChunkRows);
        try
        {
            for (var start = 0; start < count; start += ChunkRows)
            {
                var chunk = Math.Min(ChunkRows, count - start);
                for (var r = 0; r < chunk; r++)
                {
                    var row = rows.Slice((start + r) * n, n);
                    for (var c = 0; c < n; c++)
                    {
                        transposed[c * chunk + r] = row[c];
                    }
                }

                AddTransposed(transposed, chunk);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(transposed);
        }

        Rows += count;
    }

    // H[i, j] += dot(column i, column j) for j <= i; each H row belongs to one task.
    private void AddTransposed(float[] columns, int chunk)
    {
        var n = Width;
        var lower = Lower;
        void Row(int i)
        {
            var ci = columns.AsSpan(i * chunk, chunk);
            var target = lower.AsSpan(i * n, i + 1);
            for (var j = 0; j <= i; j++)
            {
                target[j] += TensorPrimitives.Dot(ci, columns.AsSpan(j * chunk, chunk));
            }
        }

        if ((long)n * n * chunk < 1 << 20)
        {
            for (var i = 0; i < n; i++)
            {
                Row(i);
            }
        }
        else
        {
            Parallel.For(0, n, Row);
        }
    }
}
