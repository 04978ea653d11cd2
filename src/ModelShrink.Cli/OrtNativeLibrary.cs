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

    /// <summary>Registers the resolver when the variable is set.</summary>
    public static void Register()
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
