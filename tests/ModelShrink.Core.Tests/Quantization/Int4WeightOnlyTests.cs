using ModelShrink.Core.Passes.Int4WeightOnly;
using ModelShrink.Diagnostics;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Quantization;

[TestClass]
public sealed class Int4WeightOnlyTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(Int4Format.MatMulNBits, 32, false)]
    [DataRow(Int4Format.MatMulNBits, 64, false)]
    [DataRow(Int4Format.MatMulNBits, 128, true)]
    [DataRow(Int4Format.Qdq, 32, false)]
    [DataRow(Int4Format.Qdq, 128, true)]
    public void Int4WeightDominatedModelIsAtMost16PercentAndItsOrtOutputsKeepCosineAbove099(Int4Format format, int blockSize, bool zeroPoints)
    {
        using var folder = new TempDirectory();
        var source = QuantizedModels.WriteMatMulModel(folder.File("float.onnx"), 1024, 1024);
        var options = new Int4WeightOnlyOptions { Format = format, BlockSize = blockSize, ZeroPoints = zeroPoints };
        var (path, result, _, _) = QuantizedModels.Apply(source, new Int4WeightOnlyPass(options), folder);
        var input = Tensor.FromArray<float>("x", [4, 1024], QuantizedModels.RandomValues(4 * 1024, 7, 1f));

        var expected = QuantizedModels.Run(source, input);
        var actual = QuantizedModels.Run(path, input);

        var ratio = new FileInfo(path).Length / (double)new FileInfo(source).Length;
        var cosine = QuantizedModels.Cosine(expected, actual);
        TestContext.WriteLine($"{format} block {blockSize} zero points {zeroPoints}: size {ratio:P2}, cosine {cosine:F5}");
        Assert.AreEqual(1L, result.Counters["nodes quantized"]);
        Assert.IsLessThanOrEqualTo(0.16, ratio);
        Assert.IsGreaterThan(0.99, cosine);
    }

    [TestMethod]
    [DataRow(Int4Format.MatMulNBits, false)]
    [DataRow(Int4Format.MatMulNBits, true)]
    [DataRow(Int4Format.Qdq, false)]
    [DataRow(Int4Format.Qdq, true)]
    public void KThatIsNoMultipleOfTheBlockSizeIsPaddedNotRefused(Int4Format format, bool zeroPoints)
    {
        // K = 70: two blocks of 32 and one of 6 (an odd block count, so zero points pad each row), and N = 37 is odd, so the int4 packing straddles rows.
        using var folder = new TempDirectory();
        var source = QuantizedModels.WriteMatMulModel(folder.File("float.onnx"), 70, 37);
        var options = new Int4WeightOnlyOptions { Format = format, BlockSize = 32, ZeroPoints = zeroPoints };
        var (path, result, _, _) = QuantizedModels.Apply(source, new Int4WeightOnlyPass(options), folder);
        var input = Tensor.FromArray<float>("x", [3, 70], QuantizedModels.RandomValues(210, 3, 1f));

        var cosine = QuantizedModels.Cosine(QuantizedModels.Run(source, input), QuantizedModels.Run(path, input));

        TestContext.WriteLine($"{format} zero points {zeroPoints}: cosine {cosine:F5}");
        Assert.AreEqual(1L, result.Counters["nodes quantized"]);
        Assert.IsGreaterThan(0.99, cosine);
    }
}
