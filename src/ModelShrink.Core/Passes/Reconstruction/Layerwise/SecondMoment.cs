using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ModelShrink.Core.Passes.Reconstruction.Layerwise;

/// <summary>
/// A layer input's second moment matrix H = XᵀX, summed over every input row seen (a row is one
/// vector the layer multiplies by its weight: a token for MatMul, an im2col patch for Conv). Memory
/// is width² doubles whatever the number of rows. Rows arrive in chunks; each chunk's products are
/// summed in float (as many terms as the chunk has rows) and added to H in double.
/// <para>
/// A product per entry as a dot of two columns loads two values per multiply-add. Instead, blocks of
/// 4 rows × 16 columns of H are held in registers while the chunk's rows go by: each step loads the
/// 16 columns' values once and broadcasts the 4 rows' values, 8 vector multiply-adds for 6 loads.
/// The chunk is first copied into panels of 16 columns (each panel's rows one after another) so
/// those loads are contiguous. Blocks of rows of H run in parallel.
/// </para>
/// </summary>
internal sealed class SecondMoment(int width)
{
    // Rows per chunk: each entry sums at most this many products in float before they go to H in
    // double; a 1024-wide chunk packs into 1 MB.
    private const int ChunkRows = 256;

    // Columns per panel: two vectors of floats (8 lanes on AVX2 hardware).
    private static readonly int PanelColumns = 2 * Vector<float>.Count;

    /// <summary>The input width (columns of X).</summary>
    public int Width { get; } = width;

    private double[]? lower = new double[(long)width * width];
    private string? spilledTo;

    /// <summary>
    /// H's lower triangle, row-major [Width, Width] (the upper triangle stays zero). Once spilled, each
    /// read loads a fresh copy from the file and keeps none.
    /// </summary>
    public double[] Lower => lower ?? Load();

    /// <summary>Whether H lives in a file rather than in memory.</summary>
    public bool IsSpilled => spilledTo is not null;

    /// <summary>Moves H to a file in <paramref name="folder"/> and frees its memory; no row may be added after.</summary>
    public void SpillTo(string folder)
    {
        if (lower is null)
        {
            return;
        }

        spilledTo = Path.Combine(folder, $"h-{Guid.NewGuid():N}.bin");
        using var file = new FileStream(spilledTo, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        for (long start = 0; start < lower.LongLength; start += SpillChunk)
        {
            file.Write(MemoryMarshal.AsBytes(lower.AsSpan((int)start, (int)Math.Min(SpillChunk, lower.LongLength - start))));
        }

        lower = null;
    }

    // Doubles per write or read: 8 MB, so a byte span never passes int.MaxValue (a 16384-wide H is 2 GB).
    private const int SpillChunk = 1 << 20;

    private double[] Load()
    {
        var values = new double[(long)Width * Width];
        using var file = new FileStream(spilledTo!, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        for (long start = 0; start < values.LongLength; start += SpillChunk)
        {
            file.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan((int)start, (int)Math.Min(SpillChunk, values.LongLength - start))));
        }

        return values;
    }

    /// <summary>Rows accumulated so far.</summary>
    public long Rows { get; private set; }

    /// <summary>
    /// Σ over the rows of each column (Xᵀ1, kept in memory even when H is spilled): with <see cref="Rows"/>
    /// it extends H to the layer's inputs and a constant 1, the input a bias multiplies.
    /// </summary>
    public double[] Sums { get; } = new double[width];

