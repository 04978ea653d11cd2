namespace ModelShrink.Onnx.Diagnostics;

/// <summary>
/// Carries a <see cref="Diagnostic"/> up the stack. Every expected failure (bad input, broken
/// budget, missing file) is one of these; anything else reaching the host is a bug (MSH1000).
/// </summary>
public sealed class ModelShrinkException : Exception
{
    /// <summary>Creates the exception for a diagnostic.</summary>
    public ModelShrinkException(Diagnostic diagnostic, Exception? inner = null)
        : base(diagnostic.ToString(), inner)
    {
        Diagnostic = diagnostic;
    }

    /// <summary>The finding this exception carries (the first, when it carries several).</summary>
    public Diagnostic Diagnostic { get; }

    /// <summary>Every finding, when one check found several at once (an item's bad settings); else just <see cref="Diagnostic"/>.</summary>
    public IReadOnlyList<Diagnostic> All
    {
        get => all ?? [Diagnostic];
        init => all = value;
    }

    private readonly IReadOnlyList<Diagnostic>? all;

    /// <summary>Shorthand for throwing an error diagnostic.</summary>
    public static ModelShrinkException Error(string code, string message, string? file = null, string? setting = null, Exception? inner = null) =>
        new(new Diagnostic(code, message, file, setting), inner);
}
