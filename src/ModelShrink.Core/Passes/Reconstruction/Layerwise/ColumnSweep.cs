using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ModelShrink.Core.Passes.Reconstruction.Layerwise;

/// <summary>
/// What a sweep puts in place of the value at <paramref name="column"/> of <paramref name="row"/>: its
/// grid value, zero, or itself. <paramref name="values"/> is the row; its columns in the sweep's
/// current block (see <see cref="ColumnSweep.Run"/>) carry every earlier correction, the columns
/// after the block get theirs when the block ends.
/// </summary>
internal delegate float ColumnDecision(int row, int column, Span<float> values);

/// <summary>
/// The loop GPTQ and SparseGPT share (Frantar et al., 2022 and 2023): the weight is seen as
/// W [rows = outputs, columns = inputs]; column by column, each row's value is replaced by a decision
/// (rounded, zeroed) and the error (w - q) / U[c,c] is spread over the row's later columns along row
/// c of U (<see cref="InverseFactor"/>), which keeps W·x closest to the original on the data H was
/// measured on. Rows are independent, so tiles of rows run in parallel.
/// <para>
/// Spreading each error at once over all later columns is an axpy per weight: two loads and a store
/// for each multiply-add, bound by cache bandwidth. As in the GPTQ paper's "lazy batch" update, the
/// errors are applied at once only inside a block of columns; when the block is done, the columns
/// after it receive the block's errors all together, W[:, after] += E·U[block, after], a small matrix
/// product whose W values stay in registers over the block's rows of U. Every W value still receives
/// the same products, added one at a time in the same order (column order), as unfused multiplies
/// and adds like the axpy's: the results are bit for bit those of the plain sweep.
/// </para>
/// </summary>
internal static class ColumnSweep
{
    /// <summary>Columns per block of the lazy update.</summary>
    public const int DefaultBlockColumns = 128;

    // Rows per parallel tile.
    private const int TileRows = 32;

    // Columns of the update that share one packed panel of U (block × 256 floats: 128 KB, in L2).
    private const int PanelColumns = 256;

