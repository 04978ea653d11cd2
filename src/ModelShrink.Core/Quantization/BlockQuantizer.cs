using ModelShrink.Onnx.Tensors;
using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace ModelShrink.Core.Quantization;

/// <summary>
/// A MatMul weight [K, N] quantized to 4 bits in ONNX Runtime's MatMulNBits layout: for each output
/// column n, K is cut into blocks of <see cref="BlockSize"/> (the last one zero-padded), each block
/// has a scale (and a zero point), and its values are packed two per byte, the lower K index in the
/// low nibble.
/// </summary>
/// <param name="K">Input features (rows of the original weight).</param>
/// <param name="N">Output features (columns of the original weight).</param>
/// <param name="BlockSize">Values per block along K.</param>
/// <param name="B">uint8 [N, BlocksPerColumn, BlockSize / 2].</param>
/// <param name="Scales">float [N * BlocksPerColumn], column-major by block.</param>
/// <param name="ZeroPoints">uint8 [N, ceil(BlocksPerColumn / 2)], packed like B; null when symmetric (implied zero point 8).</param>
public sealed record MatMulNBitsWeight(int K, int N, int BlockSize, byte[] B, float[] Scales, byte[]? ZeroPoints)
{
    /// <summary>Blocks per column: ceil(K / BlockSize).</summary>
    public int BlocksPerColumn => (K + BlockSize - 1) / BlockSize;

    /// <summary>Bytes per block.</summary>
    public int BlobSize => BlockSize / 2;

    /// <summary>The 4-bit value stored for weight element [k, n] (0..15).</summary>
    public int Code(int k, int n)
    {
        var b = k / BlockSize;
        var i = k % BlockSize;
        var packed = B[(n * BlocksPerColumn + b) * BlobSize + i / 2];
        return (packed >> (i % 2 * 4)) & 0xF;
    }

    /// <summary>The zero point of block <paramref name="block"/> of column <paramref name="n"/> (8 when symmetric).</summary>
    public int ZeroPoint(int n, int block) => ZeroPoints is null
        ? 8
        : (ZeroPoints[n * ((BlocksPerColumn + 1) / 2) + block / 2] >> (block % 2 * 4)) & 0xF;

    /// <summary>Dequantizes weight element [k, n].</summary>
    public float Dequantize(int k, int n) => (Code(k, n) - ZeroPoint(n, k / BlockSize)) * Scales[n * BlocksPerColumn + k / BlockSize];
}

/// <summary>
/// A weight [K, N] quantized to 4 bits for ONNX's blocked DequantizeLinear (opset 21, axis 0,
/// block_size): the data keeps its [K, N] layout as int4 (symmetric) or uint4 (with zero points),
/// scales and zero points are [ceil(K / BlockSize), N].
/// </summary>
/// <param name="K">Rows (the blocked axis).</param>
/// <param name="N">Columns.</param>
/// <param name="BlockSize">Rows per block.</param>
/// <param name="Signed">int4 without zero points (symmetric), else uint4 with zero points.</param>
/// <param name="Data">The values packed two per byte in row-major order (ONNX 4-bit packing).</param>
/// <param name="Scales">float [Blocks, N].</param>
/// <param name="ZeroPoints">uint4 [Blocks, N] packed two per byte; null when <paramref name="Signed"/>.</param>
public sealed record BlockedInt4Weight(int K, int N, int BlockSize, bool Signed, byte[] Data, float[] Scales, byte[]? ZeroPoints)
{
    /// <summary>Blocks along K: ceil(K / BlockSize).</summary>
    public int Blocks => (K + BlockSize - 1) / BlockSize;

    /// <summary>
    /// The same weight laid out [N, <paramref name="rowWidth"/>] with its blocks along axis 1 (a
    /// Conv's weight viewed as [M, C·kh·kw], quantized as its transpose): each row's K codes, then
    /// zero codes up to <paramref name="rowWidth"/> (at least K); scales and zero points [N, Blocks].
    /// </summary>
    public (byte[] Data, float[] Scales, byte[]? ZeroPoints) Transposed(int rowWidth)
    {
        var codes = new byte[(long)rowWidth * N];
        var unpacked = new byte[(long)K * N];
        PackedNibbles.UnpackUInt4(Data, unpacked);
        for (var k = 0; k < K; k++)
        {
            for (var n = 0; n < N; n++)
            {
                codes[(long)n * rowWidth + k] = unpacked[(long)k * N + n];
            }
        }

        var scales = new float[(long)Blocks * N];
        byte[]? zeros = null;
        var storedZeros = ZeroPoints is null ? null : new byte[(long)Blocks * N];
        if (ZeroPoints is not null)
        {
            PackedNibbles.UnpackUInt4(ZeroPoints, storedZeros);
            zeros = new byte[(long)Blocks * N];
        }

        for (var b = 0; b < Blocks; b++)
        {
            for (var n = 0; n < N; n++)
            {
                scales[(long)n * Blocks + b] = Scales[(long)b * N + n];
                if (zeros is not null)
                {
                    zeros[(long)n * Blocks + b] = storedZeros![(long)b * N + n];
                }
            }
        }

        return (PackedNibbles.PackUInt4(codes), scales, zeros is null ? null : PackedNibbles.PackUInt4(zeros));
    }

