using ModelShrink.Core.Budgets;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Plans;
using ModelShrink.Core.Validation;

namespace ModelShrink.Core.Search;

/// <summary>
/// Measures every layer at every precision below float on its ladder: one compression with only
/// that layer changed and one holdout run (on at most <see cref="ProbeSamples"/> samples) each,
/// run in parallel within the machine's cores. Plain rounding: reconstruction would measure the whole
/// model's layer inputs again for every probe, and the order it gives is what is wanted here.
/// </summary>
public static class SensitivityAnalysis
{
    /// <summary>Samples each probe is scored on: enough for a stable output error, a fraction of a large holdout's cost.</summary>
    public const int ProbeSamples = 16;

    /// <summary>How many probes <see cref="Measure"/> runs for <paramref name="layers"/> at most.</summary>
    public static int ProbeCount(IReadOnlyList<PlanLayer> layers) => layers.Sum(l => l.Ladder.Count - (Estimated(l) ? 2 : 1));

    // Per-channel int8 is estimated from the per-tensor probe where the weights allow it.
    private static bool Estimated(PlanLayer layer) =>
        layer.PerChannelNoiseRatio is not null && layer.Ladder.Contains(LayerPrecision.Int8PerTensor) && layer.Ladder.Contains(LayerPrecision.Int8);

    /// <summary>
    /// The sensitivity of each layer of <paramref name="layers"/> at each of its precisions, most
    /// sensitive first; <paramref name="probed"/> hears each finished probe.
    /// </summary>
    public static IReadOnlyList<LayerSensitivity> Measure(string source, string folder, JobSettings settings, IReadOnlyList<PlanLayer> layers, string display,
        CancellationToken cancellation, Action<string>? probed = null)
    {
        // Per-channel int8 is estimated from its per-tensor probe where the weights allow (a third of the probes).
        var ratios = layers.Where(Estimated)
            .ToDictionary(l => l.Name, l => l.PerChannelNoiseRatio!.Value, StringComparer.Ordinal);
        var probes = layers.SelectMany(l => l.Ladder.Where(p => p != LayerPrecision.Float && !(p == LayerPrecision.Int8 && ratios.ContainsKey(l.Name)))
            .Select(p => (Layer: l, Precision: p))).ToArray();
        var rows = new LayerSensitivity?[probes.Length];
        var quiet = settings.WithoutSizeBudgets().WithoutAccuracyBudgets() with
        {
            MaxLatencyRatio = null,
            HintBetterSettings = false,
            Validation = settings.Validation with { MaxSamples = ProbeSamples },
        };
        Parallel.For(0, probes.Length, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellation }, i =>
        {
            var (layer, precision) = probes[i];
            var only = settings.Compression with
            {
                Quantize = QuantizeMode.None,
                Plan = new LayerPlan(new Dictionary<string, LayerPrecision> { [layer.Name] = precision }),
                Reconstruct = Passes.Reconstruction.ReconstructMode.None,
                Prune = null,
            };
            var file = Path.Combine(folder, $"probe-{i}.onnx");
            var job = CompressionJob.Run(source, file, quiet with { Compression = only }, display, cancellation);
            File.Delete(file);
            if (job.Validation is { } v)
            {
                rows[i] = new LayerSensitivity(layer.Name, layer.OpType, v.Value, AccuracyBudget.Drop(v)) { Precision = precision, Noise = Noise(v) };
            }

            probed?.Invoke($"{layer.Name} {precision}");
        });

        var estimated = rows.OfType<LayerSensitivity>()
            .Where(r => r.Precision == LayerPrecision.Int8PerTensor && ratios.ContainsKey(r.Layer))
            .Select(r => r with { Precision = LayerPrecision.Int8, Noise = r.Noise * ratios[r.Layer], Metric = r.Metric, Drop = Math.Min(r.Drop, r.Drop * ratios[r.Layer]) })
            .ToArray();
        return rows.OfType<LayerSensitivity>().Concat(estimated).OrderByDescending(r => r.Noise).ThenByDescending(r => r.Drop).ThenBy(r => r.Layer, StringComparer.Ordinal).ToArray();
    }

    /// <summary>The output error's share of the output's energy: 10^(-SNR/10), 0 for identical outputs.</summary>
    public static double Noise(ValidationResult validation) =>
        double.IsPositiveInfinity(validation.Values.Snr) ? 0 : Math.Pow(10, -validation.Values.Snr / 10);
}
