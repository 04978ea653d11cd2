using ModelShrink.Core.Passes;
using ModelShrink.Core.Passes.Fp16;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Testing;
using static ModelShrink.Core.Tests.Fp16.ProtoModels;

namespace ModelShrink.Core.Tests.Fp16;

/// <summary>float32 -> float16 weight data: rounding, clamping into float16's range, options.</summary>
[TestClass]
public sealed class Fp16WeightConversionTests
{
    private static readonly float[] OutOfRange = [1e6f, -1e6f, 1e-9f, -1e-9f, 0f, float.PositiveInfinity, float.NaN, 1.5f, 70000f];

    [TestMethod]
    public void WeightsOutsideFloat16RangeAreClampedCountedAndReported()
    {
        using var temp = new TempDirectory();
        var source = ModelWithWeight(temp, OutOfRange);

        var converted = Fp16Harness.ConvertFile(source, temp, new Fp16Options { KeepOutOfRange = false });

        var values = converted.Model.Graph.FindValue("w")!.Initializer!.ToArray<Half>();
        var smallest = Half.Epsilon; // 2^-24, float16's smallest subnormal
        CollectionAssert.AreEqual(
            new[] { Half.MaxValue, Half.MinValue, smallest, -smallest, (Half)0f, Half.PositiveInfinity, Half.NaN, (Half)1.5f, Half.MaxValue },
            values);
        Assert.AreEqual(5L, converted.Result.Counters[Fp16Pass.ValuesClamped]);
        var warning = converted.Context.Diagnostics.Single();
        Assert.AreEqual(ErrorCodes.Fp16ValuesClamped, warning.Code);
        StringAssert.Contains(warning.Message, "'w' (5, read by Mul 'y_node')");
    }

    [TestMethod]
    public void ClampingBoundsAreOptions()
    {
        using var temp = new TempDirectory();
        var source = ModelWithWeight(temp, [2e4f, -3e-7f, 5e3f, 1e-6f]);

        var converted = Fp16Harness.ConvertFile(source, temp, new Fp16Options { MaxFiniteValue = 1e4f, MinPositiveValue = 1e-6f, KeepOutOfRange = false });

        var values = converted.Model.Graph.FindValue("w")!.Initializer!.ToArray<Half>();
        CollectionAssert.AreEqual(new[] { (Half)1e4f, (Half)(-1e-6f), (Half)5e3f, (Half)1e-6f }, values);
        Assert.AreEqual(2L, converted.Result.Counters[Fp16Pass.ValuesClamped]);
    }

    [TestMethod]
    [DataRow(1e5f, 5.96e-8f, nameof(Fp16Options.MaxFiniteValue))]
    [DataRow(65504f, 1e-9f, nameof(Fp16Options.MinPositiveValue))]
    [DataRow(1f, 2f, nameof(Fp16Options.MinPositiveValue))]
    [DataRow(float.NaN, 5.96e-8f, nameof(Fp16Options.MaxFiniteValue))]
    public void BoundsOutsideFloat16AreRejected(float maxFinite, float minPositive, string setting)
    {
        var model = ModelReader.Load(Fixtures.Model("digits-mlp"));
        var pass = new Fp16Pass(new Fp16Options { MaxFiniteValue = maxFinite, MinPositiveValue = minPositive });

        var error = Assert.ThrowsExactly<ModelShrinkException>(() => pass.Run(model, new PassContext("m.onnx")));

        Assert.AreEqual(ErrorCodes.InvalidArgument, error.Diagnostic.Code);
        Assert.AreEqual(setting, error.Diagnostic.Setting);
    }

    [TestMethod]
    public void ModelsBeforeOpset6AreRefused()
    {
        using var temp = new TempDirectory();
        var source = Save(temp, "old", Graph("old", [Node("Relu", ["x"], ["y"])], [Info("x", DataType.Float, 2)], [Info("y", DataType.Float, 2)]), opset: 5);
        var model = ModelReader.Load(source);

        var error = Assert.ThrowsExactly<ModelShrinkException>(() => new Fp16Pass(new Fp16Options()).Run(model, new PassContext(source)));

        Assert.AreEqual(ErrorCodes.UnsupportedModel, error.Diagnostic.Code);
    }

    [TestMethod]
    public void LargeTensorsConvertInParallelChunksExactlyAsScalarRounding()
    {
        var random = new Random(7);
        var values = new float[3_000_017]; // several parallel chunks and a ragged tail
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-10, 7)));
        }

        values[12_345] = 1e9f;
        values[2_999_999] = -1e-12f;
        var converter = new HalfConverter(Fp16Pass.SmallestHalf, 65504f);

        var result = converter.Convert(Tensor.FromArray("big", [values.Length], values));

        var expectedClamped = 0L;
        var expected = values.Select(v =>
        {
            var magnitude = MathF.Abs(v);
            if (magnitude > 0 && magnitude < Fp16Pass.SmallestHalf)
            {
                expectedClamped++;
                return (Half)MathF.CopySign(Fp16Pass.SmallestHalf, v);
            }

            if (magnitude > 65504f && float.IsFinite(v))
            {
                expectedClamped++;
                return (Half)MathF.CopySign(65504f, v);
            }

            return (Half)v;
        }).ToArray();
        CollectionAssert.AreEqual(expected, result.Tensor.ToArray<Half>());
        Assert.AreEqual(expectedClamped, result.Clamped);
        Assert.IsGreaterThan(2L, expectedClamped);
    }

    private static string ModelWithWeight(TempDirectory temp, float[] weight) =>
        Save(temp, "weight", Graph("weight", [Node("Mul", ["x", "w"], ["y"])],
            [Info("x", DataType.Float, weight.Length)], [Info("y", DataType.Float, weight.Length)], [Floats("w", [weight.Length], weight)]));
}
