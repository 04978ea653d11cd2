using ModelShrink.Core.Quantization;

namespace ModelShrink.Core.Tests.Quantization;

/// <summary>
/// The shared quantization math on hand-made arrays. Expected scales, zero points and codes were
/// computed with ONNX Runtime's formulas (quant_utils.compute_scale_zp and quantize_nparray) in numpy.
/// </summary>
[TestClass]
public sealed class QuantizationMathTests
{
    private static readonly float[] Signed = [-1.0f, 0.5f, 2.0f, 0.0f, 1.25f, -0.3f];
    private static readonly float[] Skewed = [-1.0f, 0.5f, 3.0f, 0.0f, 1.25f, -0.3f];

    [TestMethod]
    public void Int8SymmetricScaleIsMaxAbsOver127WithZeroPointZero()
    {
        var q = WeightQuantizer.PerTensor(Signed, [6], QuantScheme.Default(WeightType.Int8));

        Assert.AreEqual(0.015748031f, q.Scales[0]);
        Assert.AreEqual(0, q.ZeroPoints[0]);
        CollectionAssert.AreEqual(new sbyte[] { -64, 32, 127, 0, 79, -19 }, Signed8(q.Data));
    }

    [TestMethod]
    public void UInt8AsymmetricMapsMinToZeroAndMaxTo255()
    {
        var q = WeightQuantizer.PerTensor(Skewed, [6], QuantScheme.Default(WeightType.UInt8));

        Assert.AreEqual(0.015686275f, q.Scales[0]);
        Assert.AreEqual(64, q.ZeroPoints[0]);
        CollectionAssert.AreEqual(new byte[] { 0, 96, 255, 64, 144, 45 }, q.Data);
    }

    [TestMethod]
    public void Int8AsymmetricUsesTheFullMinus128To127Range()
    {
        var q = WeightQuantizer.PerTensor(Skewed, [6], QuantScheme.Default(WeightType.Int8, symmetric: false));

        Assert.AreEqual(0.015686275f, q.Scales[0]);
        Assert.AreEqual(-64, q.ZeroPoints[0]);
        CollectionAssert.AreEqual(new sbyte[] { -128, -32, 127, -64, 16, -83 }, Signed8(q.Data));
    }

    [TestMethod]
    public void ReduceRangeUses7BitsForInt8AndUInt8()
    {
        var int8 = WeightQuantizer.PerTensor(Signed, [6], QuantScheme.Default(WeightType.Int8, reduceRange: true));
        var uint8 = WeightQuantizer.PerTensor(Skewed, [6], QuantScheme.Default(WeightType.UInt8, reduceRange: true));

        Assert.AreEqual(0.03125f, int8.Scales[0]);
        CollectionAssert.AreEqual(new sbyte[] { -32, 16, 64, 0, 40, -10 }, Signed8(int8.Data));
        Assert.AreEqual(0.031496063f, uint8.Scales[0]);
        Assert.AreEqual(32, uint8.ZeroPoints[0]);
        CollectionAssert.AreEqual(new byte[] { 0, 48, 127, 32, 72, 22 }, uint8.Data);
    }

    [TestMethod]
    public void RangeIsWidenedToIncludeZero()
    {
        var q = WeightQuantizer.PerTensor(new float[] { 1f, 2f, 3f }, [3], QuantScheme.Default(WeightType.UInt8));

        Assert.AreEqual(0.011764706f, q.Scales[0]);
        Assert.AreEqual(0, q.ZeroPoints[0]);
        CollectionAssert.AreEqual(new byte[] { 85, 170, 255 }, q.Data);
    }

    [TestMethod]
    public void UInt8SymmetricCentresOn128()
    {
        var q = WeightQuantizer.PerTensor(new float[] { -1f, 0.5f, 2f }, [3], QuantScheme.Default(WeightType.UInt8, symmetric: true));

        Assert.AreEqual(128, q.ZeroPoints[0]);
        CollectionAssert.AreEqual(new byte[] { 64, 160, 255 }, q.Data);
    }

    [TestMethod]
    public void AllZeroWeightGetsScaleOne()
    {
        var q = WeightQuantizer.PerTensor(new float[8], [8], QuantScheme.Default(WeightType.Int8));

        Assert.AreEqual(1f, q.Scales[0]);
        Assert.AreEqual(0, q.ZeroPoints[0]);
        Assert.IsTrue(q.Data.All(b => b == 0));
    }

    [TestMethod]
    public void HalvesRoundToEvenInTheVectorLoopAndTheScalarTail()
    {
        // max |x| = 127 gives scale exactly 1, so each value's code is its own rounding.
        float[] halves = [0.5f, 1.5f, 2.5f, 3.5f, -0.5f, -1.5f, -2.5f, 126.5f, 127f];
        var values = Enumerable.Repeat(halves, 9).SelectMany(v => v).ToArray(); // 81 values: vector blocks and a tail
        var q = WeightQuantizer.PerTensor(values, [values.Length], QuantScheme.Default(WeightType.Int8));

        Assert.AreEqual(1f, q.Scales[0]);
        sbyte[] expected = [0, 2, 2, 4, 0, -2, -2, 126, 127];
        CollectionAssert.AreEqual(Enumerable.Repeat(expected, 9).SelectMany(v => v).ToArray(), Signed8(q.Data));
    }

