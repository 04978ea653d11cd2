using System.Text.Json;
using System.Text.Json.Serialization;
using ModelShrink.Core.Providers;

namespace ModelShrink.Shared.Contracts;

/// <summary>The engine's half of the runtime config: its file name and writing it.</summary>
public sealed partial class RuntimeConfigFile
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>The file name of a model's runtime config.</summary>
    public static string FileName(string model) => model + ".runtime.json";

    /// <summary>Writes the config as JSON.</summary>
    public void Write(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Json));
}
