using ModelShrink.Core.Plans;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Passes.Fp16;
using ModelShrink.Core.Search;
using ModelShrink.Core.Validation;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Fp16;

/// <summary>
/// Nodes whose values float16 cannot hold stay float32: measured on digits-cnn-fp16-overflow (a
/// BatchNormalization variance of 1e8, and a conv2 channel that reaches 1.7e5 on the holdout), with
/// ONNX Runtime's numbers.
/// </summary>
[TestClass]
public sealed class Fp16RangeTests
{
    private const string Fixture = "digits-cnn-fp16-overflow";

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void HalfErrorIsRoundingForNormalValuesAndLargeForOverflowOrSubnormals()
    {
        var normal = new HalfError();
        normal.Add(Enumerable.Range(1, 5000).Select(i => i * 0.37f).ToArray());
        var tiny = new HalfError();
        tiny.Add(Enumerable.Range(1, 100).Select(i => i * 1e-7f).ToArray());
        var huge = new HalfError();
        huge.Add([1f, 2f, 1e8f, float.NaN]);

        Assert.IsLessThan(5e-4, normal.Relative);
        Assert.IsFalse(normal.Overflows);
        Assert.IsGreaterThan(1e-3, tiny.Relative);
        Assert.IsTrue(huge.Overflows);
        Assert.AreEqual(double.PositiveInfinity, huge.Relative);
        Assert.AreEqual(1e8f, huge.MaxMagnitude);
    }

    [TestMethod]
    public void PlainConversionClampsTheVarianceAndDistortsTheOutputs()
    {
        using var temp = new TempDirectory();

        var plain = Fp16Harness.Convert(Fixture, temp, new Fp16Options { KeepOutOfRange = false });

        var comparison = Fp16Harness.Compare(Fixture, plain.Path);
        TestContext.WriteLine($"plain: {comparison}");
        Assert.IsGreaterThan(0.5, comparison.RelativeDiff, comparison.ToString());
        Assert.AreEqual(ErrorCodes.Fp16ValuesClamped, plain.Context.Diagnostics.Single().Code);
        StringAssert.Contains(plain.Context.Diagnostics.Single().Message, "'bn0.var' (16, read by BatchNormalization '/bn0/BatchNormalization')");
    }

    [TestMethod]
    public void WithoutDataTheWeightReadersStayFloat32AndAWarningNamesThem()
    {
        using var temp = new TempDirectory();

        var converted = Fp16Harness.Convert(Fixture, temp);

        var comparison = Fp16Harness.Compare(Fixture, converted.Path);
        TestContext.WriteLine($"weights checked: {comparison}");
        Assert.IsLessThan(0.005, comparison.RelativeDiff, comparison.ToString());
        Assert.AreEqual(1L, converted.Result.Counters[Fp16Pass.NodesKeptForRange]);
        var warning = converted.Context.Diagnostics.Single();
        Assert.AreEqual(ErrorCodes.Fp16NodesKeptForRange, warning.Code);
        StringAssert.Contains(warning.Message, "'/bn0/BatchNormalization' (weight 'bn0.var' up to 1E+08)");
        Assert.AreEqual("Holdout", warning.Setting);
        Assert.AreEqual("Float", DataType(converted, "bn0.var"));
    }

    [TestMethod]
    public void WithDataTheOverflowingActivationsProducersAndReadersStayFloat32()
    {
        using var temp = new TempDirectory();
        var data = Path.Combine(Fixtures.Root, Fixture);

        var converted = Fp16Harness.Convert(Fixture, temp, new Fp16Options { RangeData = data });

        var kept = converted.Model.Graph.Nodes.Where(n => !n.Is("Cast") && n.Inputs.Concat(n.Outputs).Any(v => v is not null && Fp16Harness.TypeOf(converted.Model, v) == Onnx.Tensors.DataType.Float)).Select(n => n.Name).ToArray();
        TestContext.WriteLine(string.Join(", ", kept));
        CollectionAssert.IsSubsetOf(new[] { "/bn0/BatchNormalization", "/conv2/Conv", "/Relu_1", "/pool/MaxPool", "/conv3/Conv" }, kept);
        Assert.AreEqual(5L, converted.Result.Counters[Fp16Pass.NodesKeptForRange]);
        Assert.IsEmpty(converted.Context.Diagnostics, string.Join("; ", converted.Context.Diagnostics.Select(d => d.Message)));
        var comparison = Fp16Harness.Compare(Fixture, converted.Path);
        Assert.IsLessThan(0.001, comparison.RelativeDiff, comparison.ToString());
    }

    [TestMethod]
    public void Fp16WithHoldoutRunsTheBlockSearchAndSaysWhy()
    {
        using var temp = new TempDirectory();
        var data = Path.Combine(Fixtures.Root, Fixture);
        var settings = new JobSettings(new CompressionOptions { Quantize = QuantizeMode.Fp16 }, new Budgets.SizeBudget(null, null),
            new Budgets.AccuracyBudget(null, null, 0.99999), data, new ValidationOptions(null, null));

        var result = CompressionRun.Run(Fixtures.Model(Fixture), temp.File("out.onnx"), settings, Fixture);

        Assert.IsFalse(result.Failed, string.Join("; ", result.Diagnostics.Select(d => d.Message)));
        Assert.IsGreaterThanOrEqualTo(0.99999, result.Validation!.Values.Cosine);
        StringAssert.StartsWith(result.Reason, "Fp16 kept 5 node(s) in float32");
    }

    private static string DataType(Converted converted, string value) =>
        converted.Model.Graph.FindValue(value)!.Initializer!.DataType.ToString();
}