    /// <summary>Dequantizes weight element [k, n].</summary>
    public float Dequantize(int k, int n)
    {
        var index = (long)k * N + n;
        var nibble = (Data[index / 2] >> (int)(index % 2 * 4)) & 0xF;
        var q = Signed ? (nibble ^ 8) - 8 : nibble;
        var block = (long)(k / BlockSize) * N + n;
        var zero = ZeroPoints is null ? 0 : (ZeroPoints[block / 2] >> (int)(block % 2 * 4)) & 0xF;
        return (q - zero) * Scales[block];
    }
}

/// <summary>
/// Block-wise 4-bit quantization of 2-D MatMul weights. Symmetric blocks follow ONNX Runtime's MLAS
/// (MlasQuantizeBlockwise): the value of largest magnitude maps to -8, so all 16 codes are used and
/// the scale may be negative; asymmetric blocks map [min(x,0), max(x,0)] onto 0..15. Values round
/// half to even.
/// </summary>
public static class BlockQuantizer
{
    private const double SmallestNormal = 1.17549435e-38;

    // Columns per tile: a block of 32 rows by 64 columns is 8 KB of floats, resident in L1.
    private const int TileColumns = 64;

    /// <summary>Quantizes a [K, N] weight into the MatMulNBits layout.</summary>
    /// <remarks><paramref name="adjust"/> (layer-wise reconstruction) sees the grid chosen from the original values and may return other values to quantize with it.</remarks>
    public static MatMulNBitsWeight ForMatMulNBits(ReadOnlyMemory<float> values, int k, int n, int blockSize, bool symmetric, WeightAdjuster? adjust = null)
    {
        CheckShape(values.Length, k, n, blockSize);
        var grid = Adjust(ref values, k, n, blockSize, symmetric, adjust);
        var blocks = (k + blockSize - 1) / blockSize;
        var blob = blockSize / 2;
        var b = new byte[(long)n * blocks * blob];
        var scales = new float[(long)n * blocks];
        var zeroRow = (blocks + 1) / 2;
        var zeroPoints = symmetric ? null : new byte[(long)n * zeroRow];
        ForEachTile(values, k, n, blockSize, symmetric, grid, (block, n0, width, codes, tileScales, stored) =>
            PackTile(b, scales, zeroPoints, blocks, block, n0, width, codes, tileScales, stored));
        return new MatMulNBitsWeight(k, n, blockSize, b, scales, zeroPoints);
    }

