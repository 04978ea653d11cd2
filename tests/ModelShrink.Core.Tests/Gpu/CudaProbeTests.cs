using ModelShrink.Core.Search;
using ModelShrink.Core.Requests;
using ModelShrink.Core.Gpu;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;

namespace ModelShrink.Core.Tests.Gpu;

/// <summary>Why the CUDA provider cannot run, told apart from what ONNX Runtime says (no GPU needed).</summary>
[TestClass]
public sealed class CudaProbeTests
{
    [TestMethod]
    [DataRow("CUDA failure 35: CUDA driver version is insufficient for CUDA runtime version ; GPU=0", ErrorCodes.GpuDriverTooOld, "driver")]
    [DataRow("CUDA failure 100: no CUDA-capable device is detected ; GPU=-1", ErrorCodes.GpuNotFound, "no NVIDIA GPU")]
    [DataRow("libcuda.so.1: cannot open shared object file: No such file or directory", ErrorCodes.GpuNotFound, "no NVIDIA GPU")]
    [DataRow("Failed to load library libonnxruntime_providers_cuda.so with error: libcudnn.so.9: cannot open shared object file", ErrorCodes.GpuLibrariesMissing, "LD_LIBRARY_PATH")]
    [DataRow("[ErrorCode:Fail] OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library", ErrorCodes.GpuLibrariesMissing, "cuDNN 9")]
    public void FailuresAreClassifiedByWhatOnnxRuntimeSays(string message, string code, string hint)
    {
        var failure = CudaFailure.Classify(message);

        Assert.AreEqual(code, failure.Code);
        StringAssert.Contains(failure.Reason, hint);
    }

    [TestMethod]
    public void ACpuBuildOfOnnxRuntimeIsGpuRuntimeMissingWithoutATrial()
    {
        var host = new FakeHost(["CPUExecutionProvider"], () => throw new InvalidOperationException("must not run"));

        var status = CudaProbe.Probe(host);

        Assert.IsFalse(status.Available);
        Assert.AreEqual(ErrorCodes.GpuRuntimeMissing, status.Failure!.Code);
        StringAssert.Contains(status.Failure.Reason, "ModelShrinkGpuValidation=true");
    }

    [TestMethod]
    public void ATrialThatThrowsIsClassifiedAndNeverEscapes()
    {
        var host = new FakeHost(["CUDAExecutionProvider", "CPUExecutionProvider"],
            () => throw new InvalidOperationException("CUDA failure 35: CUDA driver version is insufficient for CUDA runtime version"));

        var status = CudaProbe.Probe(host);

        Assert.AreEqual(ErrorCodes.GpuDriverTooOld, status.Failure!.Code);
    }

    [TestMethod]
    public void ATrialThatRunsMakesCudaAvailable()
    {
        var status = CudaProbe.Probe(new FakeHost(["CUDAExecutionProvider", "CPUExecutionProvider"], () => "CUDAExecutionProvider, device 0"));

        Assert.IsTrue(status.Available);
        Assert.AreEqual("CUDAExecutionProvider, device 0", status.Device);
    }

    [TestMethod]
    public void ThisMachinesCpuBuildReportsGpuRuntimeMissing()
    {
        // The test host loads Microsoft.ML.OnnxRuntime (CPU): the real probe must say so, not crash.
        var status = CudaProbe.Probe(new OrtCudaHost());

        Assert.AreEqual(ErrorCodes.GpuRuntimeMissing, status.Failure!.Code);
    }

    private sealed class FakeHost(IReadOnlyCollection<string> providers, Func<string> trial) : ICudaHost
    {
        public IReadOnlyCollection<string> AvailableProviders() => providers;

        public string RunTrial() => trial();
    }
}
