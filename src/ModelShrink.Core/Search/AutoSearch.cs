using ModelShrink.Core.Budgets;
using ModelShrink.Core.Compression;
using ModelShrink.Diagnostics;

namespace ModelShrink.Core.Search;

/// <summary>
/// Quantize = Auto: tries the available modes from the smallest expected result to the largest
/// (int4, int8, int8 static when calibration data is named, fp16, none — as far as this engine has
/// them), validating each on the holdout data against every budget, and stops at the first that fits: with candidates in size order that is
/// the smallest one within the budgets. A mode that misses only the accuracy budget is retried with
/// layer-wise reconstruction (when reconstruction data of its own is named, see
/// <see cref="ReconstructionChoice"/>), then with its most sensitive layers kept float. When none fits, the error names the best size and the
/// best metric reached and the budgets that failed.
/// </summary>
public static class AutoSearch
{
    /// <summary>The order candidates are tried in: most aggressive first.</summary>
    /// <remarks>Int8Static is tried only with calibration data of its own (not the holdout it would be judged on).</remarks>
    public static readonly IReadOnlyList<QuantizeMode> Order = [QuantizeMode.Int4, QuantizeMode.Int8, QuantizeMode.Int8Static, QuantizeMode.Fp16, QuantizeMode.None];

    /// <summary>
    /// Runs the search; the winner is written to <paramref name="output"/>. Every candidate tried is
    /// in the result's <see cref="JobResult.Candidates"/>.
    /// </summary>
    public static JobResult Run(string source, string output, JobSettings settings, string display, CancellationToken cancellation = default, IProgress<string>? progress = null)
    {
        var folder = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(output))!, $".modelshrink-search-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            var tried = new List<CandidateOutcome>();
            IReadOnlyList<LayerSensitivity> sensitivity = [];
            foreach (var mode in Order.Where(PipelineFactory.SupportedModes.Contains)
                .Where(m => m != QuantizeMode.Int8Static || HasOwnCalibration(settings))
                .Where(m => m != QuantizeMode.Int4 || settings.Compression.MatMulNBitsAllowed))
            {
                cancellation.ThrowIfCancellationRequested();
                var options = settings.Compression with { Quantize = mode };
                var candidateFile = Path.Combine(folder, $"{mode}.onnx".ToLowerInvariant());
                var outcome = Candidate(source, candidateFile, settings, options, ReconstructionChoice.Name(mode.ToString(), options), tried, display, cancellation, progress);
                var job = outcome.Result;
                if (!outcome.Fits && outcome.Applies && OnlyAccuracyFailed(job) && ReconstructionChoice.Layerwise(settings, options) is { } reconstructed)
                {
                    // About the same size, closer to the original: tried before keeping layers float. When
                    // it breaks something else (the biases it may add break a size budget), layers are kept
                    // float from the plain candidate instead.
                    var retried = Candidate(source, candidateFile, settings, reconstructed, ReconstructionChoice.Name(mode.ToString(), reconstructed), tried, display, cancellation, progress);
                    if (retried.Fits || OnlyAccuracyFailed(retried.Result))
                    {
                        (outcome, options, job) = (retried, reconstructed, retried.Result);
                    }
                }

                if (!outcome.Fits && outcome.Applies && OnlyAccuracyFailed(job) && SensitivityAnalysis.OpTypes(options).Count > 0)
                {
                    sensitivity = SensitivityAnalysis.Rank(source, folder, settings with { Compression = options }, display, cancellation, progress);
                    outcome = KeepSensitiveLayersFloat(source, candidateFile, settings, options, sensitivity, tried, display, cancellation, progress) ?? outcome;
                }

                if (outcome.Fits && outcome.Applies)
                {
                    job = outcome.Result;
                    File.Move(candidateFile, output, overwrite: true);
                    var warnings = job.Diagnostics.ToList();
                    if (settings.Holdout is null)
                    {
                        warnings.Add(new Diagnostic(ErrorCodes.SearchUnvalidated,
                            $"Quantize=Auto without holdout data chose {mode} by size alone; its accuracy was not measured", display, "Holdout", DiagnosticSeverity.Warning));
                    }

                    return job with
                    {
                        Compression = job.Compression with { Output = output },
                        Diagnostics = warnings,
                        Chosen = mode,
                        Candidates = tried,
                        Sensitivity = sensitivity,
                        KeptFloat = outcome.Options.Quantize switch
                        {
                            QuantizeMode.Int8 => outcome.Options.Int8.ExcludeNodes,
                            QuantizeMode.Int4 => outcome.Options.Int4.ExcludeNodes,
                            _ => [],
                        },
                    };
                }
            }

