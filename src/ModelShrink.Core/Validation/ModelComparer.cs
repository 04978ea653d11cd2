using ModelShrink.Core.Validation.Holdout;
using ModelShrink.Core.Validation.Metrics;
using ModelShrink.Core.Validation.Running;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.IO;

namespace ModelShrink.Core.Validation;

/// <summary>How to compare two models.</summary>
/// <param name="Output">The output to score; default: the first float output.</param>
/// <param name="Metric">The headline metric; default: Accuracy with labels, Agreement for a class axis, else Cosine.</param>
/// <param name="BatchSize">Samples per batch for NumPy holdout data.</param>
public sealed record ValidationOptions(string? Output = null, Metric? Metric = null, int BatchSize = HoldoutReader.DefaultBatchSize)
{
    /// <summary>Stop after the batch that reaches this many samples (a search's quick per-layer probes); null reads every sample.</summary>
    public int? MaxSamples { get; init; }

    /// <summary>Where the original's outputs are kept between comparisons (a search's), or null to run it every time.</summary>
    public ReferenceOutputs? Reference { get; init; }

    /// <summary>The provider the candidate runs on (the original, the reference, always runs on the CPU).</summary>
    public Gpu.RunProvider Provider { get; init; } = Gpu.RunProvider.CPU;

    /// <summary>The threshold of <see cref="Metrics.Metric.ElementAgreement"/> and <see cref="Metrics.Metric.Iou"/> on dense probability maps.</summary>
    public double Threshold { get; init; } = 0.5;
}

/// <summary>The comparison of a candidate with the original on a holdout set.</summary>
/// <param name="Holdout">What holdout data was read.</param>
/// <param name="Output">The output scored.</param>
/// <param name="Metric">The headline metric (requested or default).</param>
/// <param name="Value">Its value for the candidate.</param>
/// <param name="Values">Every metric.</param>
public sealed record ValidationResult(string Holdout, string Output, Metric Metric, double Value, MetricValues Values);

