namespace ModelShrink.Core.Quantization;

/// <summary>Byte matrix helpers for quantized weights.</summary>
public static class ByteMatrix
{
    private const int Tile = 64;

    /// <summary>Transposes a row-major [rows, cols] byte matrix into a new [cols, rows] one (cache-blocked, row tiles in parallel).</summary>
    public static byte[] Transpose(byte[] source, int rows, int cols)
    {
        if ((long)rows * cols != source.Length)
        {
            throw new ArgumentException($"{source.Length} bytes are not a [{rows},{cols}] matrix", nameof(source));
        }

        var result = new byte[source.Length];
        var tiles = (rows + Tile - 1) / Tile;
        void Body(int tile)
        {
            var r0 = tile * Tile;
            var r1 = Math.Min(rows, r0 + Tile);
            for (var c0 = 0; c0 < cols; c0 += Tile)
            {
                var c1 = Math.Min(cols, c0 + Tile);
                for (var r = r0; r < r1; r++)
                {
                    var rowStart = r * cols;
                    for (var c = c0; c < c1; c++)
                    {
                        result[c * rows + r] = source[rowStart + c];
                    }
                }
            }
        }

        if (source.Length < 1 << 16)
        {
            for (var t = 0; t < tiles; t++)
            {
                Body(t);
            }
        }
        else
        {
            Parallel.For(0, tiles, Body);
        }

        return result;
    }
}