    // One tile's codes [BlockSize, width] into MatMulNBits' column-major blocks: rows 2j and 2j+1 are
    // paired into one byte along the tile's width (vectorized), then each column's BlockSize / 2 bytes
    // are gathered into place.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackTile(byte[] b, float[] scales, byte[]? zeroPoints, int blocks, int block, int n0, int width,
        ReadOnlySpan<byte> codes, ReadOnlySpan<float> tileScales, ReadOnlySpan<float> stored)
    {
        var blob = codes.Length / width / 2;
        // Block sizes past 512 would make the pairs too large for the stack.
        Span<byte> pairs = blob * width <= 16384 ? stackalloc byte[blob * width] : new byte[blob * width];
        for (var j = 0; j < blob; j++)
        {
            var low = codes.Slice(2 * j * width, width);
            var high = codes.Slice((2 * j + 1) * width, width);
            var target = pairs.Slice(j * width, width);
            var t = 0;
            if (Vector.IsHardwareAccelerated)
            {
                for (; t <= width - Vector<byte>.Count; t += Vector<byte>.Count)
                {
                    (new Vector<byte>(low.Slice(t)) | Vector.ShiftLeft(new Vector<byte>(high.Slice(t)), 4)).CopyTo(target.Slice(t));
                }
            }

            for (; t < width; t++)
            {
                target[t] = (byte)(low[t] | (high[t] << 4));
            }
        }

        var zeroRow = (blocks + 1) / 2;
        for (var t = 0; t < width; t++)
        {
            var column = n0 + t;
            var output = b.AsSpan((int)(((long)column * blocks + block) * blob), blob);
            for (var j = 0; j < blob; j++)
            {
                output[j] = pairs[j * width + t];
            }

            scales[(long)column * blocks + block] = tileScales[t];
            if (zeroPoints is not null)
            {
                // Blocks 2i and 2i+1 share a byte and may be done by different threads.
                InterlockedOr(ref zeroPoints[(long)column * zeroRow + block / 2], (byte)((int)stored[t] << (block % 2 * 4)));
            }
        }
    }

    /// <summary>Quantizes a [K, N] weight for blocked DequantizeLinear along axis 0.</summary>
    /// <remarks><paramref name="adjust"/>: as for <see cref="ForMatMulNBits"/>.</remarks>
    public static BlockedInt4Weight ForDequantizeLinear(ReadOnlyMemory<float> values, int k, int n, int blockSize, bool symmetric, WeightAdjuster? adjust = null)
    {
        CheckShape(values.Length, k, n, blockSize);
        var grid = Adjust(ref values, k, n, blockSize, symmetric, adjust);
        var blocks = (k + blockSize - 1) / blockSize;
        var codes = new byte[(long)k * n];
        var scales = new float[(long)blocks * n];
        var zeros = symmetric ? null : new byte[(long)blocks * n];
        ForEachTile(values, k, n, blockSize, symmetric, grid, (block, n0, width, tile, tileScales, stored) =>
        {
            var rows = Math.Min(k, (block + 1) * blockSize) - block * blockSize;
            for (var row = 0; row < rows; row++)
            {
                var target = codes.AsSpan((block * blockSize + row) * n + n0, width);
                tile.Slice(row * width, width).CopyTo(target);
                if (symmetric)
                {
                    // Signed int4: codes -8..7 around 0, not 0..15 around 8.
                    for (var t = 0; t < width; t++)
                    {
                        target[t] -= 8;
                    }
                }
            }

            tileScales.CopyTo(scales.AsSpan(block * n + n0, width));
            if (zeros is not null)
            {
                for (var t = 0; t < width; t++)
                {
                    zeros[block * n + n0 + t] = (byte)stored[t];
                }
            }
        });
        return new BlockedInt4Weight(k, n, blockSize, symmetric, PackNibbles(codes), scales, zeros is null ? null : PackNibbles(zeros));
    }

    /// <summary>What to do with one quantized tile: block index, first column, width, codes [BlockSize, width] (0..15), scales and stored zero points.</summary>
    private delegate void TileAction(int block, int n0, int width, ReadOnlySpan<byte> codes, ReadOnlySpan<float> scales, ReadOnlySpan<float> stored);

    /// <summary>The grid of every block: scales and stored zero points [Blocks, N], as the tiles would choose them.</summary>
    public static BlockGrid Grid(ReadOnlyMemory<float> values, int k, int n, int blockSize, bool symmetric)
    {
        CheckShape(values.Length, k, n, blockSize);
        var blocks = (k + blockSize - 1) / blockSize;
        var scales = new float[(long)blocks * n];
        var stored = new float[(long)blocks * n];
        ForEachTile(values, k, n, blockSize, symmetric, null, (block, n0, width, _, tileScales, tileStored) =>
        {
            tileScales.CopyTo(scales.AsSpan(block * n + n0, width));
            tileStored.CopyTo(stored.AsSpan(block * n + n0, width));
        });
        return new BlockGrid(n, blockSize, scales, stored);
    }

    // With an adjuster: the grid from the original values, and the values it returns in their place.
    private static BlockGrid? Adjust(ref ReadOnlyMemory<float> values, int k, int n, int blockSize, bool symmetric, WeightAdjuster? adjust)
    {
        if (adjust is null)
        {
            return null;
        }

        var grid = Grid(values, k, n, blockSize, symmetric);
        if (adjust(values, grid) is { } adjusted)
        {
            values = adjusted;
        }

        return grid;
    }

    // Cuts the [K, N] weight into tiles of one block of rows by up to TileColumns columns (small
    // enough to stay in L1), computes each column's parameters over the tile's rows, quantizes the
    // rows with per-column parameters (vectorized along N), pads rows past K with the zero point,
    // and hands the codes to `action`. Tiles run in parallel. With a grid, its parameters are used as they are.
    private static void ForEachTile(ReadOnlyMemory<float> values, int k, int n, int blockSize, bool symmetric, BlockGrid? grid, TileAction action)
    {
        var blocks = (k + blockSize - 1) / blockSize;
        var tiles = (n + TileColumns - 1) / TileColumns;
        var nonFinite = 0;
        ParallelWork.Run(blocks * tiles, (long)k * n, index =>
        {
            var codes = ArrayPool<byte>.Shared.Rent(blockSize * TileColumns);
            try
            {
                var block = index / tiles;
                var n0 = index % tiles * TileColumns;
                var width = Math.Min(TileColumns, n - n0);
                Span<float> scales = stackalloc float[width];
                Span<float> stored = stackalloc float[width];
                if (!QuantizeTile(values.Span, k, n, blockSize, symmetric, grid, block, n0, scales, stored, codes.AsSpan(0, blockSize * width)))
                {
                    Interlocked.Exchange(ref nonFinite, 1);
                    return;
                }

                action(block, n0, width, codes.AsSpan(0, blockSize * width), scales, stored);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(codes);
            }
        });
        if (nonFinite != 0)
        {
            throw new WeightQuantizer.NonFiniteWeightException();
        }
    }

    // One tile: block `block` of rows by scales.Length columns from n0. Fills scales, stored zero points
    // and codes [BlockSize, width]; false when a value is NaN or infinite.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool QuantizeTile(ReadOnlySpan<float> span, int k, int n, int blockSize, bool symmetric, BlockGrid? grid,
        int block, int n0, Span<float> scales, Span<float> stored, Span<byte> codes)
    {
        var width = scales.Length;
        var first = block * blockSize;
        var rows = Math.Min(k, first + blockSize) - first;
        Span<float> mins = stackalloc float[width];
        Span<float> maxs = stackalloc float[width];
        mins.Fill(float.PositiveInfinity);
        maxs.Fill(float.NegativeInfinity);
        for (var row = first; row < first + rows; row++)
        {
            QuantizeKernels.AccumulateMinMax(span.Slice(row * n + n0, width), mins, maxs);
        }

        for (var t = 0; t < width; t++)
        {
            if (!float.IsFinite(mins[t]) || !float.IsFinite(maxs[t]))
            {
                return false;
            }

            if (grid is not null)
            {
                scales[t] = grid.Scales[block * n + n0 + t];
                stored[t] = grid.Stored[block * n + n0 + t];
                continue;
            }

            var (scale, zero) = Parameters(mins[t], maxs[t], symmetric);
            scales[t] = scale;
            stored[t] = symmetric ? 8 : zero;
        }

        for (var row = 0; row < rows; row++)
        {
            QuantizeKernels.Quantize(span.Slice((first + row) * n + n0, width), codes.Slice(row * width, width), scales, stored, 0, 15);
        }

        // Rows past K (the last block's zero padding) hold the code of 0: the zero point.
        for (var row = rows; row < blockSize; row++)
        {
            for (var t = 0; t < width; t++)
            {
                codes[row * width + t] = (byte)stored[t];
            }
        }

        return true;
    }

    private static void InterlockedOr(ref byte target, byte bits)
    {
        byte seen;
        do
        {
            seen = Volatile.Read(ref target);
        }
        while (Interlocked.CompareExchange(ref target, (byte)(seen | bits), seen) != seen);
    }

    /// <summary>
    /// One block's scale and zero point. Symmetric: scale = (value of largest magnitude) / -8, zero
    /// point 0 (codes -8..7). Asymmetric: scale = (max(x,0) - min(x,0)) / 15, zero point
    /// round(-min / scale) in 0..15. A zero-width block gets scale 1.
    /// </summary>
    public static (float Scale, int ZeroPoint) Parameters(float min, float max, bool symmetric)
    {
        if (symmetric)
        {
            var extreme = -min > max ? min : max;
            var signedScale = extreme / -8.0;
            return Math.Abs(signedScale) < SmallestNormal ? (1f, 0) : ((float)signedScale, 0);
        }

        min = MathF.Min(min, 0f);
        max = MathF.Max(max, 0f);
        var scale = (double)(max - min) / 15.0;
        if (scale < SmallestNormal)
        {
            return (1f, 0);
        }

        var zero = (int)Math.Round(-min / scale, MidpointRounding.ToEven);
        return ((float)scale, Math.Clamp(zero, 0, 15));
    }

    /// <summary>Packs 4-bit codes (one per byte, low nibble used) two per byte, the lower index in the low nibble.</summary>
    public static byte[] PackNibbles(byte[] codes)
    {
        var packed = new byte[(codes.Length + 1) / 2];
        const int chunk = 1 << 20;
        var pairs = codes.Length / 2;
        ParallelWork.Run((pairs + chunk - 1) / chunk, codes.Length, c =>
        {
            var end = Math.Min(pairs, (c + 1) * chunk);
            for (var i = c * chunk; i < end; i++)
            {
                packed[i] = (byte)((codes[2 * i] & 0xF) | ((codes[2 * i + 1] & 0xF) << 4));
            }
        });
        if (codes.Length % 2 == 1)
        {
            packed[^1] = (byte)(codes[^1] & 0xF);
        }

        return packed;
    }

    private static void CheckShape(int count, int k, int n, int blockSize)
    {
        if ((long)k * n != count)
        {
            throw new ArgumentException($"{count} values are not a [{k},{n}] matrix");
        }

        if (blockSize < 16 || (blockSize & (blockSize - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(blockSize), $"block size {blockSize} is not a power of two of at least 16");
        }
    }
}
