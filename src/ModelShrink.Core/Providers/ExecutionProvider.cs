namespace ModelShrink.Core.Providers;

/// <summary>The ONNX Runtime execution providers a model can be prepared for (the Providers metadata).</summary>
public enum ExecutionProvider
{
    /// <summary>The CPU provider, always available: the fallback.</summary>
    CPU,

    /// <summary>NVIDIA CUDA (Microsoft.ML.OnnxRuntime.Gpu).</summary>
    CUDA,

    /// <summary>DirectML on Windows (Microsoft.ML.OnnxRuntime.DirectML).</summary>
    DirectML,
}
