namespace ModelShrink.Core.Gpu;

/// <summary>The ONNX Runtime execution provider the engine runs a model on (validation, latency).</summary>
public enum RunProvider
{
    /// <summary>CPUExecutionProvider: always there, deterministic with one thread.</summary>
    CPU,

    /// <summary>CUDAExecutionProvider, device 0: needs ONNX Runtime's CUDA build, an NVIDIA GPU, its driver and CUDA 13 / cuDNN 9 libraries.</summary>
    CUDA,
}

/// <summary>ONNX Runtime's names for <see cref="RunProvider"/>.</summary>
public static class RunProviderNames
{
    /// <summary>The provider's name in ONNX Runtime (what its profiles and GetAvailableProviders say).</summary>
    public static string OrtName(this RunProvider provider) => provider == RunProvider.CUDA ? "CUDAExecutionProvider" : "CPUExecutionProvider";
}
