using ModelShrink.Core.Quantization;

namespace ModelShrink.Core.Tests.Quantization;

[TestClass]
public sealed class BlockQuantizerTests
{
    [TestMethod]
    public void SymmetricBlockMapsItsLargestMagnitudeToMinus8()
    {
        var (scale, zero) = BlockQuantizer.Parameters(-0.5f, 2f, symmetric: true);
        var (negativeScale, _) = BlockQuantizer.Parameters(-4f, 1f, symmetric: true);

        Assert.AreEqual(-0.25f, scale);
        Assert.AreEqual(0, zero);
        Assert.AreEqual(0.5f, negativeScale);
    }

    [TestMethod]
    public void AsymmetricBlockSpansZeroTo15()
    {
        var (scale, zero) = BlockQuantizer.Parameters(-1f, 2f, symmetric: false);

        Assert.AreEqual(0.2f, scale);
        Assert.AreEqual(5, zero);
    }

    [TestMethod]
    public void MatMulNBitsLayoutIsColumnMajorBlocksWithLowNibbleFirst()
    {
        // W [K=16, N=2]: column 0 counts 0..15 (times 0.1), column 1 is all -1.
        var w = new float[32];
        for (var k = 0; k < 16; k++)
        {
            w[k * 2] = k * 0.1f;
            w[k * 2 + 1] = -1f;
        }

        var q = BlockQuantizer.ForMatMulNBits(w, 16, 2, 16, symmetric: true);

        Assert.AreEqual(1, q.BlocksPerColumn);
        Assert.AreEqual(16, q.B.Length);
        Assert.AreEqual(1.5f / -8, q.Scales[0]);
        Assert.AreEqual(8, q.Code(0, 0));                        // 0 / scale + 8
        Assert.AreEqual(0, q.Code(15, 0));                       // the extreme 1.5 maps to -8 + 8
        Assert.AreEqual((byte)(q.Code(0, 0) | (q.Code(1, 0) << 4)), q.B[0]);
        Assert.AreEqual(0, q.Code(3, 1));                        // column 1 (from byte 8): -1 is its extreme
        Assert.AreEqual(0.125f, q.Scales[1]);
        for (var k = 0; k < 16; k++)
        {
            Assert.AreEqual(w[k * 2], q.Dequantize(k, 0), Math.Abs(q.Scales[0]) / 2 + 1e-6f);
        }
    }

    [TestMethod]
    public void ZeroPointsOfAnOddBlockCountPadEachColumnToWholeBytes()
    {
        // K = 48 with block 16: three blocks per column, so each column's zero points take 2 bytes.
        var w = QuantizedModels.RandomValues(48 * 3, 5, 1f);

        var q = BlockQuantizer.ForMatMulNBits(w, 48, 3, 16, symmetric: false);

        Assert.AreEqual(6, q.ZeroPoints!.Length);
        for (var n = 0; n < 3; n++)
        {
            Assert.AreEqual(0, q.ZeroPoints[n * 2 + 1] >> 4, "the unused high nibble stays empty");
            for (var k = 0; k < 48; k++)
            {
                Assert.AreEqual(w[k * 3 + n], q.Dequantize(k, n), q.Scales[n * 3 + k / 16] / 2 + 1e-6f);
            }
        }
    }

    [TestMethod]
    public void BlockedDequantizeLinearLayoutKeepsKByNAndBlocksAlongK()
    {
        var w = QuantizedModels.RandomValues(40 * 5, 9, 2f);

        var signed = BlockQuantizer.ForDequantizeLinear(w, 40, 5, 16, symmetric: true);
        var unsigned = BlockQuantizer.ForDequantizeLinear(w, 40, 5, 16, symmetric: false);

        Assert.AreEqual(3, signed.Blocks);
        Assert.AreEqual(100, signed.Data.Length);
        Assert.AreEqual(15, signed.Scales.Length);
        Assert.IsNull(signed.ZeroPoints);
        Assert.AreEqual(8, unsigned.ZeroPoints!.Length);
        for (var k = 0; k < 40; k++)
        {
            for (var n = 0; n < 5; n++)
            {
                var block = k / 16 * 5 + n;

                // Symmetric blocks use -8..7 with the extreme at -8: a value of the opposite sign
                // as large as the extreme clips at 7, one step off (as in ONNX Runtime's MLAS).
                Assert.AreEqual(w[k * 5 + n], signed.Dequantize(k, n), Math.Abs(signed.Scales[block]) + 1e-6f);
                Assert.AreEqual(w[k * 5 + n], unsigned.Dequantize(k, n), unsigned.Scales[block] / 2 + 1e-6f);
            }
        }
    }

