using ModelShrink.Onnx.Ir;

namespace ModelShrink.Core.Calibration;

/// <summary>
/// Measures activation ranges: a copy of the model exposes the wanted values as extra outputs, ONNX
/// Runtime runs it over the calibration data batch by batch (on every core), and one calibrator per
/// value keeps constant-size statistics, so memory does not grow with the number of samples. Each
/// batch is read once for every calibrator; the calibrators of one batch run in parallel.
/// </summary>
public static class ActivationCalibration
{
    /// <summary>
    /// The range of each value in <paramref name="values"/> (names of float values of the main graph)
    /// over the data at <paramref name="calibrationData"/> (any holdout layout); <paramref name="percentile"/>
    /// is the share of absolute values <see cref="CalibrationMethod.Percentile"/> keeps.
    /// </summary>
    public static IReadOnlyDictionary<string, ActivationRange> Measure(Model model, IReadOnlyCollection<string> values, string calibrationData,
        CalibrationMethod method, string modelFile, CancellationToken cancellation = default, double percentile = 99.999)
    {
        var calibrators = values.ToDictionary(v => v, _ => Calibrators.Create(method, percentile), StringComparer.Ordinal);
        // Graph inputs alone come straight from the data, with no model run (below).
        if (method == CalibrationMethod.MinMax && !values.All(v => model.Graph.Inputs.Any(input => input.Name == v)))
        {
            // ONNX Runtime reduces each value to its minimum and maximum in the graph: two numbers per
            // value and batch come back instead of the whole activation.
            var of = values.SelectMany(v => new[] { (InGraphStatistics.Min(v), v), (InGraphStatistics.Max(v), v) })
                .ToDictionary(p => p.Item1, p => p.v, StringComparer.Ordinal);
            AugmentedRun.ForEachBatch(model, of.Keys, calibrationData, modelFile, "Calibration",
                output => calibrators[of[output.Name]].Add(output.Values), cancellation,
                addNodes: copy => InGraphStatistics.AddMinMax(copy, values));
        }
        else
        {
            AugmentedRun.ForEachBatch(model, values, calibrationData, modelFile, "Calibration",
                output => calibrators[output.Name].Add(output.Values), cancellation, parallel: true);
        }

        return calibrators.ToDictionary(c => c.Key, c => c.Value.Range(), StringComparer.Ordinal);
    }
}
