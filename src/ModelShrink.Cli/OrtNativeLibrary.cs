using System.Reflection;
using System.Runtime.InteropServices;

namespace ModelShrink.Cli;

/// <summary>
/// Inside the ModelShrink.Build package the engine ships without ONNX Runtime's native library;
/// the MSBuild task points MODELSHRINK_ORT_NATIVE_DIR at the copy in the NuGet cache and this
/// resolver loads it from there. The ModelShrink.Cli tool ships without it too and finds it in the
/// NuGet cache itself (<see cref="OrtNativeFetch"/>). Where the library lies beside the engine
/// (build output, development runs), the usual probing applies.
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

    /// <summary>
    /// Whether the native library lies in the engine's folder <paramref name="engineDirectory"/>: under
    /// runtimes/ in a portable build, flat in a self-contained publish for one platform (whose every run
    /// looked in the NuGet cache and, on a machine without one, tried a restore before this second check).
    /// </summary>
    public static bool LiesIn(string engineDirectory) =>
        File.Exists(Path.Combine(engineDirectory, "runtimes", OrtNativeFetch.Platform, "native", OrtNativeFetch.LibraryFile))
        || File.Exists(Path.Combine(engineDirectory, OrtNativeFetch.LibraryFile));

    private static void RegisterResolver()
    {
        var directory = Environment.GetEnvironmentVariable(DirectoryVariable);
        if (string.IsNullOrEmpty(directory))
        {
            if (LiesIn(AppContext.BaseDirectory))
            {
                return;
            }

            directory = OrtNativeFetch.Directory(Console.Error);
            if (directory is null)
            {
                return;
            }
        }

        NativeLibrary.SetDllImportResolver(typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly, (name, assembly, path) =>
        {
            if (name != "onnxruntime")
            {
                return IntPtr.Zero;
            }

            return NativeLibrary.TryLoad(Path.Combine(directory, OrtNativeFetch.LibraryFile), out var handle) ? handle : IntPtr.Zero;
        });
    }
}
