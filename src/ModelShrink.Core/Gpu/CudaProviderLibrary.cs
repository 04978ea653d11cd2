using System.Runtime.InteropServices;

namespace ModelShrink.Core.Gpu;

/// <summary>
/// Loads ONNX Runtime's CUDA provider library the way ONNX Runtime does (dlopen) to learn which
/// of its dependencies is missing: .NET's DllNotFoundException carries the loader's message
/// ("libcublasLt.so.13: cannot open shared object file"), which ONNX Runtime only logs.
/// </summary>
public static class CudaProviderLibrary
{
    /// <summary>The loader's message, or null when the library loads (or cannot be found beside ONNX Runtime).</summary>
    public static string? LoadError()
    {
        var file = OperatingSystem.IsWindows() ? "onnxruntime_providers_cuda.dll" : "libonnxruntime_providers_cuda.so";
        var folders = new[] { Environment.GetEnvironmentVariable("MODELSHRINK_ORT_NATIVE_DIR"), AppContext.BaseDirectory }
            .OfType<string>().Where(f => f.Length > 0);
        foreach (var path in folders.Select(f => Path.Combine(f, file)).Where(File.Exists))
        {
            try
            {
                NativeLibrary.Free(NativeLibrary.Load(path));
                return null;
            }
            catch (DllNotFoundException e)
            {
                return e.Message.ReplaceLineEndings(" ").Trim();
            }
        }

        return null;
    }
}