    [TestMethod]
    public void CodesAbove127SurviveTheVectorNarrowingAsUInt8()
    {
        var values = Enumerable.Range(0, 256).Select(i => (float)i).ToArray();

        var q = WeightQuantizer.PerTensor(values, [256], QuantScheme.Default(WeightType.UInt8));

        Assert.AreEqual(1f, q.Scales[0]);
        CollectionAssert.AreEqual(Enumerable.Range(0, 256).Select(i => (byte)i).ToArray(), q.Data);
    }

    [TestMethod]
    public void VectorLoopsAgreeWithTheScalarReferenceOnEveryElement()
    {
        var values = QuantizedModels.RandomValues(10_007, 11, 3f);
        var scheme = QuantScheme.Default(WeightType.UInt8);

        var perTensor = WeightQuantizer.PerTensor(values, [values.Length], scheme);
        var perChannel = WeightQuantizer.PerChannel(values, [1, values.Length], 1, scheme);

        for (var i = 0; i < values.Length; i++)
        {
            Assert.AreEqual(QuantizeKernels.Scalar(values[i], perTensor.Scales[0], perTensor.ZeroPoints[0], 0, 255), perTensor.Data[i]);
            Assert.AreEqual(QuantizeKernels.Scalar(values[i], perChannel.Scales[i], perChannel.ZeroPoints[i], 0, 255), perChannel.Data[i]);
        }
    }

    [TestMethod]
    public void ConvWeightPerChannelAlongAxis0HasOneScalePerOutputChannel()
    {
        // [O=2, I=1, kh=2, kw=2]: channel 0 spans ±1, channel 1 spans ±10.
        float[] w = [1f, -0.5f, 0.25f, 0f, -10f, 5f, 2.5f, 0f];

        var q = WeightQuantizer.PerChannel(w, [2, 1, 2, 2], 0, QuantScheme.Default(WeightType.Int8));

        CollectionAssert.AreEqual(new[] { 1f / 127, 10f / 127 }, q.Scales);
        CollectionAssert.AreEqual(new sbyte[] { 127, -64, 32, 0, -127, 64, 32, 0 }, Signed8(q.Data));
    }

    [TestMethod]
    public void MatMulWeightPerChannelAlongAxis1HasOneScalePerColumn()
    {
        // B [K=2, N=3]: columns span 1, 2 and 4.
        float[] b = [1f, -2f, 0.5f, -0.5f, 1f, 4f];

        var q = WeightQuantizer.PerChannel(b, [2, 3], 1, QuantScheme.Default(WeightType.Int8));

        CollectionAssert.AreEqual(new[] { 1f / 127, 2f / 127, 4f / 127 }, q.Scales);
        CollectionAssert.AreEqual(new sbyte[] { 127, -127, 16, -64, 64, 127 }, Signed8(q.Data));
    }

    [TestMethod]
    public void GemmTransBWeightIsQuantizedPerRowThenStoredTransposedPerColumn()
    {
        // W [N=3, K=2] (transB=1): rows span 1, 2 and 4; MatMulInteger wants [K=2, N=3].
        float[] w = [1f, -0.5f, -2f, 1f, 0.5f, 4f];

        var q = WeightQuantizer.PerChannel(w, [3, 2], 0, QuantScheme.Default(WeightType.Int8)).Transpose2D();

        CollectionAssert.AreEqual(new long[] { 2, 3 }, q.Dims);
        Assert.AreEqual(1, q.Axis);
        CollectionAssert.AreEqual(new[] { 1f / 127, 2f / 127, 4f / 127 }, q.Scales);
        CollectionAssert.AreEqual(new sbyte[] { 127, -127, 16, -64, 64, 127 }, Signed8(q.Data));
    }

    [TestMethod]
    public void RecurrentWeightPerChannelAlongTheMiddleAxis()
    {
        // W [directions=2, rows=2, input=2], axis 1: row r of both directions shares a scale.
        float[] w = [1f, 0f, 0f, 3f, -2f, 0f, 0f, 1f];

        var q = WeightQuantizer.PerChannel(w, [2, 2, 2], 1, QuantScheme.Default(WeightType.Int8));

        CollectionAssert.AreEqual(new[] { 2f / 127, 3f / 127 }, q.Scales);
        Assert.AreEqual(-2f, q.Dequantize(4), 1e-6f);
        Assert.AreEqual(3f, q.Dequantize(3), 1e-6f);
    }

    [TestMethod]
    public void NonFiniteWeightIsRefused()
    {
        Assert.ThrowsExactly<WeightQuantizer.NonFiniteWeightException>(() =>
            WeightQuantizer.PerTensor(new[] { 1f, float.NaN, 2f }, [3], QuantScheme.Default(WeightType.Int8)));
        Assert.ThrowsExactly<WeightQuantizer.NonFiniteWeightException>(() =>
            WeightQuantizer.PerChannel(new[] { 1f, float.PositiveInfinity, 2f, 0f }, [2, 2], 1, QuantScheme.Default(WeightType.Int8)));
    }

    private static sbyte[] Signed8(byte[] data) => Array.ConvertAll(data, b => (sbyte)b);
}
