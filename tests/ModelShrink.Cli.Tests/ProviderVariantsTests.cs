using System.Text.Json;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Testing;

namespace ModelShrink.Cli.Tests;

/// <summary><c>compress --providers</c>: the build's variants and runtime config, from the command line.</summary>
[TestClass]
public sealed class ProviderVariantsTests
{
    [TestMethod]
    public void GpuProvidersGetAFloat16VariantAndTheRuntimeConfigListsThemBesideTheOutput()
    {
        using var temp = new TempDirectory();
        var holdout = Path.Combine(Fixtures.Root, "digits-mlp");

        var result = CliRunner.InProcess("compress", Fixtures.Model("digits-mlp"), "-o", temp.File("digits.onnx"), "--quantize", "int8",
            "--providers", "CPU,CUDA", "--holdout", holdout, "--max-accuracy-drop", "0.02");

        Assert.AreEqual(0, result.ExitCode, result.Stderr);
        CollectionAssert.AreEquivalent(new[] { "digits.onnx", "digits.fp16.onnx", "digits.runtime.json" }, Directory.GetFiles(temp.Path).Select(Path.GetFileName).ToArray());
        using var config = JsonDocument.Parse(File.ReadAllText(temp.File("digits.runtime.json")));
        var variants = config.RootElement.GetProperty("variants").EnumerateArray()
            .Select(v => (Provider: v.GetProperty("provider").GetString(), File: v.GetProperty("file").GetString(), Precision: v.GetProperty("precision").GetString()))
            .ToArray();
        CollectionAssert.AreEqual(new[] { ("CUDA", "digits.fp16.onnx", "float16"), ("CPU", "digits.onnx", "int8") }, variants);

        // Both files are what ONNX Runtime runs, and the float16 one keeps the original's answers.
        Assert.IsGreaterThan(0.999, OrtRunner.Cosine(Fixtures.Model("digits-mlp"), temp.File("digits.fp16.onnx"), holdout));
    }

    [TestMethod]
    public void AGpuVariantThatBreaksABudgetIsWhatTheRunsSentenceSaysAndNothingIsWritten()
    {
        // (x + 1000.3) - 1000 adds 0.3 in float32, but 1000.3 in float16 is 1000.5 (its step there is 0.5), so the
        // float16 CUDA variant breaks MinCosine (0.993 when this test was written) where the int8 CPU model (only
        // the MatMul's weight in 8 bits) holds it (0.99999).
        using var temp = new TempDirectory();
        var model = Model.Create("shifted", 8, ("", 17));
        var graph = model.Graph;
        var x = graph.AddInput("x", TensorType.Of(DataType.Float, "N", 64));
        var shifted = graph.AddNode("Add", [x, graph.AddInitializer(Tensor.FromArray<float>("c1", [1], [1000.3f]))], ["shifted"]).Outputs[0]!;
        var back = graph.AddNode("Sub", [shifted, graph.AddInitializer(Tensor.FromArray<float>("c2", [1], [1000f]))], ["back"]).Outputs[0]!;
        var random = new Random(5);
        var weights = Enumerable.Range(0, 64 * 64).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var y = graph.AddNode("MatMul", [back, graph.AddInitializer(Tensor.FromArray<float>("w", [64, 64], weights))], ["y"]).Outputs[0]!;
        y.Type = TensorType.Of(DataType.Float, "N", 64);
        graph.Outputs.Add(y);
        var source = temp.File("halves.onnx");
        ModelWriter.Save(model, source);
        var holdout = Directory.CreateDirectory(temp.File("holdout")).FullName;
        for (var i = 0; i < 2; i++)
        {
            var set = Directory.CreateDirectory(Path.Combine(holdout, $"test_data_set_{i}")).FullName;
            TensorFile.Write(Tensor.FromArray<float>("x", [8, 64], Enumerable.Range(0, 8 * 64).Select(_ => (float)(random.NextDouble() * 0.4 - 0.2)).ToArray()), Path.Combine(set, "input_0.pb"));
        }

        var output = Directory.CreateDirectory(temp.File("out")).FullName;
        var result = CliRunner.InProcess("compress", source, "-o", Path.Combine(output, "halves-small.onnx"), "--quantize", "int8",
            "--providers", "CPU,CUDA", "--holdout", holdout, "--min-cosine", "0.999", "--json");

        Assert.AreEqual(1, result.ExitCode, result.Stdout + result.Stderr);
        Assert.IsEmpty(Directory.GetFiles(output), "nothing is published when a variant breaks a budget");
        using var json = JsonDocument.Parse(result.Stdout);
        var summary = json.RootElement.GetProperty("summary").GetString()!;
        StringAssert.StartsWith(summary, "Wrote nothing: the GPU variant halves-small.fp16.onnx (");
        StringAssert.Contains(summary, "broke MinCosine");
        StringAssert.Contains(summary, "; the CPU model: Did int8");
        Assert.AreEqual("fp16", json.RootElement.GetProperty("shortfall").GetProperty("candidate").GetString());
    }

    [TestMethod]
    public void AnUnknownProviderIsOneCodedLineAndNothingIsWritten()
    {
        using var temp = new TempDirectory();

        var result = CliRunner.InProcess("compress", Fixtures.Model("digits-mlp"), "-o", temp.File("digits.onnx"), "--providers", "Vulkan");

        Assert.AreEqual(1, result.ExitCode);
        StringAssert.Contains(result.Stderr, "error MSH1014: --providers: 'Vulkan' is not one of CPU, CUDA, DirectML");
        Assert.IsEmpty(Directory.GetFiles(temp.Path));
    }
}
