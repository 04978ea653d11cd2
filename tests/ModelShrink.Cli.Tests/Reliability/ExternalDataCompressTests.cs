using Microsoft.ML.OnnxRuntime;
using ModelShrink.Onnx.IO;
using ModelShrink.Testing;

namespace ModelShrink.Cli.Tests.Reliability;

/// <summary>
/// The large-model path at a size CI can afford: a generated model whose weights live in external
/// data (four 1024x1024 float32 MatMuls, 16 MB) compresses in one pass, with managed allocation
/// bounded by about two copies of the weights, to an output ONNX Runtime loads. The full-size run
/// (3 GB, past protobuf's 2 GB limit, written with external data automatically) is
/// build/bench-large-model.sh; the automatic external data itself is held by HostileFileTests at a
/// lowered limit.
/// </summary>
[TestClass]
public sealed class ExternalDataCompressTests
{
    private const int Side = 1024;
    private const int Layers = 4;
    private const long WeightBytes = (long)Side * Side * 4 * Layers;

    [TestMethod]
    [DataRow("none", 1.0)]
    [DataRow("int8", 0.25)]
    public void ExternalDataModelCompressesInOnePassToAModelThatLoads(string mode, double sizeRatio)
    {
        using var temp = new TempDirectory();
        var source = GeneratedModels.WriteMatMulChain(temp.File("model.onnx"), Side, Layers, new ModelSaveOptions { ExternalDataThreshold = 1024 });
        var output = temp.File("out.onnx");

        var before = GC.GetAllocatedBytesForCurrentThread();
        var result = CliRunner.InProcess("compress", source, "-o", output, "--quantize", mode);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.AreEqual(0, result.ExitCode, result.Stderr);
        Assert.AreEqual(sizeRatio * WeightBytes, new FileInfo(output).Length, 0.02 * WeightBytes);
        // Read once, and (for "none", whose 16 MB output stays inline) copied once into the protobuf.
        Assert.IsLessThan(5 * WeightBytes / 2, allocated, $"allocated {allocated} bytes for {WeightBytes} bytes of weights");
        using var session = new InferenceSession(output);
        Assert.AreEqual("h3", session.OutputNames.Single());
        CollectionAssert.AreEquivalent(new[] { source, source + ".data", output }, Directory.GetFileSystemEntries(temp.Path));
    }
}