    [TestMethod]
    [DataRow(true, 32)]
    [DataRow(false, 64)]
    public void MatMulNBitsOfManyTilesMatchesTheScalarReferenceAtEveryElement(bool symmetric, int blockSize)
    {
        // N = 150 spans three tiles of 64 columns, the last 22 wide (not a whole vector); K = 100 leaves
        // a short, zero-padded last block. Every code, scale and zero point is checked against the
        // scalar definition (Parameters and round half to even).
        const int k = 100, n = 150;
        var w = QuantizedModels.RandomValues(k * n, 11, 2f);

        var q = BlockQuantizer.ForMatMulNBits(w, k, n, blockSize, symmetric);

        var blocks = (k + blockSize - 1) / blockSize;
        for (var column = 0; column < n; column++)
        {
            for (var block = 0; block < blocks; block++)
            {
                var rows = Enumerable.Range(block * blockSize, Math.Min(k, (block + 1) * blockSize) - block * blockSize).ToArray();
                var (scale, zero) = BlockQuantizer.Parameters(rows.Min(r => w[r * n + column]), rows.Max(r => w[r * n + column]), symmetric);
                var stored = symmetric ? 8 : zero;
                Assert.AreEqual(scale, q.Scales[column * blocks + block]);
                Assert.AreEqual(stored, q.ZeroPoint(column, block));
                for (var i = 0; i < blockSize; i++)
                {
                    var row = block * blockSize + i;
                    var expected = row < k ? QuantizeKernels.Scalar(w[row * n + column], scale, stored, 0, 15) : stored;
                    var packed = q.B[(column * blocks + block) * (blockSize / 2) + i / 2];
                    Assert.AreEqual(expected, (packed >> (i % 2 * 4)) & 0xF, $"[{row}, {column}]");
                }
            }
        }
    }

    [TestMethod]
    public void ANaNInAnyTileIsRefused()
    {
        var w = QuantizedModels.RandomValues(64 * 130, 3, 1f);
        w[63 * 130 + 129] = float.NaN;   // the last element: the third tile's last column, the last block's last row

        Assert.ThrowsExactly<WeightQuantizer.NonFiniteWeightException>(() => BlockQuantizer.ForMatMulNBits(w, 64, 130, 32, symmetric: true));
    }

    [TestMethod]
    public void TheHotLoopsAreCompiledOptimizedFromTheirFirstCall()
    {
        // Tiered compilation would run them as unoptimized tier-0 code for the first tens to hundreds of
        // milliseconds of a run that lasts about a second (measured: the int4 pass of a 400 MB MatMul
        // took 2.1x as long as with optimized code); see QuantizeKernels' remarks.
        var flags = System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static;
        var hot = typeof(QuantizeKernels).GetMethods(flags).Where(m => m.Name is "Quantize" or "MinMax" or "AccumulateMinMax")
            .Concat(typeof(BlockQuantizer).GetMethods(flags).Where(m => m.Name is "QuantizeTile" or "PackTile"))
            .ToArray();

        Assert.HasCount(6, hot);
        foreach (var method in hot)
        {
            Assert.IsTrue(method.MethodImplementationFlags.HasFlag(System.Reflection.MethodImplAttributes.AggressiveOptimization), method.Name);
        }
    }

    [TestMethod]
    public void AccumulateMinMaxWidensEveryLaneAndPropagatesNaN()
    {
        var mins = Enumerable.Repeat(float.PositiveInfinity, 19).ToArray();
        var maxs = Enumerable.Repeat(float.NegativeInfinity, 19).ToArray();
        var first = Enumerable.Range(0, 19).Select(i => (float)i).ToArray();
        var second = Enumerable.Range(0, 19).Select(i => (float)-i).ToArray();
        second[17] = float.NaN;

        QuantizeKernels.AccumulateMinMax(first, mins, maxs);
        QuantizeKernels.AccumulateMinMax(second, mins, maxs);

        for (var i = 0; i < 19; i++)
        {
            if (i == 17)
            {
                Assert.IsTrue(float.IsNaN(mins[i]) && float.IsNaN(maxs[i]));
                continue;
            }

            Assert.AreEqual(-i, mins[i]);
            Assert.AreEqual(i, maxs[i]);
        }
    }

    [TestMethod]
    public void BlockSizeMustBeAPowerOfTwoOfAtLeast16()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => BlockQuantizer.ForMatMulNBits(new float[48], 16, 3, 24, true));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => BlockQuantizer.ForDequantizeLinear(new float[24], 8, 3, 8, true));
    }
}
