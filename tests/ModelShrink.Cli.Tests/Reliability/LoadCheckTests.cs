using Google.Protobuf;
using ModelShrink.Onnx.Protobuf;
using ModelShrink.Testing;

namespace ModelShrink.Cli.Tests.Reliability;

/// <summary>
/// Models that parse and pass the engine's own checks but that ONNX Runtime cannot load: without
/// holdout data nothing used to run them, so compress wrote them with exit 0. Now the staged result
/// is opened in ONNX Runtime before it moves, and a model that does not load is MSH1023 with no output.
/// Not run beside other classes (see <see cref="MutationFuzzTests"/>).
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class LoadCheckTests
{
    [TestMethod]
    [DataRow("op type", DisplayName = "an op type no runtime has (Gemm*\\x12)")]
    [DataRow("attribute type", DisplayName = "an attribute of type UNDEFINED")]
    [DataRow("ir version", DisplayName = "ir_version 2^40")]
    [DataRow("opset 0", DisplayName = "ai.onnx opset 0")]
    [DataRow("shape", DisplayName = "Gemm whose weight does not meet its input (transB flipped)")]
    public void ModelThatOnnxRuntimeCannotLoadFailsWithMsh1023AndNothingIsWritten(string mutation)
    {
        using var temp = new TempDirectory();
        var source = temp.File("model.onnx");
        File.WriteAllBytes(source, Mutate(mutation).ToByteArray());
        var output = temp.File("out.onnx");

        var result = CliRunner.InProcess("compress", source, "-o", output);

        Assert.AreEqual(1, result.ExitCode, result.Stdout + result.Stderr);
        Assert.StartsWith($"{output}: error MSH1023: the compressed model does not load in ONNX Runtime (CPU), so nothing was written: ", result.Stderr);
        Assert.AreEqual(1, result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length, result.Stderr);
        Assert.DoesNotContain(".modelshrink-staging-", result.Stderr);
        CollectionAssert.AreEqual(new[] { source }, Directory.GetFileSystemEntries(temp.Path), "an output or staging folder was left");
    }

    [TestMethod]
    public void TheUnmutatedControlIsWrittenAndLoads()
    {
        using var temp = new TempDirectory();
        var source = temp.File("model.onnx");
        File.WriteAllBytes(source, Proto().ToByteArray());
        var output = temp.File("out.onnx");

        var result = CliRunner.InProcess("compress", source, "-o", output);

        Assert.AreEqual(0, result.ExitCode, result.Stderr);
        Assert.HasCount(32 * 10, OrtRunner.Run(output, Fixtures.Inputs(Fixtures.DataSets("digits-mlp")[0])).Single().Value);
    }

    [TestMethod]
    public void InspectEscapesControlCharactersInNamesInsteadOfPrintingThem()
    {
        using var temp = new TempDirectory();
        var proto = Proto();
        proto.Graph.Input[0].Name = "in\u001b[2J\u001b[31mput\u202e";
        foreach (var node in proto.Graph.Node.Where(n => n.Input.Contains("input")))
        {
            node.Input[node.Input.IndexOf("input")] = proto.Graph.Input[0].Name;
        }

        proto.ProducerName = "bell\u0007";
        var path = temp.File("model.onnx");
        File.WriteAllBytes(path, proto.ToByteArray());

        var result = CliRunner.InProcess("inspect", path);

        Assert.AreEqual(0, result.ExitCode, result.Stderr);
        Assert.IsFalse(result.Stdout.Any(c => c is '\u001b' or '\u0007' or '\u202e'), "a control character reached the terminal");
        Assert.Contains("  in\\x1B[2J\\x1B[31mput\\u202E: float32[N,64]", result.Stdout);
        Assert.Contains("  producer     bell\\x07", result.Stdout);
    }

    private static ModelProto Proto() => ModelProto.Parser.ParseFrom(File.ReadAllBytes(Fixtures.Model("digits-mlp")));

    private static ModelProto Mutate(string mutation)
    {
        var proto = Proto();
        var gemm = proto.Graph.Node.First(n => n.OpType == "Gemm");
        switch (mutation)
        {
            case "op type":
                gemm.OpType = "Gemm*\u0012";
                break;
            case "attribute type":
                gemm.Attribute.First().Type = AttributeProto.Types.AttributeType.Undefined;
                break;
            case "ir version":
                proto.IrVersion = 1L << 40;
                break;
            case "opset 0":
                proto.OpsetImport.Single(o => o.Domain == "").Version = 0;
                break;
            case "shape":
                var transB = gemm.Attribute.Single(a => a.Name == "transB");
                transB.I = 1 - transB.I;
                break;
        }

        return proto;
    }
}
