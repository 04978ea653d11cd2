using System.Reflection;
using System.Runtime.InteropServices;

namespace ModelShrink.Cli;

/// <summary>
/// Inside the ModelShrink.Build package the engine ships without ONNX Runtime's native library;
/// the MSBuild task points MODELSHRINK_ORT_NATIVE_DIR at the copy in the NuGet cache and this
/// resolver loads it from there. Without the variable, the usual probing applies (development runs).
/// </summary>
public static class OrtNativeLibrary
{
    /// <summary>The environment variable naming the folder of the native library.</summary>
    public const string DirectoryVariable = "MODELSHRINK_ORT_NATIVE_DIR";

    /// <summary>
    /// Registers the resolver when the variable is set, and makes ONNX Runtime's own logger quiet:
    /// a CUDA provider that cannot load would otherwise print its own error lines on stderr, where the
    /// engine prints one coded line (MSH3204-MSH3207) that says the same.
    /// </summary>
    public static void Register()
    {
        RegisterResolver();
        var environment = new Microsoft.ML.OnnxRuntime.EnvironmentCreationOptions { logLevel = Microsoft.ML.OnnxRuntime.OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
        try
        {
            Microsoft.ML.OnnxRuntime.OrtEnv.CreateInstanceWithOptions(ref environment);
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException)
        {
            // No native library at all: the first command that needs ONNX Runtime reports it.
        }
    }

    private static void RegisterResolver()
    {
        var directory = Environment.GetEnvironmentVariable(DirectoryVariable);
        if (string.IsNullOrEmpty(directory))
        {
            return;
        }

        NativeLibrary.SetDllImportResolver(typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly, (name, assembly, path) =>
        {
            if (name != "onnxruntime")
            {
                return IntPtr.Zero;
            }

            var file = OperatingSystem.IsWindows() ? "onnxruntime.dll" : OperatingSystem.IsMacOS() ? "libonnxruntime.dylib" : "libonnxruntime.so";
            return NativeLibrary.TryLoad(Path.Combine(directory, file), out var handle) ? handle : IntPtr.Zero;
        });
    }
}
