using ModelShrink.Core.Reports.Html;
using System.Text.Json;
using System.Text.Json.Serialization;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;

namespace ModelShrink.Core.Reports;

/// <summary>
/// <c>report.json</c>: camelCase, indented, every field written (nulls included) in declaration
/// order; non-finite numbers as the strings "Infinity", "-Infinity", "NaN". See docs/report-schema.md.
/// </summary>
public static class ReportJson
{
    /// <summary>The serializer settings of the format.</summary>
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        PropertyNameCaseInsensitive = false,
    };

    /// <summary>The report as JSON text.</summary>
    public static string Serialize(CompressionReport report) => JsonSerializer.Serialize(report, Options);

    /// <summary>Reads a report back; refuses another schema version.</summary>
    public static CompressionReport Deserialize(string json)
    {
        var report = JsonSerializer.Deserialize<CompressionReport>(json, Options) ?? throw new JsonException("the report is empty");
        return report.SchemaVersion == CompressionReport.CurrentSchemaVersion
            ? report
            : throw new JsonException($"report schema version {report.SchemaVersion} is not {CompressionReport.CurrentSchemaVersion}");
    }
}

/// <summary>Writes a report's JSON and HTML files.</summary>
public static class ReportFiles
{
    /// <summary>The file names the CLI writes into its --report folder.</summary>
    public const string JsonName = "report.json", HtmlName = "report.html";

    /// <summary>The endings of the build's report files, <c>NAME.report.json</c> and <c>NAME.report.html</c>.</summary>
    public const string JsonExtension = ".report.json", HtmlExtension = ".report.html";

    /// <summary>The build's report file of an item whose outputs are named <paramref name="outputName"/>.</summary>
    public static string BuildName(string outputName, string extension) => outputName + extension;

    /// <summary>Writes <paramref name="report"/> to <paramref name="jsonPath"/> and <paramref name="htmlPath"/>, each atomically.</summary>
    public static void Write(CompressionReport report, string jsonPath, string htmlPath)
    {
        WriteText(jsonPath, ReportJson.Serialize(report) + "\n");
        WriteText(htmlPath, ReportHtml.Render(report));
    }

    /// <summary>Writes report.json and report.html into <paramref name="directory"/> (created if missing).</summary>
    public static (string Json, string Html) WriteTo(CompressionReport report, string directory)
    {
        var json = Path.Combine(directory, JsonName);
        var html = Path.Combine(directory, HtmlName);
        Write(report, json, html);
        return (json, html);
    }

    private static void WriteText(string path, string text)
    {
        var temp = path + $".{Guid.NewGuid():N}.tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            File.WriteAllText(temp, text, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw ModelShrinkException.Error(ErrorCodes.WriteFailed, $"cannot write the report: {e.Message}", path, "--report", e);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The temporary file is best-effort clean-up.
        }
    }
}
