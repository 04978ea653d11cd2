using System.Text.Json;
using System.Text.Json.Serialization;

namespace ModelShrink.Core.Providers;

/// <summary>
/// <c>&lt;model&gt;.runtime.json</c>: the variants of one model in the order the app should try
/// them, each with the file, its precision and the ONNX Runtime options it needs. Option names
/// are those of Microsoft.ML.OnnxRuntime's C# API (SessionOptions properties, provider option
/// keys), so ModelShrink.Runtime maps them one to one.
/// </summary>
/// <param name="FormatVersion">Version of this format (1).</param>
/// <param name="Model">The model's base name.</param>
/// <param name="Variants">The variants, first to try first; CPU comes last as the fallback.</param>
public sealed record RuntimeConfig(int FormatVersion, string Model, IReadOnlyList<RuntimeVariant> Variants)
{
    /// <summary>The file name of a model's runtime config.</summary>
    public static string FileName(string model) => model + ".runtime.json";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>Writes the config as JSON.</summary>
    public void Write(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Json));
}

/// <summary>One variant: which provider, which file, and the options to create its session with.</summary>
/// <param name="Provider">CPU, CUDA or DirectML.</param>
/// <param name="File">The model file, relative to the runtime config.</param>
/// <param name="Precision">What the file holds: float32, float16, int8 or int4.</param>
/// <param name="SessionOptions">SessionOptions property names and values.</param>
/// <param name="ProviderOptions">Provider option names and values (e.g. DeviceId).</param>
public sealed record RuntimeVariant(
    string Provider,
    string File,
    string Precision,
    IReadOnlyDictionary<string, string> SessionOptions,
    IReadOnlyDictionary<string, string> ProviderOptions);
