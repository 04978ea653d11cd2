using System.Text.Json;
using System.Text.Json.Serialization;

namespace ModelShrink.Cli.Output;

/// <summary>The one JSON document a command prints with --json: camelCase, indented, stable field order.</summary>
public static class JsonOutput
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        // Snr is +Infinity when the outputs are identical (quantize None): written as "Infinity", not an internal error.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Serializes <paramref name="document"/> to <paramref name="output"/>.</summary>
    public static void Write<T>(TextWriter output, T document) => output.WriteLine(JsonSerializer.Serialize(document, Options));

    /// <summary>Every command's result: one JSON document with --json, else its text form.</summary>
    public static void WriteResult<T>(System.CommandLine.ParseResult parse, System.CommandLine.Option<bool> json, T document, Action<TextWriter, T> text)
    {
        var output = parse.InvocationConfiguration.Output;
        if (parse.GetValue(json))
        {
            Write(output, document);
        }
        else
        {
            text(output, document);
        }
    }
}
