using ModelShrink.Core.Passes;
using ModelShrink.Core.Passes.Int4WeightOnly;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.IO;
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

    [TestMethod]
    [DataRow(32, false)]
    [DataRow(32, true)]
    [DataRow(64, false)]
    public void TransformerMatMulsBecomeMatMulNBitsAndAgreeWithTheOriginal(int blockSize, bool zeroPoints)
    {
        using var folder = new TempDirectory();
        var options = new Int4WeightOnlyOptions { BlockSize = blockSize, ZeroPoints = zeroPoints };
        var (path, result, _, model) = QuantizedModels.Apply(Fixtures.Model("digits-transformer"), new Int4WeightOnlyPass(options), folder);

        var original = QuantizedModels.Logits(Fixtures.Model("digits-transformer"), "digits-transformer");
        var quantized = QuantizedModels.Logits(path, "digits-transformer");
        var agreement = QuantizedModels.Agreement(original, quantized);

        TestContext.WriteLine($"block {blockSize} zero points {zeroPoints}: agreement {agreement:P2}, accuracy " +
            $"{QuantizedModels.Accuracy(original, "digits-transformer"):P2} -> {QuantizedModels.Accuracy(quantized, "digits-transformer"):P2}");
        Assert.AreEqual(13L, result.Counters["nodes quantized"]);
        Assert.AreEqual(13, QuantizedModels.OpCounts(path)["MatMulNBits"]);
        Assert.AreEqual(1L, model.Opsets["com.microsoft"]);
        Assert.IsGreaterThanOrEqualTo(0.97, agreement);
    }

    [TestMethod]
    public void QdqFormRefusesWithMSH2206WhenTheOpsetCannotReach21()
    {
        var model = ModelReader.Load(Fixtures.Model("digits-transformer"));

        var error = Assert.ThrowsExactly<ModelShrinkException>(() =>
            new Int4WeightOnlyPass(new Int4WeightOnlyOptions { Format = Int4Format.Qdq }).Run(model, new PassContext("t.onnx")));

        Assert.AreEqual(ErrorCodes.Int4OpsetTooLow, error.Diagnostic.Code);
        StringAssert.Contains(error.Diagnostic.Message, "ReduceMean");
        StringAssert.Contains(error.Diagnostic.Message, "use --int4-format matmulnbits");
    }

    [TestMethod]
    public void QdqFormRaisesAnOpset17MatMulModelTo21()
    {
        using var folder = new TempDirectory();
        var source = QuantizedModels.WriteMatMulModel(folder.File("float.onnx"), 64, 8, opset: 17);

        var (_, result, _, model) = QuantizedModels.Apply(source, new Int4WeightOnlyPass(new Int4WeightOnlyOptions { Format = Int4Format.Qdq }), folder);

        Assert.AreEqual(21L, model.Opsets.Default);
        Assert.AreEqual(10L, model.IrVersion);
        Assert.AreEqual(21L, result.Counters["opset raised to"]);
    }

    [TestMethod]
    [DataRow(24)]
    [DataRow(8)]
    public void BlockSizeThatIsNoPowerOfTwoOfAtLeast16IsRefusedWithMSH2204(int blockSize)
    {
        var model = ModelReader.Load(Fixtures.Model("digits-transformer"));

        var error = Assert.ThrowsExactly<ModelShrinkException>(() =>
            new Int4WeightOnlyPass(new Int4WeightOnlyOptions { BlockSize = blockSize }).Run(model, new PassContext("t.onnx")));

        Assert.AreEqual(ErrorCodes.QuantInvalidOption, error.Diagnostic.Code);
        Assert.AreEqual("--block-size", error.Diagnostic.Setting);
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void ConvWeightsTakeInt4InBlocksThatOnnxRuntimeRebuildsAsWritten(bool zeroPoints)
    {
        using var folder = new TempDirectory();
        var source = Fixtures.Model("digits-cnn");
        var options = new Int4WeightOnlyOptions { OpTypes = ["Conv"], BlockSize = 16, ZeroPoints = zeroPoints };

        var (path, result, _, quantized) = QuantizedModels.Apply(source, new Int4WeightOnlyPass(options), folder);

        // Each Conv reads its weight through a chain from int4 codes that ONNX Runtime folds at load (Cast from int4: opset 21).
        Assert.AreEqual(3L, result.Counters["nodes quantized"]);
        Assert.AreEqual(21L, quantized.Opsets.Default);
        var counts = QuantizedModels.OpCounts(path);
        Assert.AreEqual((zeroPoints ? 6 : 3) + QuantizedModels.OpCounts(source).GetValueOrDefault("Cast"), counts["Cast"]);
        Assert.IsFalse(counts.ContainsKey("DequantizeLinear"));
        Assert.IsTrue(quantized.Graph.Initializers.Where(v => v.Name.EndsWith("_int4", StringComparison.Ordinal))
            .All(v => v.ConstantTensor!.DataType == (zeroPoints ? DataType.UInt4 : DataType.Int4)));

        // The reference: the original with each Conv weight replaced by its int4 codes dequantized here,
        // by the ONNX rule for blocked quantization, apart from ONNX Runtime. ORT must compute the same.
        var reference = ModelReader.Load(source);
        foreach (var conv in reference.Graph.Nodes.Where(n => n.OpType == "Conv"))
        {
            var weight = conv.Inputs[1]!;
            var codes = quantized.Graph.Initializers.Single(v => v.Name == weight.Name + "_int4").ConstantTensor!;
            var scales = quantized.Graph.Initializers.Single(v => v.Name == weight.Name + "_scale").ConstantTensor!.ToArray<float>();
            var zeros = quantized.Graph.Initializers.SingleOrDefault(v => v.Name == weight.Name + "_zero_point")?.ConstantTensor;
            var rows = (int)weight.ConstantTensor!.Dims[0];
            reference.Graph.ReplaceInitializer(weight, Tensor.FromArray<float>(weight.Name, weight.ConstantTensor.Dims.ToArray(),
                Dequantize(codes, scales, zeros, (int)(weight.ConstantTensor.ElementCount / rows))));
        }

        var referencePath = folder.File("reference.onnx");
        ModelWriter.Save(reference, referencePath);
        var expected = QuantizedModels.Logits(referencePath, "digits-cnn");
        var actual = QuantizedModels.Logits(path, "digits-cnn");
        Assert.AreEqual(1.0, QuantizedModels.Cosine(expected, actual), 1e-6, "ONNX Runtime dequantizes the blocks as written");
        Assert.IsTrue(expected.Zip(actual).All(p => Math.Abs(p.First - p.Second) <= 1e-4 * (1 + Math.Abs(p.First))));

        // And it stays close to the float model.
        var cosine = QuantizedModels.Cosine(QuantizedModels.Logits(source, "digits-cnn"), actual);
        TestContext.WriteLine($"zero points {zeroPoints}: cosine to float {cosine:F5}");
        Assert.IsGreaterThan(0.98, cosine);
    }

    // codes [M, blocks, B] (int4, or uint4 with zero points [M, blocks, 1]) and scales [M, blocks, 1]:
    // each row's first `columns` codes are the weight, the rest padding.
    private static float[] Dequantize(Tensor codes, float[] scales, Tensor? zeros, int columns)
    {
        var (rows, blocks, blockSize) = ((int)codes.Dims[0], (int)codes.Dims[1], (int)codes.Dims[2]);
        var raw = codes.GetRawData().ToArray();
        var zeroBytes = zeros?.GetRawData().ToArray();
        var result = new float[rows * columns];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < columns; c++)
            {
                var index = r * blocks * blockSize + c;
                var nibble = (raw[index / 2] >> (index % 2 * 4)) & 0xF;
                var q = zeros is null ? (nibble ^ 8) - 8 : nibble;
                var block = r * blocks + c / blockSize;
                var zero = zeroBytes is null ? 0 : (zeroBytes[block / 2] >> (block % 2 * 4)) & 0xF;
                result[r * columns + c] = (q - zero) * scales[block];
            }
        }

        return result;
    }

    [TestMethod]
    public void ModelWithoutMatMulWeightsIsLeftUnchangedWithMSH2207()
    {
        var model = ModelReader.Load(Fixtures.Model("digits-mlp"));
        var context = new PassContext("m.onnx");

        var result = new Int4WeightOnlyPass(new Int4WeightOnlyOptions()).Run(model, context);

        Assert.IsFalse(result.Modified);
        Assert.AreEqual(ErrorCodes.QuantNothingQuantized, context.Diagnostics.Single().Code);
    }
}
