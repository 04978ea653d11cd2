using ModelShrink.Core.Search;
using ModelShrink.Core.Requests;
using ModelShrink.Shared.Contracts;
using ModelShrink.Core.Settings;
using ModelShrink.Core.Gpu;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Gpu;

/// <summary>Where a CUDA variant is validated, and the one warning when the GPU cannot be used.</summary>
[TestClass]
public sealed class GpuValidationTests
{
    private static readonly CudaStatus NoDriver = new(new CudaFailure(ErrorCodes.GpuDriverTooOld, "the NVIDIA driver is older than CUDA 13"), null);
    private static readonly CudaStatus Ready = new(null, "CUDAExecutionProvider, device 0");

    [TestMethod]
    public void NotAskedForOrNoCudaProviderMeansCpuWithoutProbing()
    {
        var diagnostics = new List<Diagnostic>();
        Func<CudaStatus> probe = () => throw new InvalidOperationException("must not probe");

        var off = GpuValidation.Check(false, Settings("CPU;CUDA"), "m.onnx", diagnostics, probe);
        var noCuda = GpuValidation.Check(true, Settings("CPU;DirectML"), "m.onnx", diagnostics, probe);

        Assert.IsFalse(off.OnGpu);
        Assert.IsFalse(noCuda.OnGpu);
        Assert.IsNull(off.Reason);
        Assert.IsEmpty(diagnostics);
    }

    [TestMethod]
    public void AnUnusableGpuIsOneCodedWarningAndValidationStaysOnTheCpu()
    {
        var diagnostics = new List<Diagnostic>();

        var plan = GpuValidation.Check(true, Settings("CPU;CUDA"), "m.onnx", diagnostics, () => NoDriver);

        Assert.IsFalse(plan.OnGpu);
        var warning = diagnostics.Single();
        Assert.AreEqual(ErrorCodes.GpuDriverTooOld, warning.Code);
        Assert.AreEqual(DiagnosticSeverity.Warning, warning.Severity);
        Assert.AreEqual("ModelShrinkGpuValidation", warning.Setting);
        Assert.AreEqual("the NVIDIA driver is older than CUDA 13; the CUDA variant is validated on the CPU instead", warning.Message);
        StringAssert.Contains(plan.Reason, "[MSH3207]");
    }

    [TestMethod]
    public void AUsableGpuValidatesOnIt()
    {
        var diagnostics = new List<Diagnostic>();

        var plan = GpuValidation.Check(true, Settings("CUDA;CPU"), "m.onnx", diagnostics, () => Ready);

        Assert.IsTrue(plan.OnGpu);
        Assert.IsEmpty(diagnostics);
    }

    [TestMethod]
    public void ABuildAskingForGpuValidationOnThisCpuOnlyMachineWarnsOnceAndSaysSoInTheSummary()
    {
        using var temp = new TempDirectory();
        var request = new BuildRequest
        {
            ProjectFile = temp.File("App.csproj"),
            OnnxRuntimeVersion = "1.31.1",
            OnnxRuntimePackages = ["Microsoft.ML.OnnxRuntime", "Microsoft.ML.OnnxRuntime.Gpu"],
            GpuValidation = true,
            Items = [new BuildRequestItem
            {
                ItemSpec = "Models/digits.onnx", Source = Fixtures.Model("digits-mlp"), OutputDirectory = temp.File("out"),
                Metadata = new Dictionary<string, string> { ["OutputName"] = "digits", ["Quantize"] = "Int8", ["Providers"] = "CUDA;CPU" },
            }],
        };

        var response = BuildRunner.Run(request);

        var item = response.Items.Single();
        Assert.IsTrue(item.Succeeded);
        Assert.AreEqual(ErrorCodes.GpuRuntimeMissing, response.Diagnostics.Single().Code);
        StringAssert.Contains(item.Summary, "digits.fp16.onnx");
        StringAssert.Contains(item.Summary, "validated on the CPU");
        StringAssert.Contains(item.Summary, "GPU validation was asked for, but the engine's ONNX Runtime has no CUDA provider");
    }

    private static ItemSettings Settings(string providers) =>
        ItemSettings.Parse(new Dictionary<string, string> { ["Providers"] = providers }, "m.onnx", "m.onnx", ".");
}
