namespace ModelShrink.Onnx.Diagnostics;

/// <summary>How bad a diagnostic is.</summary>
public enum DiagnosticSeverity
{
    /// <summary>Work went on; the user should look.</summary>
    Warning,

    /// <summary>Work stopped for this item.</summary>
    Error,
}

/// <summary>
/// One coded finding, created where the fault is found and carried up unchanged to the CLI or the
/// MSBuild task, which only format it.
/// </summary>
/// <param name="Code">The stable code, <c>MSH</c> and four digits (see <see cref="Shared.ErrorCodes"/>).</param>
/// <param name="Message">One line that says what is wrong, without the file or code.</param>
/// <param name="File">The file the finding is about, as the user named it, when there is one.</param>
/// <param name="Setting">The option, item metadata or model field involved, when there is one.</param>
/// <param name="Severity">Error or warning.</param>
public sealed record Diagnostic(
    string Code,
    string Message,
    string? File = null,
    string? Setting = null,
    DiagnosticSeverity Severity = DiagnosticSeverity.Error)
{
    /// <summary>
    /// The canonical one-line form, <c>file: error MSH1234: message (setting: x)</c>, which MSBuild
    /// and IDEs recognise as an error or warning pointing at the file.
    /// </summary>
    public override string ToString()
    {
        var severity = Severity == DiagnosticSeverity.Error ? "error" : "warning";
        var location = File is null ? "" : $"{PrintableText.Escape(File)}: ";
        var setting = Setting is null ? "" : $" (setting: {Setting})";
        return $"{location}{severity} {Code}: {OneLine(Message)}{setting}";
    }

    // A diagnostic is one line by contract; messages built from exception text may not be, and names
    // quoted from a hostile model may hold control characters.
    private static string OneLine(string text) => PrintableText.Escape(text.ReplaceLineEndings(" ").Trim());
}
