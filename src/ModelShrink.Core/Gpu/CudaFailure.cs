using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;

namespace ModelShrink.Core.Gpu;

/// <summary>Why the CUDA provider cannot run here: a code and one sentence for the user.</summary>
/// <param name="Code">MSH3204 (no CUDA build of ONNX Runtime), MSH3205 (no GPU), MSH3206 (CUDA libraries missing) or MSH3207 (driver too old).</param>
/// <param name="Reason">What was found, and what would help.</param>
public sealed record CudaFailure(string Code, string Reason)
{
    /// <summary>ONNX Runtime was loaded without its CUDA provider (the CPU build): nothing to try.</summary>
    public static CudaFailure RuntimeWithoutCuda(IReadOnlyCollection<string> available) => new(ErrorCodes.GpuRuntimeMissing,
        $"the engine's ONNX Runtime has no CUDA provider (it has {string.Join(", ", available)}); set ModelShrinkGpuValidation=true so the build fetches Microsoft.ML.OnnxRuntime.Gpu.Linux");

    /// <summary>
    /// Classifies what ONNX Runtime said when the CUDA provider was appended or its first session ran.
    /// The CUDA provider library is loaded with dlopen, so a missing CUDA or cuDNN library shows as
    /// "libcublasLt.so.13: cannot open shared object file"; a driver older than the CUDA runtime as
    /// cudaErrorInsufficientDriver ("CUDA driver version is insufficient"); no GPU as
    /// cudaErrorNoDevice ("no CUDA-capable device is detected") or a missing libcuda.so.1.
    /// </summary>
    public static CudaFailure Classify(string message)
    {
        var line = message.ReplaceLineEndings(" ").Trim();
        if (line.Contains("insufficient", StringComparison.OrdinalIgnoreCase) && line.Contains("driver", StringComparison.OrdinalIgnoreCase))
        {
            return new CudaFailure(ErrorCodes.GpuDriverTooOld,
                $"the NVIDIA driver is older than the CUDA 13 runtime ONNX Runtime 1.32's CUDA provider needs (ONNX Runtime: {Short(line)}); update the driver (580 or newer)");
        }

        if (line.Contains("libcuda.so", StringComparison.Ordinal) || line.Contains("no CUDA-capable device", StringComparison.OrdinalIgnoreCase)
            || line.Contains("cudaErrorNoDevice", StringComparison.Ordinal) || line.Contains("CUDA failure 100", StringComparison.Ordinal))
        {
            return new CudaFailure(ErrorCodes.GpuNotFound, $"no NVIDIA GPU is usable here (ONNX Runtime: {Short(line)})");
        }

        if (line.Contains("Failed to load shared library", StringComparison.OrdinalIgnoreCase))
        {
            // ONNX Runtime logs the loader's message but throws only this: ask the loader ourselves.
            line = CudaProviderLibrary.LoadError() is { } loader ? $"{MissingLibrary(loader) ?? loader} ({line})" : line;
        }

        if (line.Contains("cannot open shared object", StringComparison.OrdinalIgnoreCase) || line.Contains(".so.", StringComparison.Ordinal)
            || line.Contains(".dll", StringComparison.OrdinalIgnoreCase) || line.Contains("Failed to load shared library", StringComparison.OrdinalIgnoreCase))
        {
            return new CudaFailure(ErrorCodes.GpuLibrariesMissing,
                $"the CUDA 13 / cuDNN 9 libraries the CUDA provider loads were not found (ONNX Runtime: {Short(line)}); install them or add their folders to LD_LIBRARY_PATH");
        }

        return new CudaFailure(ErrorCodes.GpuNotFound, $"the CUDA provider did not start (ONNX Runtime: {Short(line)})");
    }

    // "libcublasLt.so.13: cannot open shared object file" -> "libcublasLt.so.13 cannot be opened".
    private static string? MissingLibrary(string loader) =>
        System.Text.RegularExpressions.Regex.Match(loader, @"([\w.+-]+\.so[\w.]*): cannot open shared object file") is { Success: true } m
            ? $"{m.Groups[1].Value} cannot be opened" : null;

    private static string Short(string line) => line.Length <= 240 ? line : line[..240] + "...";
}
