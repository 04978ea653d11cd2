using System.Buffers;

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
    private const int ColumnTile = 16;

    /// <summary>Quantizes a [K, N] weight into the MatMulNBits layout.</summary>
    public static MatMulNBitsWeight ForMatMulNBits(ReadOnlyMemory<float> values, int k, int n, int blockSize, bool symmetric)
    {
        CheckShape(values.Length, k, n, blockSize);
        var blocks = (k + blockSize - 1) / blockSize;
        var padded = blocks * blockSize;
        var blob = blockSize / 2;
        var b = new byte[(long)n * blocks * blob];
        var scales = new float[(long)n * blocks];
        var zeroRow = (blocks + 1) / 2;
        var zeroPoints = symmetric ? null : new byte[(long)n * zeroRow];
        var tiles = (n + ColumnTile - 1) / ColumnTile;
        var nonFinite = 0;
        ParallelWork.Run(tiles, (long)k * n, tile =>
        {
            var n0 = tile * ColumnTile;
            var width = Math.Min(ColumnTile, n - n0);
            var columns = ArrayPool<float>.Shared.Rent(width * padded);
            var codes = ArrayPool<byte>.Shared.Rent(blockSize);
            try
            {
                // Gather the tile's columns into contiguous runs of K (zero-padded to whole blocks).
                var span = values.Span;
                Array.Clear(columns, 0, width * padded);
                for (var row = 0; row < k; row++)
                {
                    var source = span.Slice(row * n + n0, width);
                    for (var t = 0; t < width; t++)
                    {
                        columns[t * padded + row] = source[t];
                    }
                }

                for (var t = 0; t < width; t++)
                {
                    var column = n0 + t;
                    for (var block = 0; block < blocks; block++)
                    {
                        var slice = columns.AsSpan(t * padded + block * blockSize, blockSize);
                        var (min, max, bad) = QuantizeKernels.MinMax(slice);
                        if (bad)
                        {
                            Interlocked.Exchange(ref nonFinite, 1);
                            return;
                        }

                        var (scale, zero) = Parameters(min, max, symmetric);
                        var stored = symmetric ? 8 : zero;
                        QuantizeKernels.Quantize(slice, codes, scale, stored, 0, 15);
                        var output = b.AsSpan((int)(((long)column * blocks + block) * blob), blob);
                        for (var j = 0; j < blob; j++)
                        {
                            output[j] = (byte)(codes[2 * j] | (codes[2 * j + 1] << 4));
                        }

                        scales[(long)column * blocks + block] = scale;
                        if (zeroPoints is not null)
                        {
                            zeroPoints[(long)column * zeroRow + block / 2] |= (byte)(zero << (block % 2 * 4));
                        }
                    }
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(columns);
                ArrayPool<byte>.Shared.Return(codes);
            }
        });
        if (nonFinite != 0)
        {
            throw new WeightQuantizer.NonFiniteWeightException();
        }

        return new MatMulNBitsWeight(k, n, blockSize, b, scales, zeroPoints);
    }

    /// <summary>Quantizes a [K, N] weight for blocked DequantizeLinear along axis 0.</summary>
    public static BlockedInt4Weight ForDequantizeLinear(ReadOnlyMemory<float> values, int k, int n, int blockSize, bool symmetric)
    {
        CheckShape(values.Length, k, n, blockSize);
        var blocks = (k + blockSize - 1) / blockSize;
        var codes = new byte[(long)k * n];
        var scales = new float[(long)blocks * n];
        var zeros = symmetric ? null : new byte[(long)blocks * n];
        var (qmin, qmax) = symmetric ? (-8, 7) : (0, 15);
        var nonFinite = 0;
        ParallelWork.Run(blocks, (long)k * n, block =>
        {
            var first = block * blockSize;
            var last = Math.Min(k, first + blockSize);
            var mins = new float[n];
            var maxs = new float[n];
            Array.Fill(mins, float.PositiveInfinity);
            Array.Fill(maxs, float.NegativeInfinity);
            var span = values.Span;
            for (var row = first; row < last; row++)
            {
                QuantizeKernels.AccumulateMinMax(span.Slice(row * n, n), mins, maxs);
            }

            var blockScales = scales.AsSpan(block * n, n);
            var zeroFloats = new float[n];
            for (var column = 0; column < n; column++)
            {
                if (!float.IsFinite(mins[column]) || !float.IsFinite(maxs[column]))
                {
                    Interlocked.Exchange(ref nonFinite, 1);
                    return;
                }

                var (scale, zero) = Parameters(mins[column], maxs[column], symmetric);
                blockScales[column] = scale;
                zeroFloats[column] = zero;
                if (zeros is not null)
                {
                    zeros[block * n + column] = (byte)zero;
                }
            }

            for (var row = first; row < last; row++)
            {
                QuantizeKernels.Quantize(span.Slice(row * n, n), codes.AsSpan(row * n, n), blockScales, zeroFloats, qmin, qmax);
            }
        });
        if (nonFinite != 0)
        {
            throw new WeightQuantizer.NonFiniteWeightException();
        }

        return new BlockedInt4Weight(k, n, blockSize, symmetric, PackNibbles(codes), scales, zeros is null ? null : PackNibbles(zeros));
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
    public static byte[] PackNibbles(ReadOnlySpan<byte> codes)
    {
        var packed = new byte[(codes.Length + 1) / 2];
        var pairs = codes.Length / 2;
        for (var i = 0; i < pairs; i++)
        {
            packed[i] = (byte)((codes[2 * i] & 0xF) | ((codes[2 * i + 1] & 0xF) << 4));
        }

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