    /// <summary>
    /// Sweeps columns [<paramref name="from"/>, <paramref name="to"/>) of <paramref name="w"/> (row-major [rows, cols]),
    /// in blocks of <paramref name="blockColumns"/> columns from <paramref name="from"/> on (a decision that reads
    /// columns ahead of its own needs them inside its block).
    /// </summary>
    public static void Run(float[] w, int rows, int cols, float[] u, int from, int to, ColumnDecision decide, CancellationToken cancellation,
        int blockColumns = DefaultBlockColumns)
    {
        var tiles = (rows + TileRows - 1) / TileRows;
        var parallel = (long)rows * cols * (to - from) >= 1 << 18;
        var block = Math.Min(blockColumns, to - from);
        var chunk = 2 * Vector<float>.Count;
        var negated = ArrayPool<float>.Shared.Rent(rows * block);
        var packed = ArrayPool<float>.Shared.Rent(block * Math.Max(0, (cols - from - block) / chunk * chunk) + 1);
        try
        {
            for (var start = from; start < to; start += block)
            {
                var end = Math.Min(to, start + block);
                var after = (cols - end) / chunk * chunk;
                Pack(u, cols, start, end, after, packed);
                var blockStart = start;
                void Sweep(int tile)
                {
                    var first = tile * TileRows;
                    var last = Math.Min(rows, first + TileRows);
                    SweepBlock(w, cols, first, last, u, blockStart, end, decide, negated, block);
                    UpdateAfter(w, cols, first, last, u, blockStart, end, negated, block, packed, after);
                }

                if (parallel)
                {
                    Parallel.For(0, tiles, new ParallelOptions { CancellationToken = cancellation }, Sweep);
                }
                else
                {
                    for (var tile = 0; tile < tiles; tile++)
                    {
                        Sweep(tile);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(negated);
            ArrayPool<float>.Shared.Return(packed);
        }
    }

    // Columns [start, end) of rows [first, last), each error spread at once within the block; the
    // negated errors are kept, row r's at negated[r * stride + c - start], for the update after it.
    private static void SweepBlock(float[] w, int cols, int first, int last, float[] u, int start, int end, ColumnDecision decide, float[] negated, int stride)
    {
        for (var c = start; c < end; c++)
        {
            var pivot = u[c * cols + c];
            var spread = new ReadOnlySpan<float>(u, c * cols + c + 1, end - c - 1);
            for (var r = first; r < last; r++)
            {
                var row = w.AsSpan(r * cols, cols);
                var value = row[c];
                var target = decide(r, c, row);
                row[c] = target;
                var error = (value - target) / pivot;
                negated[r * stride + c - start] = -error;
                if (error != 0)
                {
                    var rest = row[(c + 1)..end];
                    TensorPrimitives.MultiplyAdd(spread, -error, rest, rest);
                }
            }
        }
    }

    // U[start..end, end..end+after) as consecutive chunks of two vectors' columns, each chunk's rows
    // one after another: the update then reads U contiguously (the rows of U are a whole row of W apart).
    private static void Pack(float[] u, int cols, int start, int end, int after, float[] packed)
    {
        var chunk = 2 * Vector<float>.Count;
        var height = end - start;
        for (var k = 0; k < height; k++)
        {
            var row = u.AsSpan((start + k) * cols + end, after);
            for (var q = 0; q < after / chunk; q++)
            {
                row.Slice(q * chunk, chunk).CopyTo(packed.AsSpan((q * height + k) * chunk, chunk));
            }
        }
    }

    // W[r, j] += Σ_k U[k, j] · negated[r, k - start] for rows [first, last), columns j >= end and k in
    // [start, end) in increasing order: 4 rows × 2 vectors of columns at a time, held in registers over k,
    // panel by panel of U so the panel stays in cache for all the rows. (A zero error adds U·(-0)
    // where the axpy skipped it: the same value, at most a zero's sign differs.)
    private static void UpdateAfter(float[] w, int cols, int first, int last, float[] u, int start, int end, float[] negated, int stride, float[] packed, int after)
    {
        var lanes = Vector<float>.Count;
        var chunk = 2 * lanes;
        var height = end - start;
        ref var wRef = ref MemoryMarshal.GetArrayDataReference(w);
        ref var pRef = ref MemoryMarshal.GetArrayDataReference(packed);
        ref var eRef = ref MemoryMarshal.GetArrayDataReference(negated);
        for (var panel = 0; panel < after; panel += PanelColumns)
        {
            var panelEnd = Math.Min(after, panel + PanelColumns);
            var r = first;
            for (; r + 4 <= last; r += 4)
            {
                ref var e = ref Unsafe.Add(ref eRef, r * stride);
                for (var j = panel; j < panelEnd; j += chunk)
                {
                    ref var p = ref Unsafe.Add(ref pRef, j * height);
                    var at0 = (nuint)(r * cols + end + j);
                    var at1 = at0 + (nuint)cols;
                    var at2 = at1 + (nuint)cols;
                    var at3 = at2 + (nuint)cols;
                    var a0 = Vector.LoadUnsafe(ref wRef, at0);
                    var b0 = Vector.LoadUnsafe(ref wRef, at0 + (nuint)lanes);
                    var a1 = Vector.LoadUnsafe(ref wRef, at1);
                    var b1 = Vector.LoadUnsafe(ref wRef, at1 + (nuint)lanes);
                    var a2 = Vector.LoadUnsafe(ref wRef, at2);
                    var b2 = Vector.LoadUnsafe(ref wRef, at2 + (nuint)lanes);
                    var a3 = Vector.LoadUnsafe(ref wRef, at3);
                    var b3 = Vector.LoadUnsafe(ref wRef, at3 + (nuint)lanes);
                    for (var k = 0; k < height; k++)
                    {
                        var ua = Vector.LoadUnsafe(ref p, (nuint)(k * chunk));
                        var ub = Vector.LoadUnsafe(ref p, (nuint)(k * chunk + lanes));
                        var e0 = new Vector<float>(Unsafe.Add(ref e, k));
                        var e1 = new Vector<float>(Unsafe.Add(ref e, stride + k));
                        var e2 = new Vector<float>(Unsafe.Add(ref e, 2 * stride + k));
                        var e3 = new Vector<float>(Unsafe.Add(ref e, 3 * stride + k));
                        a0 += ua * e0;
                        b0 += ub * e0;
                        a1 += ua * e1;
                        b1 += ub * e1;
                        a2 += ua * e2;
                        b2 += ub * e2;
                        a3 += ua * e3;
                        b3 += ub * e3;
                    }

                    a0.StoreUnsafe(ref wRef, at0);
                    b0.StoreUnsafe(ref wRef, at0 + (nuint)lanes);
                    a1.StoreUnsafe(ref wRef, at1);
                    b1.StoreUnsafe(ref wRef, at1 + (nuint)lanes);
                    a2.StoreUnsafe(ref wRef, at2);
                    b2.StoreUnsafe(ref wRef, at2 + (nuint)lanes);
                    a3.StoreUnsafe(ref wRef, at3);
                    b3.StoreUnsafe(ref wRef, at3 + (nuint)lanes);
                }
            }

            for (; r < last; r++)
            {
                ref var e = ref Unsafe.Add(ref eRef, r * stride);
                for (var j = panel; j < panelEnd; j += chunk)
                {
                    ref var p = ref Unsafe.Add(ref pRef, j * height);
                    var at0 = (nuint)(r * cols + end + j);
                    var a0 = Vector.LoadUnsafe(ref wRef, at0);
                    var b0 = Vector.LoadUnsafe(ref wRef, at0 + (nuint)lanes);
                    for (var k = 0; k < height; k++)
                    {
                        var e0 = new Vector<float>(Unsafe.Add(ref e, k));
                        a0 += Vector.LoadUnsafe(ref p, (nuint)(k * chunk)) * e0;
                        b0 += Vector.LoadUnsafe(ref p, (nuint)(k * chunk + lanes)) * e0;
                    }

                    a0.StoreUnsafe(ref wRef, at0);
                    b0.StoreUnsafe(ref wRef, at0 + (nuint)lanes);
                }
            }
        }

        // The last columns (fewer than two vectors), one value at a time.
        for (var j = end + after; j < cols; j++)
        {
            for (var r = first; r < last; r++)
            {
                var value = w[r * cols + j];
                for (var k = start; k < end; k++)
                {
                    value += u[k * cols + j] * negated[r * stride + k - start];
                }

                w[r * cols + j] = value;
            }
        }
    }
}
