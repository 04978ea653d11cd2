using ModelShrink.Core.Validation.Holdout;
using ModelShrink.Core.Validation.Running;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;

namespace ModelShrink.Core.Calibration;

/// <summary>
/// An ONNX Runtime session over a copy of a model that exposes some of its values as extra outputs
/// (written to a temporary folder, deleted on dispose), using every core of the machine. The copy may
/// be changed before it is written (bias correction inserts its in-graph shifts there).
/// </summary>
public sealed class AugmentedSession : IDisposable
{
    private readonly string folder;
    private readonly ModelRunner runner;
    private readonly HashSet<string> wanted;

    /// <summary>
    /// Writes a copy of <paramref name="model"/>, changed by <paramref name="prepare"/>, with every value named
    /// in <paramref name="values"/> (values of its main graph, those <paramref name="prepare"/> added included)
    /// as an output, and opens it.
    /// </summary>
    public AugmentedSession(Model model, IReadOnlyCollection<string> values, string modelFile, Action<Model>? prepare = null)
    {
        wanted = new HashSet<string>(values, StringComparer.Ordinal);
        folder = Path.Combine(Path.GetTempPath(), $"modelshrink-augmented-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            var augmented = Path.Combine(folder, "augmented.onnx");
            WriteWithOutputs(model, values, augmented, modelFile, prepare);
            runner = new ModelRunner(augmented, intraOpThreads: Math.Max(1, Environment.ProcessorCount));
        }
        catch
        {
            Directory.Delete(folder, recursive: true);
            throw;
        }
    }

    /// <summary>
    /// Runs one batch and returns each wanted value once (a graph input among them comes straight from
    /// the batch); inputs of the batch the model does not read as a wanted value are only fed.
    /// </summary>
    public List<OutputValues> Run(HoldoutBatch batch)
    {
        var delivered = new HashSet<string>(StringComparer.Ordinal);
        var outputs = new List<OutputValues>();
        foreach (var output in runner.Run(batch))
        {
            if (wanted.Contains(output.Name) && delivered.Add(output.Name))
            {
                outputs.Add(output);
            }
        }

        foreach (var (name, tensor) in batch.Inputs)
        {
            if (wanted.Contains(name) && tensor.DataType == Onnx.Tensors.DataType.Float && delivered.Add(name))
            {
                outputs.Add(new OutputValues(name, tensor.Dims.ToArray(), tensor.ToArray<float>()));
            }
        }

        return outputs;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        runner.Dispose();
        Directory.Delete(folder, recursive: true);
    }

    // An independent copy of the model (via its bytes) with every wanted value as a graph output.
    private static void WriteWithOutputs(Model model, IReadOnlyCollection<string> values, string path, string modelFile, Action<Model>? prepare)
    {
        using var bytes = new MemoryStream(ModelWriter.ToBytes(model));
        var copy = ModelReader.Load(bytes, modelFile, model.Path is null ? null : Path.GetDirectoryName(model.Path));
        prepare?.Invoke(copy);
        foreach (var name in values)
        {
            var value = copy.Graph.Values.FirstOrDefault(v => v.Name == name)
                ?? throw new ArgumentException($"'{name}' is not a value of the main graph", nameof(values));
            if (!value.IsGraphOutput && !value.IsGraphInput)
            {
                value.Type ??= TensorType.OfUnknownShape(Onnx.Tensors.DataType.Float);
                copy.Graph.Outputs.Add(value);
            }
        }

        ModelWriter.Save(copy, path);
    }
}
