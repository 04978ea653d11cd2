using ModelShrink.Core.Plans;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Passes.Fp16;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Fp16;

/// <summary>The fp16 pass behind <see cref="QuantizeMode.Fp16"/>.</summary>
[TestClass]
public sealed class Fp16PipelineTests
{
    [TestMethod]
    public void CompressingInFp16ModeRunsTheFp16PassWithItsOptions()
    {
        using var temp = new TempDirectory();
        var output = temp.File("cnn-fp16.onnx");
        var options = new CompressionOptions { Quantize = QuantizeMode.Fp16, Fp16 = new Fp16Options { KeepIoTypes = false } };

        var result = Compressor.Run(Fixtures.Model("digits-cnn"), output, options);

        Assert.Contains(QuantizeMode.Fp16, PipelineFactory.SupportedModes);
        CollectionAssert.AreEqual(new[] { "cleanup", "fp16" }, result.Passes.Select(p => p.Pass).ToArray());
        Assert.AreEqual(10L, result.Passes[1].Result.Counters[Fp16Pass.WeightsConverted]);
        Assert.IsLessThanOrEqualTo(0.55, result.SizeRatio);
        Assert.AreEqual(Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float16, OrtRunner.IoElementTypes(output)["input"]);
    }
}