            return NoFit(tried, sensitivity, display);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static readonly string[] AccuracySettings = ["MaxAccuracyDrop", "MinAgreement", "MinCosine"];

    private static bool HasOwnCalibration(JobSettings settings) =>
        settings.Compression.Int8Static is { CalibrationData: not null, CalibrationFromHoldout: false };

    private static bool OnlyAccuracyFailed(JobResult job) =>
        job.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).All(d => AccuracySettings.Contains(d.Setting));

    // Keeps the 1, 2, 4, ... most sensitive layers in float until the budgets hold; stops when the
    // size budget breaks, since more float layers only grow the model.
    private static CandidateOutcome? KeepSensitiveLayersFloat(string source, string file, JobSettings settings, CompressionOptions options,
        IReadOnlyList<LayerSensitivity> ranked, List<CandidateOutcome> tried, string display, CancellationToken cancellation, IProgress<string>? progress = null)
    {
        for (var keep = 1; keep <= ranked.Count; keep = keep == ranked.Count ? ranked.Count + 1 : Math.Min(keep * 2, ranked.Count))
        {
            var kept = ranked.Take(keep).Select(r => r.Layer).ToArray();
            var excluding = SensitivityAnalysis.Excluding(options, kept);
            var name = ReconstructionChoice.Name($"{options.Quantize} ({keep} layer{(keep == 1 ? "" : "s")} float)", options);
            var outcome = Candidate(source, file, settings, excluding, name, tried, display, cancellation, progress);
            if (outcome.Fits || !OnlyAccuracyFailed(outcome.Result))
            {
                return outcome.Fits ? outcome : null;
            }
        }

        return null;
    }

    // Runs one candidate into `file` and adds it to `tried`.
    private static CandidateOutcome Candidate(string source, string file, JobSettings settings, CompressionOptions options, string name,
        List<CandidateOutcome> tried, string display, CancellationToken cancellation, IProgress<string>? progress)
    {
        progress?.Report($"searching: candidate {tried.Count + 1}, {name}");
        var outcome = CandidateOutcome.Run(name, source, file, settings with { Compression = options }, display, cancellation, progress);
        tried.Add(outcome);
        return outcome;
    }

    // Nothing fits: a failed result that still carries every candidate (so the report can show
    // them), whose one error gives the smallest size and best metric reached and what failed.
    private static JobResult NoFit(IReadOnlyList<CandidateOutcome> tried, IReadOnlyList<LayerSensitivity> sensitivity, string display)
    {
        var smallest = tried.Where(t => t.Applies).DefaultIfEmpty(tried[0]).MinBy(t => t.Result.Compression.CompressedBytes)!;
        var best = tried.Where(t => t.Result.Validation is not null).MaxBy(t => -AccuracyBudget.Drop(t.Result.Validation!));
        var failed = tried.SelectMany(t => t.Result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.Setting)).Distinct();
        var metric = best is null ? "" : $"; best {best.Result.Validation!.Metric} {best.Result.Validation.Value:0.####} ({best.Name})";
        var error = new Diagnostic(ErrorCodes.SearchFoundNothing,
            $"no candidate fits the budgets: tried {string.Join(", ", tried.Select(t => t.Name))}; smallest {ByteSize.Format(smallest.Result.Compression.CompressedBytes)} ({smallest.Name}){metric}; failed: {string.Join(", ", failed)}",
            display, "Quantize");
        return smallest.Result with { Diagnostics = [error], Chosen = null, Candidates = tried, Sensitivity = sensitivity };
    }
}
