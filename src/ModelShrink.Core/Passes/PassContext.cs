using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;

namespace ModelShrink.Core.Passes;

/// <summary>What every pass may use besides the model: where to put warnings, and cancellation.</summary>
public sealed class PassContext : IDisposable
{
    private readonly List<Diagnostic> diagnostics = [];
    private readonly Dictionary<PassData, object> shared = [];
    private IPass? current;

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
    /// The data an earlier pass provided, or null when none did. The running pass must declare it
    /// in <see cref="IPass.Requires"/> or <see cref="IPass.Uses"/>: what passes share is visible in
    /// their declarations, not fetched from a bag.
    /// </summary>
    public T? Get<T>(PassData<T> data)
        where T : class
    {
        if (current is { } pass && !pass.Requires.Contains(data) && !pass.Uses.Contains(data))
        {
            throw new InvalidOperationException($"pass '{pass.Name}' reads {data.Name} without declaring it in Requires or Uses");
        }

        return shared.TryGetValue(data, out var value) ? (T)value : null;
    }

    /// <summary>Leaves <paramref name="value"/> for later passes; the running pass must declare it in <see cref="IPass.Provides"/>.</summary>
    public void Set<T>(PassData<T> data, T value)
        where T : class
    {
        if (current is { } pass && !pass.Provides.Contains(data))
        {
            throw new InvalidOperationException($"pass '{pass.Name}' provides {data.Name} without declaring it in Provides");
        }

        if (shared.Remove(data, out var old) && old is IDisposable disposable && !ReferenceEquals(old, value))
        {
            disposable.Dispose();
        }

        shared[data] = value;
    }

    /// <summary>Marks <paramref name="pass"/> as the one running (the pipeline does this), so its reads and writes of shared data are checked against its declaration.</summary>
    internal IDisposable Running(IPass pass)
    {
        var previous = current;
        current = pass;
        return new Restore(() => current = previous);
    }

    /// <summary>What a quantizer run by the current pass is handed: this context's warnings and cancellation, and <paramref name="rounding"/>.</summary>
    public Quantization.QuantizerContext ForQuantizer(Quantization.IWeightRounding? rounding = null) =>
        new((code, message) => Warn(code, message), Cancellation, rounding);

    /// <summary>Records a warning about the model (errors are thrown as <see cref="ModelShrinkException"/>).</summary>
    public void Warn(string code, string message, string? setting = null) =>
        diagnostics.Add(new Diagnostic(code, message, ModelFile, setting, DiagnosticSeverity.Warning));

    /// <summary>An error diagnostic about the model, to throw.</summary>
    public ModelShrinkException Error(string code, string message, string? setting = null) =>
        ModelShrinkException.Error(code, message, ModelFile, setting);

    /// <summary>Ends the run: shared data that holds resources (files, large buffers) releases them.</summary>
    public void Dispose()
    {
        foreach (var value in shared.Values.OfType<IDisposable>())
        {
            value.Dispose();
        }

        shared.Clear();
    }

    private sealed class Restore(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }

}
