namespace ModelShrink.Core.Passes.Cleanup;

/// <summary>Options of the clean-up stage that runs before any quantization.</summary>
public sealed record CleanupOptions
{
    /// <summary>
    /// Raise the model's default-domain (<c>ai.onnx</c>) opset to this version (7 to 21) after the
    /// clean-up, rewriting the operators whose definition changed; null leaves the opset alone. A
    /// model already at or above it is not changed (CLI <c>--opset</c>).
    /// </summary>
    public long? TargetOpset { get; init; }

    /// <summary>Run ONNX Runtime's own offline optimizer at its basic level afterwards (CLI <c>--ort-optimize</c>).</summary>
    public bool UseOrtOptimizer { get; init; }
}
