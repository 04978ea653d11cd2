using ModelShrink.Core.Passes.Types;
using ModelShrink.Core.Passes.Fp16;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Testing;
using OrtType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;

namespace ModelShrink.Core.Tests.Fp16;

/// <summary>The fp16 pass on every fixture, measured by ONNX Runtime (CPU) on the 256-sample holdout sets.</summary>
[TestClass]
public sealed class Fp16FixtureTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DynamicData(nameof(Fixtures.AllRows), typeof(Fixtures))]
    public void ConvertedModelRunsInOrtWithOutputsCloseToFloat32(string fixture)
    {
        using var temp = new TempDirectory();
        var converted = Fp16Harness.Convert(fixture, temp);

        var comparison = Fp16Harness.Compare(fixture, converted.Path);

        TestContext.WriteLine($"{fixture}: {comparison}");
        Assert.IsLessThanOrEqualTo(0.005, comparison.RelativeDiff, $"{fixture}: {comparison}");
        Assert.IsGreaterThanOrEqualTo(0.99, comparison.Agreement, $"{fixture}: {comparison}");
        Assert.IsGreaterThanOrEqualTo(comparison.OriginalAccuracy - 0.005, comparison.ConvertedAccuracy, $"{fixture}: {comparison}");
    }

    [TestMethod]
    [DataRow("digits-cnn", 0.55)]
    [DataRow("digits-mlp", 0.55)]
    [DataRow("digits-lstm", 0.55)]
    [DataRow("digits-mlp-constants", 0.55)]
    [DataRow("digits-cnn-if", 0.55)]
    [DataRow("digits-transformer", 0.65)] // 45 small weights in 89 KB: node protos are a third of the file
    public void WeightsTakeHalfTheBytes(string fixture, double fileRatioLimit)
    {
        using var temp = new TempDirectory();
        var original = ModelReader.Load(Fixtures.Model(fixture));

        var converted = Fp16Harness.Convert(fixture, temp);

        var weightRatio = Fp16Harness.WeightBytes(converted.Model) / (double)Fp16Harness.WeightBytes(original);
        var fileRatio = new FileInfo(converted.Path).Length / (double)new FileInfo(Fixtures.Model(fixture)).Length;
        TestContext.WriteLine($"{fixture}: weights {weightRatio:F3}, file {fileRatio:F3} of the original");
        Assert.IsLessThanOrEqualTo(0.55, weightRatio);
        Assert.IsLessThanOrEqualTo(fileRatioLimit, fileRatio);
        Assert.IsFalse(converted.Model.Graph.EnumerateGraphs().SelectMany(g => g.Values)
            .Any(v => v.ConstantTensor is { DataType: DataType.Float }), "a float32 weight is left");
    }

    [TestMethod]
    [DynamicData(nameof(Fixtures.AllRows), typeof(Fixtures))]
    public void InputsAndOutputsStayFloat32UnderTheirNamesWithKeepIoTypes(string fixture)
    {
        using var temp = new TempDirectory();
        var original = ModelReader.Load(Fixtures.Model(fixture));

        var converted = Fp16Harness.Convert(fixture, temp);

        var graph = converted.Model.Graph;
        CollectionAssert.AreEqual(original.Graph.Inputs.Select(v => $"{v.Name}:{v.ElementType}").ToArray(), graph.Inputs.Select(v => $"{v.Name}:{v.ElementType}").ToArray());
        CollectionAssert.AreEqual(original.Graph.Outputs.Select(v => $"{v.Name}:{v.ElementType}").ToArray(), graph.Outputs.Select(v => $"{v.Name}:{v.ElementType}").ToArray());
        var ort = OrtRunner.IoElementTypes(converted.Path);
        var originalOrt = OrtRunner.IoElementTypes(Fixtures.Model(fixture));
        CollectionAssert.AreEquivalent(originalOrt.ToArray(), ort.ToArray());
        Assert.IsTrue(ort.Where(p => p.Key is "input" or "logits").All(p => p.Value == OrtType.Float));
    }

    [TestMethod]
    [DynamicData(nameof(Fixtures.AllRows), typeof(Fixtures))]
    public void NoRedundantCastsAreLeft(string fixture)
    {
        using var temp = new TempDirectory();

        var converted = Fp16Harness.Convert(fixture, temp);

        var types = ElementTypeInference.Infer(converted.Model);
        var casts = converted.Model.Graph.EnumerateNodes().Where(n => n.Is("Cast")).ToList();
        var identity = casts.Count(c => types.TryGetValue(c.Inputs[0]!, out var t) && (long)t == c.GetInt("to", 0));
        var duplicates = casts.Count - casts.Select(c => (c.Graph, c.Inputs[0], c.GetInt("to", 0))).Distinct().Count();
        TestContext.WriteLine($"{fixture}: {casts.Count} casts, {Fp16Harness.CastPairs(converted.Model)} cast->cast pairs, {identity} identity, {duplicates} duplicates");
        Assert.AreEqual(0, Fp16Harness.CastPairs(converted.Model));
        Assert.AreEqual(0, identity);
        Assert.AreEqual(0, duplicates);
    }

    [TestMethod]
    [DataRow("digits-cnn")]
    [DataRow("digits-transformer")]
    [DataRow("digits-cnn-if")]
    public void ConvertingTwiceChangesNothing(string fixture)
    {
        using var temp = new TempDirectory();
        var once = Fp16Harness.Convert(fixture, temp);

        var twice = Fp16Harness.ConvertFile(once.Path, temp);

        Assert.IsFalse(twice.Result.Modified, string.Join(", ", twice.Result.Counters));
        Assert.AreEqual(once.Model.Graph.EnumerateNodes().Count(), twice.Model.Graph.EnumerateNodes().Count());
    }
}
