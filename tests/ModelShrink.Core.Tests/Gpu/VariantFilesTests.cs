using ModelShrink.Core.Plans;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Providers;
using ModelShrink.Core.Requests;

namespace ModelShrink.Core.Tests.Gpu;

/// <summary>The files and runtime config when the CUDA variant was chosen on a GPU, and DirectML's options.</summary>
[TestClass]
public sealed class VariantFilesTests
{
    private static readonly ExecutionProvider[] All = [ExecutionProvider.CUDA, ExecutionProvider.DirectML, ExecutionProvider.CPU];

    [TestMethod]
    [DataRow(QuantizeMode.Int4, "m.int4.onnx", "int4")]
    [DataRow(QuantizeMode.None, "m.fp32.onnx", "float32")]
    [DataRow(QuantizeMode.Fp16, "m.fp16.onnx", "float16")]
    public void TheMeasuredCudaModeGetsItsOwnFileAndDirectMlKeepsFloat16(QuantizeMode cuda, string file, string precision)
    {
        var files = VariantPlanner.Files("m", QuantizeMode.Int8, All, cuda);
        var config = VariantPlanner.Plan("m", files, All, cuda);

        var variants = config.Variants.Select(v => $"{v.Provider}:{v.File}:{v.Precision}").ToArray();
        CollectionAssert.AreEqual(new[] { $"CUDA:{file}:{precision}", "DirectML:m.fp16.onnx:float16", "CPU:m.onnx:int8" }, variants);
        Assert.AreEqual(cuda == QuantizeMode.Fp16 ? 2 : 3, files.Count);
    }

    [TestMethod]
    public void ACudaModeEqualToTheCpuModeSharesItsFile()
    {
        var files = VariantPlanner.Files("m", QuantizeMode.Int4, [ExecutionProvider.CUDA, ExecutionProvider.CPU], QuantizeMode.Int4);

        Assert.AreEqual("m.onnx", files.Single().File);
    }

    [TestMethod]
    public void DirectMlVariantsTurnMemoryPatternsOffAndRunSequentially()
    {
        var config = VariantPlanner.Plan("m", VariantPlanner.Files("m", QuantizeMode.Int8, All, QuantizeMode.Int4), All, QuantizeMode.Int4);

        var directMl = config.Variants.Single(v => v.Provider == "DirectML");
        Assert.AreEqual("false", directMl.SessionOptions["EnableMemoryPattern"]);
        Assert.AreEqual("ORT_SEQUENTIAL", directMl.SessionOptions["ExecutionMode"]);
        Assert.IsFalse(config.Variants.Single(v => v.Provider == "CUDA").SessionOptions.ContainsKey("EnableMemoryPattern"));
    }
}
