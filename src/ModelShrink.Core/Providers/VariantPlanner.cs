using ModelShrink.Core.Compression;
using ModelShrink.Core.Requests;

namespace ModelShrink.Core.Providers;

/// <summary>
/// Decides the runtime variants of a model: which file each provider uses and the session and
/// provider options it needs. GPU providers come first so the app tries them before CPU.
/// </summary>
public static class VariantPlanner
{
    /// <summary>The runtime config for a model compressed with <paramref name="mode"/> into <paramref name="file"/>.</summary>
    public static RuntimeConfig Plan(string model, string file, QuantizeMode mode, IReadOnlyList<ExecutionProvider> providers)
    {
        var ordered = providers.Where(p => p != ExecutionProvider.CPU).Append(ExecutionProvider.CPU).Distinct();
        var variants = ordered.Select(p => new RuntimeVariant(p.ToString(), file, Precision(mode), SessionOptions(p), ProviderOptions(p))).ToArray();
        return new RuntimeConfig(1, model, variants);
    }

    /// <summary>The precision label of a quantize mode's output.</summary>
    public static string Precision(QuantizeMode mode) => mode switch
    {
        QuantizeMode.Int8 or QuantizeMode.Int8Static => "int8",
        QuantizeMode.Fp16 => "float16",
        QuantizeMode.Int4 => "int4",
        _ => "float32",
    };

    // DirectML cannot use memory patterns or parallel execution (ORT's DirectML provider docs).
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