    /// <summary>Adds <paramref name="count"/> rows of <see cref="Width"/> values (row-major).</summary>
    public void Add(ReadOnlySpan<float> rows, int count)
    {
        if (lower is null)
        {
            throw new InvalidOperationException("rows cannot be added to a second moment moved to a file");
        }

        var n = Width;
        var panels = (n + PanelColumns - 1) / PanelColumns;
        var packed = ArrayPool<float>.Shared.Rent(panels * ChunkRows * PanelColumns);
        try
        {
            for (var start = 0; start < count; start += ChunkRows)
            {
                var chunk = Math.Min(ChunkRows, count - start);

                // Panel q holds columns [16q, 16q + 16) of the chunk's rows, zero past the last column.
                for (var r = 0; r < chunk; r++)
                {
                    var row = rows.Slice((start + r) * n, n);
                    for (var q = 0; q < panels; q++)
                    {
                        var target = packed.AsSpan((q * chunk + r) * PanelColumns, PanelColumns);
                        var columns = Math.Min(PanelColumns, n - q * PanelColumns);
                        row.Slice(q * PanelColumns, columns).CopyTo(target);
                        target[columns..].Clear();
                    }
                }

                AddPacked(packed, chunk);
                AddSums(rows.Slice(start * n, chunk * n), chunk);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packed);
        }

        Rows += count;
    }

    // Each column's sum over the chunk, in float (as H's products), then into Sums in double.
    private void AddSums(ReadOnlySpan<float> chunk, int count)
    {
        var n = Width;
        var sums = ArrayPool<float>.Shared.Rent(n);
        var partial = sums.AsSpan(0, n);
        partial.Clear();
        for (var r = 0; r < count; r++)
        {
            TensorPrimitives.Add(partial, chunk.Slice(r * n, n), partial);
        }

        for (var j = 0; j < n; j++)
        {
            Sums[j] += partial[j];
        }

        ArrayPool<float>.Shared.Return(sums);
    }

    /// <summary>Widths up to which <see cref="AddColumns"/> takes one dot per entry of H rather than packed panels.</summary>
    public const int NarrowWidth = 32;

    /// <summary>
    /// Adds <paramref name="count"/> rows given column by column ([<see cref="Width"/>, count], each
    /// column's values one after another), as a Conv's patches are cheapest to build. Up to
    /// <see cref="NarrowWidth"/> columns (depthwise Convs: 9 or 25) H[i, j] += column i · column j, one
    /// vectorized dot per entry, since the 16-column blocks of the panel kernel would stay mostly
    /// empty; wider inputs are packed into panels straight from the columns.
    /// </summary>
    public void AddColumns(ReadOnlySpan<float> columns, int count)
    {
        if (lower is null)
        {
            throw new InvalidOperationException("rows cannot be added to a second moment moved to a file");
        }

        var n = Width;
        for (var i = 0; i < n; i++)
        {
            Sums[i] += TensorPrimitives.Sum(columns.Slice(i * count, count));
        }

        if (n <= NarrowWidth)
        {
            for (var i = 0; i < n; i++)
            {
                var a = columns.Slice(i * count, count);
                var row = lower.AsSpan(i * n, i + 1);
                for (var j = 0; j <= i; j++)
                {
                    row[j] += TensorPrimitives.Dot(a, columns.Slice(j * count, count));
                }
            }

            Rows += count;
            return;
        }

        var panels = (n + PanelColumns - 1) / PanelColumns;
        var packed = ArrayPool<float>.Shared.Rent(panels * ChunkRows * PanelColumns);
        try
        {
            for (var start = 0; start < count; start += ChunkRows)
            {
                var chunk = Math.Min(ChunkRows, count - start);
                for (var q = 0; q < panels; q++)
                {
                    var panel = packed.AsSpan(q * chunk * PanelColumns, chunk * PanelColumns);
                    for (var k = 0; k < PanelColumns; k++)
                    {
                        var column = q * PanelColumns + k;
                        if (column >= n)
                        {
                            for (var r = 0; r < chunk; r++)
                            {
                                panel[r * PanelColumns + k] = 0;
                            }

                            continue;
                        }

                        var source = columns.Slice(column * count + start, chunk);
                        for (var r = 0; r < chunk; r++)
                        {
                            panel[r * PanelColumns + k] = source[r];
                        }
                    }
                }

                AddPacked(packed, chunk);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packed);
        }

        Rows += count;
    }

