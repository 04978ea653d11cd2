using ModelShrink.Diagnostics;

namespace ModelShrink.Core.Passes;

/// <summary>What every pass may use besides the model: where to put warnings, and cancellation.</summary>
public sealed class PassContext : IDisposable
{
    private readonly List<Diagnostic> diagnostics = [];
    private readonly Dictionary<Type, object> features = [];

    /// <summary>Creates a context.</summary>
    public PassContext(string modelFile, CancellationToken cancellation = default)
    {
        ModelFile = modelFile;
        Cancellation = cancellation;
    }

    /// <summary>The model's file as the user named it, for diagnostics.</summary>
    public string ModelFile { get; }

    /// <summary>Stops long passes when the build or the user cancels.</summary>
    public CancellationToken Cancellation { get; }

    /// <summary>Warnings raised so far.</summary>
    public IReadOnlyList<Diagnostic> Diagnostics => diagnostics;

    /// <summary>
    /// What an earlier pass of the same run left for later ones, by type (layer statistics captured on
    /// the float model, read by the quantizers), or null when none did.
    /// </summary>
    public T? Feature<T>()
        where T : class => features.TryGetValue(typeof(T), out var feature) ? (T)feature : null;

    /// <summary>Leaves <paramref name="feature"/> for later passes (see <see cref="Feature{T}"/>).</summary>
    public void SetFeature<T>(T feature)
        where T : class => features[typeof(T)] = feature;

    /// <summary>Records a warning about the model (errors are thrown as <see cref="ModelShrinkException"/>).</summary>
    public void Warn(string code, string message, string? setting = null) =>
        diagnostics.Add(new Diagnostic(code, message, ModelFile, setting, DiagnosticSeverity.Warning));

    /// <summary>An error diagnostic about the model, to throw.</summary>
    public ModelShrinkException Error(string code, string message, string? setting = null) =>
        ModelShrinkException.Error(code, message, ModelFile, setting);

    /// <summary>Ends the run: features that hold resources (files, large buffers) release them.</summary>
    public void Dispose()
    {
        foreach (var feature in features.Values.OfType<IDisposable>())
        {
            feature.Dispose();
        }

        features.Clear();
    }

}
