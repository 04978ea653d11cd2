using ModelShrink.Core.Plans;
using Microsoft.ML.OnnxRuntime;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Providers;
using ModelShrink.Core.Requests;
using ModelShrink.Testing;

namespace ModelShrink.Runtime.Tests;

[TestClass]
public sealed class CompressedModelTests
{
    private static readonly ExecutionProvider[] AllProviders = [ExecutionProvider.CUDA, ExecutionProvider.DirectML, ExecutionProvider.CPU];

    [TestMethod]
    public void WithoutGpuProvidersTheCpuVariantIsChosenAndTheReasonsSayWhichPackageIsMissing()
    {
        using var temp = new TempDirectory();
        var config = WriteConfig(temp, AllProviders);

        using var model = CompressedModel.Load(config, new FakeHost(["CPUExecutionProvider"]));

        Assert.AreEqual("CPU", model.Provider);
        Assert.HasCount(2, model.FallbackReasons);
        StringAssert.StartsWith(model.FallbackReasons[0], "CUDA: CUDAExecutionProvider is not in this ONNX Runtime build (reference Microsoft.ML.OnnxRuntime.Gpu)");
        StringAssert.StartsWith(model.FallbackReasons[1], "DirectML: DmlExecutionProvider is not in this ONNX Runtime build (reference Microsoft.ML.OnnxRuntime.DirectML)");
        Assert.AreEqual(GraphOptimizationLevel.ORT_ENABLE_ALL, model.SessionOptions.GraphOptimizationLevel);
    }

    [TestMethod]
    public void AProviderThatFailsToStartFallsBackToTheNextWithItsError()
    {
        using var temp = new TempDirectory();
        var config = WriteConfig(temp, AllProviders);
        var host = new FakeHost(["CUDAExecutionProvider", "CPUExecutionProvider"]) { Failing = { ["CUDA"] = "libcudart.so.12: cannot open shared object file" } };

        using var model = CompressedModel.Load(config, host);

        Assert.AreEqual("CPU", model.Provider);
        Assert.AreEqual("CUDA: the provider did not start (libcudart.so.12: cannot open shared object file)", model.FallbackReasons[0]);
        CollectionAssert.AreEqual(new[] { "CUDA", "CPU" }, host.Appended);
    }

    [TestMethod]
    public void DirectMlGetsMemoryPatternOffAndSequentialExecution()
    {
        using var temp = new TempDirectory();
        var config = WriteConfig(temp, AllProviders);
        var host = new FakeHost(["DmlExecutionProvider", "CPUExecutionProvider"]);

        using var model = CompressedModel.Load(config, host);

        Assert.AreEqual("DirectML", model.Provider);
        Assert.IsFalse(model.SessionOptions.EnableMemoryPattern);
        Assert.AreEqual(ExecutionMode.ORT_SEQUENTIAL, model.SessionOptions.ExecutionMode);
        Assert.HasCount(1, model.FallbackReasons);
    }

    [TestMethod]
    public void TheChosenCpuSessionComputesWhatOrtComputesOnTheModelFile()
    {
        using var temp = new TempDirectory();
        var config = WriteConfig(temp, AllProviders);
        var inputs = Fixtures.Inputs(Fixtures.DataSets("digits-mlp")[0]);

        using var model = CompressedModel.Load(config);
        using var session = model.CreateSession();
        var input = inputs[0].ToArray<float>();
        using var value = OrtValue.CreateTensorValueFromMemory(input, inputs[0].Dims.ToArray());
        using var results = session.Run(new RunOptions(), [session.InputNames[0]], [value], session.OutputNames);

        Assert.AreEqual("CPU", model.Provider);
        var expected = OrtRunner.Run(Fixtures.Model("digits-mlp"), inputs)["logits"];
        CollectionAssert.AreEqual(expected, results[0].GetTensorDataAsSpan<float>().ToArray());
    }

    [TestMethod]
    public void AMalformedConfigIsAClearError()
    {
        using var temp = new TempDirectory();
        var path = temp.File("bad.runtime.json");
        File.WriteAllText(path, "{ \"formatVersion\": 7, \"variants\": [] }");

        var error = Assert.ThrowsExactly<ModelRuntimeException>(() => CompressedModel.Load(path, new FakeHost(["CPUExecutionProvider"])));

        StringAssert.Contains(error.Message, "runtime config of format 7 with 0 variants is not supported");
    }

    // The runtime config exactly as the engine writes it, next to a copy of a fixture model.
    private static string WriteConfig(TempDirectory temp, ExecutionProvider[] providers)
    {
        File.Copy(Fixtures.Model("digits-mlp"), temp.File("digits.onnx"));
        var path = temp.File("digits.runtime.json");
        VariantPlanner.Plan("digits", VariantPlanner.Files("digits", QuantizeMode.None, providers), providers).Write(path);
        return path;
    }

    private sealed class FakeHost(string[] available) : IProviderHost
    {
        public IReadOnlyCollection<string> AvailableProviders => available;

        public Dictionary<string, string> Failing { get; } = [];

        public List<string> Appended { get; } = [];

        public void Append(SessionOptions options, string provider, int deviceId)
        {
            Appended.Add(provider);
            if (Failing.TryGetValue(provider, out var error))
            {
                throw new InvalidOperationException(error);
            }
        }
    }
}
