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
        // Values that are all graph inputs come straight from the batches: no copy of the model is
        // written and no session loads its weights (a single large MatMul: 4 s of a 5 s int8static run).
        var inputsOnly = wanted.All(name => model.Graph.Inputs.Any(input => input.Name == name));
        var folder = Path.Combine(Path.GetTempPath(), $"modelshrink-augmented-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            ModelRunner? runner = null;
            if (!inputsOnly)
            {
                var augmented = Path.Combine(folder, "augmented.onnx");
                WriteWithOutputs(model, values, augmented);
                runner = new ModelRunner(augmented, intraOpThreads: Math.Max(1, Environment.ProcessorCount));
            }

            using var session = runner;
            var batches = 0;
            foreach (var batch in HoldoutReader.Open(data, signature, setting: setting).Batches())
            {
                cancellation.ThrowIfCancellationRequested();
                HoldoutCheck.Check(batch, signature, data, setting);
                var delivered = new HashSet<string>(StringComparer.Ordinal);
                foreach (var output in runner?.Run(batch) ?? [])
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

    // The model with every wanted value as a graph output, written beside its weights in external data:
    // the outputs are added for the save only and removed again, so the caller's model is unchanged and
    // no copy of the weights is made in memory (a round trip through one protobuf copied every weight
    // twice and failed past protobuf's 2 GB limit, MSH2000 on a 3 GB model).
    private static void WriteWithOutputs(Model model, IReadOnlyCollection<string> values, string path)
    {
        var outputs = model.Graph.Outputs.Count;
        var typed = new List<Value>();
        try
        {
            foreach (var name in values)
            {
                var value = model.Graph.Values.FirstOrDefault(v => v.Name == name)
                    ?? throw new ArgumentException($"'{name}' is not a value of the main graph", nameof(values));
                if (!value.IsGraphOutput && !value.IsGraphInput)
                {
                    if (value.Type is null)
                    {
                        value.Type = TensorType.OfUnknownShape(DataType.Float);
                        typed.Add(value);
                    }

                    model.Graph.Outputs.Add(value);
                }
            }

            ModelWriter.Save(model, path, new ModelSaveOptions { ExternalDataThreshold = ModelWriter.AutomaticExternalDataThreshold });
        }
        finally
        {
            model.Graph.Outputs.RemoveRange(outputs, model.Graph.Outputs.Count - outputs);
            foreach (var value in typed)
            {
                value.Type = null;
            }
        }
    }
}
