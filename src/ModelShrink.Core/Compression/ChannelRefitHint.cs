using ModelShrink.Core.Passes.Pruning;
using ModelShrink.Core.Passes.Reconstruction;
using ModelShrink.Core.Validation;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;

namespace ModelShrink.Core.Compression;

/// <summary>
/// MSH4108: channel pruning that ran without layer-wise refit and lost more than its accuracy budget on the
/// holdout (or, without a budget, more than <see cref="AccuracyLossWarning.CollapseDrop"/>) names the refit.
/// Removing whole channels by weight norm alone can collapse a model whose refit keeps it whole (ppocr-cls at
/// 0.3: 51.6% accuracy against the original's 96.9%, and 96.9% with the refit), and the refit is opt-in.
/// </summary>
public static class ChannelRefitHint
{
    /// <summary>The hint for a plain job's result, or null when it pruned no channels, refit them, or lost little.</summary>
    public static Diagnostic? For(JobSettings settings, ValidationResult validation, IReadOnlyList<Diagnostic> diagnostics, string display)
    {
        var options = settings.Compression;
        if (options.Prune is not { Method: PruneMethod.Channels, Auto: false } prune || options.Reconstruct == ReconstructMode.Layerwise
            || AccuracyLossWarning.Loss(settings, validation, diagnostics) is not { } loss)
        {
            return null;
        }

        // Data of its own keeps the holdout score honest (MSH2603 otherwise), so the hint asks for it unless it is there.
        var data = options.ReconstructData is { } named && !ReconstructionData.OverlapsHoldout(named, settings.Holdout)
            ? ", fitted on the ReconstructData given"
            : " with ReconstructData (--reconstruct-data), data apart from the holdout";
        return new Diagnostic(ErrorCodes.ChannelRefitHint,
            $"channel pruning (Prune={prune.Sparsity:0.##}) without layer-wise refit lost {loss.Drop * 100:0.#} points of {validation.Metric} on the holdout{(loss.Broken ? ", over the budget" : "")}; "
            + $"add Reconstruct=Layerwise (--reconstruct layerwise){data}: it chooses the channels on the data and refits the layers that read them",
            display, "Reconstruct", DiagnosticSeverity.Warning);
    }
}
