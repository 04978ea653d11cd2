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
    public void BlockSizeMustBeAPowerOfTwoOfAtLeast16()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => BlockQuantizer.ForMatMulNBits(new float[48], 16, 3, 24, true));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => BlockQuantizer.ForDequantizeLinear(new float[24], 8, 3, 8, true));
    }
}
