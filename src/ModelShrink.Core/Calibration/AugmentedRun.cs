using ModelShrink.Core.Validation.Holdout;
using ModelShrink.Core.Validation.Running;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Calibration;

/// <summary>
/// Runs a copy of a model that exposes some of its values as extra outputs over data batch by batch
/// (shared by activation calibration and bias correction): the caller keeps constant-size statistics
/// per value, so memory does not grow with the number of samples.
/// </summary>
public static class AugmentedRun
{
    /// <summary>
    /// Feeds every output named in <paramref name="values"/> (float values of the main graph), batch by
    /// batch over <paramref name="data"/> (any holdout layout), to <paramref name="onOutput"/> (a graph
    /// input among them comes straight from the batch); returns
    /// the number of batches. Data with no batch at all is <see cref="ErrorCodes.HoldoutUnreadable"/>.
    /// </summary>
    public static int ForEachBatch(Model model, IReadOnlyCollection<string> values, string data, string modelFile, string setting,
        Action<OutputValues> onOutput, CancellationToken cancellation = default)
    {
        var signature = ModelSignature.Of(model);
        var wanted = new HashSet<string>(values, StringComparer.Ordinal);
        var folder = Path.Combine(Path.GetTempPath(), $"modelshrink-augmented-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            var augmented = Path.Combine(folder, "augmented.onnx");
            WriteWithOutputs(model, values, augmented, modelFile);
            using var runner = new ModelRunner(augmented, intraOpThreads: Math.Max(1, Environment.ProcessorCount));
            var batches = 0;
            foreach (var batch in HoldoutReader.Open(data, signature, setting: setting).Batches())
            {
                cancellation.ThrowIfCancellationRequested();
                HoldoutCheck.Check(batch, signature, data, setting);
                var delivered = new HashSet<string>(StringComparer.Ordinal);
                foreach (var output in runner.Run(batch))
                {
                    if (wanted.Contains(output.Name) && delivered.Add(output.Name))
                    {
                        onOutput(output);
                    }
                }

                foreach (var (name, tensor) in batch.Inputs)
                {
                    if (wanted.Contains(name) && tensor.DataType == DataType.Float && delivered.Add(name))
                    {
                        onOutput(new OutputValues(name, tensor.Dims.ToArray(), tensor.ToArray<float>()));
                    }
                }

                batches++;
            }

            if (batches == 0)
            {
                throw ModelShrinkException.Error(ErrorCodes.HoldoutUnreadable, "holds no samples", data, setting);
            }

            return batches;
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
            if (!value.IsGraphOutput && !value.IsGraphInput)
            {
                value.Type ??= TensorType.OfUnknownShape(DataType.Float);
                copy.Graph.Outputs.Add(value);
            }
        }

        ModelWriter.Save(copy, path);
    }
}