/// <summary>
/// Runs the original and a candidate side by side on holdout data with ONNX Runtime, batch by
/// batch (memory flat in the number of samples), and scores the candidate.
/// </summary>
public static class ModelComparer
{
    /// <summary>
    /// Compares <paramref name="candidate"/> with <paramref name="original"/> on <paramref name="holdout"/>;
    /// <paramref name="progress"/>, when given, hears "validating: 3/8 batches" lines (at most about a dozen).
    /// </summary>
    public static ValidationResult Compare(string original, string candidate, string holdout, ValidationOptions? options = null, CancellationToken cancellation = default, IProgress<string>? progress = null)
    {
        options ??= new ValidationOptions();
        var signature = ModelSignature.Of(ModelReader.Load(original));
        var candidateSignature = ModelSignature.Of(ModelReader.Load(candidate));
        if (!candidateSignature.Inputs.Select(i => i.Name).SequenceEqual(signature.Inputs.Select(i => i.Name)))
        {
            throw ModelShrinkException.Error(ErrorCodes.HoldoutMismatch,
                $"the candidate's inputs ({string.Join(", ", candidateSignature.Inputs.Select(i => i.Name))}) differ from the original's ({string.Join(", ", signature.Inputs.Select(i => i.Name))})",
                candidate, "CANDIDATE");
        }

        var source = HoldoutReader.Open(holdout, signature, options.BatchSize);
        // The original's session opens only when some batch is not in the reference outputs already.
        using var originalRunner = new OnDemand<ModelRunner>(() => new ModelRunner(original));
        using var candidateRunner = new ModelRunner(candidate, provider: options.Provider);
        var output = options.Output;
        var accumulator = new MetricAccumulator(threshold: options.Threshold);
        var read = 0;
        var batches = 0;
        var tracker = progress is null ? null : new BatchProgress(progress, source.BatchCount);
        foreach (var batch in source.Batches())
        {
            cancellation.ThrowIfCancellationRequested();
            HoldoutCheck.Check(batch, signature, holdout, "Holdout");
            var index = batches++;
            var (a, b) = RunBoth(() => options.Reference is { } kept ? kept.Get(original, holdout, index, () => originalRunner.Value.Run(batch)) : originalRunner.Value.Run(batch), candidateRunner, batch);
            output ??= a!.FirstOrDefault()?.Name
                ?? throw ModelShrinkException.Error(ErrorCodes.ValidationOutput, "the model has no numeric tensor output to score", original, "Output");
            var reference = Find(a!, output, original);
            var scored = Find(b!, output, candidate);
            accumulator.Add(reference.Values, scored.Values, reference.Shape, batch.Labels);
            tracker?.Done(batch.SampleCount);
            read += batch.SampleCount;
            if (read >= options.MaxSamples)
            {
                break;
            }
        }

        tracker?.Finish();

        var values = accumulator.Result();
        if (values.Samples == 0)
        {
            throw ModelShrinkException.Error(ErrorCodes.HoldoutUnreadable, "holds no samples", holdout, "Holdout");
        }

        // NaN compares false with every limit: a metric over NaN would pass any budget.
        if (values.OriginalNonFinite > 0)
        {
            throw ModelShrinkException.Error(ErrorCodes.HoldoutOutputNotFinite,
                $"the original model gives {values.OriginalNonFinite} NaN or infinite values for output '{output}' on this data, so no metric can compare against it; check the holdout inputs",
                holdout, "Holdout");
        }

        // A dense probability map's last axis is an image axis: its arg-max is no class, so it is scored per element.
        var metric = options.Metric ?? (values.IsDenseMap ? Metric.ElementAgreement
            : values.Accuracy is not null ? Metric.Accuracy : values.Agreement is not null ? Metric.Agreement : Metric.Cosine);
        var value = values.Get(metric)
            ?? throw ModelShrinkException.Error(ErrorCodes.ValidationOutput,
                metric is Metric.Accuracy or Metric.TopK
                    ? $"metric {metric} needs labels (labels.json beside test_data_set folders, or a 'labels' array) for output '{output}'"
                    : metric is Metric.ElementAgreement or Metric.Iou
                        ? $"metric {metric} needs a dense probability map (a one-channel [N, 1, H, W] output with values in [0, 1]); '{output}' is not one"
                        : $"metric {metric} needs an output with a class axis; '{output}' has none",
                holdout, "Metric");
        if (metric is Metric.Accuracy or Metric.TopK && values.LabelsOutOfRange == values.Samples)
        {
            throw ModelShrinkException.Error(ErrorCodes.HoldoutLabelsMatchNoClass,
                $"no label matches a class of output '{output}' (labels must lie in 0..{values.Classes - 1}), so {metric} cannot be measured; fix the labels or choose --metric Agreement",
                holdout, "Holdout");
        }

        return new ValidationResult(source.Description, output!, metric, value, values);
    }

    // The two sessions run at once, one thread each: parallel, and still deterministic.
    private static (IReadOnlyList<OutputValues> Original, IReadOnlyList<OutputValues> Candidate) RunBoth(Func<IReadOnlyList<OutputValues>> original, ModelRunner candidate, HoldoutBatch batch)
    {
        var second = Task.Run(() => candidate.Run(batch));
        var first = original();
        try
        {
            return (first, second.GetAwaiter().GetResult());
        }
        catch (AggregateException e) when (e.InnerException is ModelShrinkException coded)
        {
            throw coded;
        }
    }

    private static OutputValues Find(IReadOnlyList<OutputValues> outputs, string name, string file) =>
        outputs.FirstOrDefault(o => o.Name == name)
        ?? throw ModelShrinkException.Error(ErrorCodes.ValidationOutput,
            $"has no numeric output '{name}' (outputs: {string.Join(", ", outputs.Select(o => o.Name))})", file, "Output");
}

/// <summary>A disposable made on first use, and disposed only if it was made.</summary>
internal sealed class OnDemand<T>(Func<T> create) : IDisposable
    where T : class, IDisposable
{
    private T? value;

    public T Value => value ??= create();

    public void Dispose() => value?.Dispose();
}
