using System.Numerics.Tensors;

namespace ModelShrink.Core.Passes.Reconstruction.Layerwise;

/// <summary>
/// What a sweep puts in place of the value at <paramref name="column"/> of <paramref name="row"/>
/// (the row's current values, earlier corrections included): its grid value, zero, or itself.
/// </summary>
internal delegate float ColumnDecision(int row, int column, Span<float> values);

/// <summary>
/// The loop GPTQ and SparseGPT share (Frantar et al., 2022 and 2023): the weight is seen as
/// W [rows = outputs, columns = inputs]; column by column, each row's value is replaced by a decision
/// (rounded, zeroed) and the error (w - q) / U[c,c] is spread over the row's later columns along row
/// c of U (<see cref="InverseFactor"/>), which keeps W·x closest to the original on the data H was
/// measured on. Rows are independent, so tiles of rows run in parallel; within a tile each row of U
/// is read once for all the tile's rows (it stays in cache), and every update is a vectorized axpy.
/// </summary>
internal static class ColumnSweep
{
    private const int TileRows = 8;

    /// <summary>Sweeps columns [<paramref name="from"/>, <paramref name="to"/>) of <paramref name="w"/> (row-major [rows, cols]).</summary>
    public static void Run(float[] w, int rows, int cols, float[] u, int from, int to, ColumnDecision decide, CancellationToken cancellation)
    {
        var tiles = (rows + TileRows - 1) / TileRows;
        void Sweep(int tile)
        {
            var first = tile * TileRows;
            var last = Math.Min(rows, first + TileRows);
            for (var c = from; c < to; c++)
            {
                var pivot = u[c * cols + c];
                var spread = new ReadOnlySpan<float>(u, c * cols + c + 1, cols - c - 1);
                for (var r = first; r < last; r++)
                {
                    var row = w.AsSpan(r * cols, cols);
                    var value = row[c];
                    var target = decide(r, c, row);
                    row[c] = target;
                    var error = (value - target) / pivot;
                    if (error != 0)
                    {
                        var rest = row[(c + 1)..];
                        TensorPrimitives.MultiplyAdd(spread, -error, rest, rest);
                    }
                }
            }
        }

        if ((long)rows * cols * (to - from) < 1 << 18)
        {
            for (var tile = 0; tile < tiles; tile++)
            {
                Sweep(tile);
            }
        }
        else
        {
            Parallel.For(0, tiles, new ParallelOptions { CancellationToken = cancellation }, Sweep);
        }
    }
}
