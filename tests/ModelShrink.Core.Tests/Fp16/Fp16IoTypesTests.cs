using ModelShrink.Core.Passes.Fp16;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Testing;
using OrtType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;

namespace ModelShrink.Core.Tests.Fp16;

/// <summary>The model's interface: kept float32 (the default) or float16 (KeepIoTypes = false), and overridable weights.</summary>
[TestClass]
public sealed class Fp16IoTypesTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow("digits-cnn")]
    [DataRow("digits-lstm")]
    [DataRow("digits-transformer")]
    [DataRow("digits-cnn-if")]
    public void WithoutKeepIoTypesFloatInputsAndOutputsAreFloat16AndOrtRunsOnHalfInputs(string fixture)
    {
        using var temp = new TempDirectory();

        var converted = Fp16Harness.Convert(fixture, temp, new Fp16Options { KeepIoTypes = false });

        var ort = OrtRunner.IoElementTypes(converted.Path);
        Assert.AreEqual(OrtType.Float16, ort["input"]);
        Assert.AreEqual(OrtType.Float16, ort["logits"]);
        if (fixture == "digits-cnn-if")
        {
            Assert.AreEqual(OrtType.Bool, ort["use_cnn"]);
        }

        Assert.AreEqual(0L, converted.Result.Counters[Fp16Pass.CastsInserted]);
        var comparison = Fp16Harness.Compare(fixture, converted.Path, Fp16Harness.ToHalf);
        TestContext.WriteLine($"{fixture}: {comparison}");
        Assert.IsLessThanOrEqualTo(0.005, comparison.RelativeDiff);
        Assert.IsGreaterThanOrEqualTo(0.99, comparison.Agreement);
    }

    [TestMethod]
    public void OverridableWeightsStayFloat32InputsThatCanStillBeOverridden()
    {
        using var temp = new TempDirectory();
        var original = ModelReader.Load(Fixtures.Model("digits-mlp-inputs"));

        var converted = Fp16Harness.Convert("digits-mlp-inputs", temp);

        var graph = converted.Model.Graph;
        CollectionAssert.AreEqual(original.Graph.Inputs.Select(v => v.Name).ToArray(), graph.Inputs.Select(v => v.Name).ToArray());
        Assert.IsTrue(graph.Initializers.All(v => v.IsGraphInput && v.Initializer!.DataType == DataType.Float));
        Assert.IsTrue(graph.Initializers.All(v => v.Uses.Count == 1 && v.Uses[0].Node.Is("Cast")), "each overridable weight is read through one Cast");
        Assert.AreEqual(6L, converted.Result.Counters[Fp16Pass.OverridableWeightsKept]);

        // Overriding fc3.bias with zeros still takes effect: the logits drop by the bias.
        var inputs = Fixtures.Inputs(Fixtures.DataSets("digits-mlp-inputs")[0]);
        var bias = original.Graph.FindValue("fc3.bias")!.Initializer!.ToArray<float>();
        var weights = original.Graph.Inputs.Skip(1).Select(v => v.Initializer!).ToList();
        weights[^1] = Tensor.FromArray("fc3.bias", [10], new float[10]);
        var baseline = OrtRunner.Run(converted.Path, inputs)["logits"];
        var overridden = OrtRunner.Run(converted.Path, [.. inputs, .. weights])["logits"];
        for (var i = 0; i < baseline.Length; i++)
        {
            Assert.AreEqual(baseline[i] - bias[i % 10], overridden[i], 0.02);
        }
    }

    [TestMethod]
    public void WithoutKeepIoTypesOverridableWeightsBecomeFloat16Inputs()
    {
        using var temp = new TempDirectory();
        var original = ModelReader.Load(Fixtures.Model("digits-mlp-inputs"));

        var converted = Fp16Harness.Convert("digits-mlp-inputs", temp, new Fp16Options { KeepIoTypes = false });

        var graph = converted.Model.Graph;
        Assert.IsTrue(graph.Inputs.All(v => v.ElementType == DataType.Float16));
        Assert.IsTrue(graph.Initializers.All(v => v.IsGraphInput && v.Initializer!.DataType == DataType.Float16));
        Assert.IsLessThanOrEqualTo(0.55, Fp16Harness.WeightBytes(converted.Model) / (double)Fp16Harness.WeightBytes(original));
        var comparison = Fp16Harness.Compare("digits-mlp-inputs", converted.Path, Fp16Harness.ToHalf);
        TestContext.WriteLine(comparison.ToString());
        Assert.IsGreaterThanOrEqualTo(0.99, comparison.Agreement);
    }
}
