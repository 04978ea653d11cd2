using ModelShrink.Shared.Contracts;
using ModelShrink.Core.Plans;
using ModelShrink.Core.Compression;

namespace ModelShrink.Core.Providers;

/// <summary>One model file a compression writes, and the quantize mode that makes it.</summary>
/// <param name="File">The file name (beside the runtime config).</param>
/// <param name="Mode">The quantize mode of its pipeline.</param>
public sealed record VariantFile(string File, QuantizeMode Mode);

/// <summary>
/// Decides the runtime variants of a model. CPU runs the requested mode (int8 runs well there);
/// CUDA and DirectML run float16 well and int8 poorly, so when the requested mode is a
/// quantization they get a float16 file instead. Providers that want the same file share it.
/// GPU providers come first in the runtime config, CPU last as the fallback.
/// </summary>
public static class VariantPlanner
{
    /// <summary>
    /// The files to write for <paramref name="providers"/>, the CPU's (requested mode) first.
    /// <paramref name="cudaMode"/> is the CUDA variant's mode when it was chosen by measurement on a
    /// GPU (<see cref="Search.GpuVariantChoice"/>); otherwise CUDA, like DirectML, gets float16 for a quantized mode.
    /// </summary>
    public static IReadOnlyList<VariantFile> Files(string outputName, QuantizeMode mode, IReadOnlyList<ExecutionProvider> providers, QuantizeMode? cudaMode = null)
    {
        var files = new List<VariantFile> { new(outputName + ".onnx", mode) };
        foreach (var provider in providers.Where(IsGpu))
        {
            var wanted = ModeFor(provider, mode, cudaMode);
            if (files.All(f => f.Mode != wanted))
            {
                files.Add(new VariantFile($"{outputName}.{Suffix(wanted)}.onnx", wanted));
            }
        }

        return files;
    }

    /// <summary>The runtime config for files made by <see cref="Files"/> (the same <paramref name="cudaMode"/>).</summary>
    public static RuntimeConfigFile Plan(string outputName, IReadOnlyList<VariantFile> files, IReadOnlyList<ExecutionProvider> providers, QuantizeMode? cudaMode = null)
    {
        var ordered = providers.Where(IsGpu).Append(ExecutionProvider.CPU).Distinct();
        var variants = ordered.Select(provider =>
        {
            var file = IsGpu(provider) ? files.First(f => f.Mode == ModeFor(provider, files[0].Mode, cudaMode)) : files[0];
            return new RuntimeVariantEntry { Provider = provider.ToString(), File = file.File, Precision = Precision(file.Mode), SessionOptions = SessionOptions(provider), ProviderOptions = ProviderOptions(provider) };
        }).ToArray();
        return new RuntimeConfigFile { FormatVersion = 1, Model = outputName, Variants = variants.ToList() };
    }

    /// <summary>The precision label of a quantize mode's output.</summary>
    public static string Precision(QuantizeMode mode) => mode switch
    {
        QuantizeMode.Int8 or QuantizeMode.Int8Static => "int8",
        QuantizeMode.Fp16 => "float16",
        QuantizeMode.Int4 => "int4",
        _ => "float32",
    };

    private static bool IsGpu(ExecutionProvider provider) => provider != ExecutionProvider.CPU;

    private static QuantizeMode ModeFor(ExecutionProvider provider, QuantizeMode mode, QuantizeMode? cudaMode) =>
        provider == ExecutionProvider.CUDA && cudaMode is { } measured ? measured : GpuMode(mode);

    private static string Suffix(QuantizeMode mode) => mode switch
    {
        QuantizeMode.None => "fp32",
        QuantizeMode.Fp16 => "fp16",
        _ => mode.ToString().ToLowerInvariant(),
    };

    // Float32 and float16 run well on GPUs as they are; quantized modes become float16 there.
    private static QuantizeMode GpuMode(QuantizeMode mode) => mode is QuantizeMode.None or QuantizeMode.Fp16 ? mode : QuantizeMode.Fp16;

    // DirectML cannot use memory patterns or parallel execution (ONNX Runtime's DirectML provider docs).
    private static Dictionary<string, string> SessionOptions(ExecutionProvider provider) => provider switch
    {
        ExecutionProvider.DirectML => new() { ["GraphOptimizationLevel"] = "ORT_ENABLE_ALL", ["EnableMemoryPattern"] = "false", ["ExecutionMode"] = "ORT_SEQUENTIAL" },
        _ => new() { ["GraphOptimizationLevel"] = "ORT_ENABLE_ALL" },
    };

    private static Dictionary<string, string> ProviderOptions(ExecutionProvider provider) => provider switch
    {
        ExecutionProvider.CPU => [],
        _ => new() { ["DeviceId"] = "0" },
    };
}
