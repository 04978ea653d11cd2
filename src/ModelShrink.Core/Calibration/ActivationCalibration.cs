using ModelShrink.Core.Validation.Holdout;
using ModelShrink.Core.Validation.Running;
using ModelShrink.Diagnostics;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Calibration;

/// <summary>
/// Measures activation ranges: a copy of the model exposes the wanted values as extra outputs, ONNX
/// Runtime runs it over the calibration data batch by batch, and one calibrator per value keeps
/// constant-size statistics, so memory does not grow with the number of samples.
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
        var signature = ModelSignature.Of(model);
        var folder = Path.Combine(Path.GetTempPath(), $"modelshrink-calibration-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            var augmented = Path.Combine(folder, "augmented.onnx");
            WriteWithOutputs(model, values, augmented, modelFile);
            var calibrators = values.ToDictionary(v => v, _ => Calibrators.Create(method, percentile), StringComparer.Ordinal);
            using var runner = new ModelRunner(augmented, intraOpThreads: Math.Max(1, Environment.ProcessorCount));
            var batches = 0;
            foreach (var batch in HoldoutReader.Open(calibrationData, signature, setting: "Calibration").Batches())
            {
                cancellation.ThrowIfCancellationRequested();
                HoldoutCheck.Check(batch, signature, calibrationData, "Calibration");
                foreach (var output in runner.Run(batch))
                {
                    if (calibrators.TryGetValue(output.Name, out var calibrator))
                    {
                        calibrator.Add(output.Values);
                    }
                }

                batches++;
            }

            if (batches == 0)
            {
                throw ModelShrinkException.Error(ErrorCodes.HoldoutUnreadable, "holds no samples", calibrationData, "Calibration");
            }

            return calibrators.ToDictionary(c => c.Key, c => c.Value.Range(), StringComparer.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    // An independent copy of the model (via its bytes) with every wanted value as a graph output.
    private static void WriteWithOutputs(Model model, IReadOnlyCollection<string> values, string path, string modelFile)
    {
        using var bytes = new MemoryStream(ModelWriter.ToBytes(model));
        var copy = ModelReader.Load(bytes, modelFile, model.Path is null ? null : Path.GetDirectoryName(model.Path));
        foreach (var name in values)
        {
            var value = copy.Graph.Values.FirstOrDefault(v => v.Name == name)
                ?? throw new ArgumentException($"'{name}' is not a value of the main graph", nameof(values));
            if (!value.IsGraphOutput)
            {
                value.Type ??= TensorType.OfUnknownShape(DataType.Float);
                copy.Graph.Outputs.Add(value);
            }
        }

        ModelWriter.Save(copy, path);
    }
}