    // H[i, j] += Σ_r X[r, i]·X[r, j] for j <= i, 4 rows of H (i0..i0+3, one task) at a time.
    private void AddPacked(float[] packed, int chunk)
    {
        var n = Width;
        var groups = (n + 3) / 4;
        void Group(int group) => AddGroup(packed, chunk, group * 4);
        if ((long)n * n * chunk < 1 << 20)
        {
            for (var g = 0; g < groups; g++)
            {
                Group(g);
            }
        }
        else
        {
            Parallel.For(0, groups, Group);
        }
    }

    private void AddGroup(float[] packed, int chunk, int i0)
    {
        var n = Width;
        var lanes = Vector<float>.Count;
        var panel = PanelColumns;
        ref var p = ref MemoryMarshal.GetArrayDataReference(packed);

        // Rows i0..i0+3 lie in one panel (panels are a multiple of 4 wide); past n they are zeros.
        ref var rowsOfI = ref Unsafe.Add(ref p, i0 / panel * chunk * panel + i0 % panel);
        var lastPanel = Math.Min(n - 1, i0 + 3) / panel;
        for (var q = 0; q <= lastPanel; q++)
        {
            ref var columns = ref Unsafe.Add(ref p, q * chunk * panel);
            Vector<float> a0 = default, b0 = default, a1 = default, b1 = default;
            Vector<float> a2 = default, b2 = default, a3 = default, b3 = default;
            for (var r = 0; r < chunk; r++)
            {
                var at = (nuint)(r * panel);
                var x = Vector.LoadUnsafe(ref columns, at);
                var y = Vector.LoadUnsafe(ref columns, at + (nuint)lanes);
                ref var xi = ref Unsafe.Add(ref rowsOfI, r * panel);
                var e0 = new Vector<float>(xi);
                var e1 = new Vector<float>(Unsafe.Add(ref xi, 1));
                var e2 = new Vector<float>(Unsafe.Add(ref xi, 2));
                var e3 = new Vector<float>(Unsafe.Add(ref xi, 3));
                a0 = Vector.MultiplyAddEstimate(e0, x, a0);
                b0 = Vector.MultiplyAddEstimate(e0, y, b0);
                a1 = Vector.MultiplyAddEstimate(e1, x, a1);
                b1 = Vector.MultiplyAddEstimate(e1, y, b1);
                a2 = Vector.MultiplyAddEstimate(e2, x, a2);
                b2 = Vector.MultiplyAddEstimate(e2, y, b2);
                a3 = Vector.MultiplyAddEstimate(e3, x, a3);
                b3 = Vector.MultiplyAddEstimate(e3, y, b3);
            }

            var j = q * panel;
            Flush(i0, j, a0, b0);
            Flush(i0 + 1, j, a1, b1);
            Flush(i0 + 2, j, a2, b2);
            Flush(i0 + 3, j, a3, b3);
        }
    }

    // H[i, j..j+16) += the sums, only where j <= i (the lower triangle; i < n implies j < n there).
    private void Flush(int i, int j, Vector<float> low, Vector<float> high)
    {
        var n = Width;
        if (i >= n)
        {
            return;
        }

        var lanes = Vector<float>.Count;
        var row = Lower.AsSpan(i * n + j, Math.Min(PanelColumns, i + 1 - j));
        if (row.Length == PanelColumns)
        {
            ref var h = ref MemoryMarshal.GetReference(row);
            var doubles = Vector<double>.Count;
            Vector.Widen(low, out var l0, out var l1);
            Vector.Widen(high, out var h0, out var h1);
            (Vector.LoadUnsafe(ref h) + l0).StoreUnsafe(ref h);
            (Vector.LoadUnsafe(ref h, (nuint)doubles) + l1).StoreUnsafe(ref h, (nuint)doubles);
            (Vector.LoadUnsafe(ref h, (nuint)lanes) + h0).StoreUnsafe(ref h, (nuint)lanes);
            (Vector.LoadUnsafe(ref h, (nuint)(lanes + doubles)) + h1).StoreUnsafe(ref h, (nuint)(lanes + doubles));
            return;
        }

        for (var l = 0; l < row.Length; l++)
        {
            row[l] += l < lanes ? low[l] : high[l - lanes];
        }
    }
}
