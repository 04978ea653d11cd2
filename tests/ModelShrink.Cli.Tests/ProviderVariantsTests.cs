using System.Text.Json;
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
    public void AnUnknownProviderIsOneCodedLineAndNothingIsWritten()
    {
        using var temp = new TempDirectory();

        var result = CliRunner.InProcess("compress", Fixtures.Model("digits-mlp"), "-o", temp.File("digits.onnx"), "--providers", "Vulkan");

        Assert.AreEqual(1, result.ExitCode);
        StringAssert.Contains(result.Stderr, "error MSH1014: --providers: 'Vulkan' is not one of CPU, CUDA, DirectML");
        Assert.IsEmpty(Directory.GetFiles(temp.Path));
    }
}
