using System.Text.Json;
using System.Text.Json.Serialization;
using ModelShrink.Shared.Contracts;

namespace ModelShrink.Core.Providers;

/// <summary>The engine's side of the runtime config (<see cref="RuntimeConfigFile"/>): its file name and writing it.</summary>
public static class RuntimeConfigWriter
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>The file name of a model's runtime config.</summary>
    public static string FileName(string model) => model + ".runtime.json";

    /// <summary>Writes <paramref name="config"/> as JSON.</summary>
    public static void Write(this RuntimeConfigFile config, string path) => File.WriteAllText(path, JsonSerializer.Serialize(config, Json));
}
