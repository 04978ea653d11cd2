using ModelShrink.Core.Validation.Holdout;
using ModelShrink.Core.Validation.Running;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;

namespace ModelShrink.Core.Calibration;

/// <summary>
/// An ONNX Runtime session over a copy of a model that exposes some of its values as extra outputs
/// (written to a temporary folder, deleted on dispose), using every core of the machine. The copy may
/// be changed before it is written (bias correction inserts its in-graph shifts there). When every
/// value wanted is a graph input and nothing is changed, no copy is written and no session loads the
/// weights: the values come straight from the batches (a single large MatMul: 4 s of a 5 s int8static run).
/// </summary>
public sealed class AugmentedSession : IDisposable
{
    private readonly string folder;
    private readonly ModelRunner? runner;
    private readonly HashSet<string> wanted;

    // A calibration runs a few batches: every core, and weights used where they lie (see ModelRunner's prepackWeights).
    private static int Threads => Math.Max(1, Environment.ProcessorCount);

    /// <summary>
    /// Writes <paramref name="model"/> with <paramref name="addNodes"/>'s nodes (which may only add nodes and
    /// initializers: they are added for the write and removed again, so no copy of the weights is made) and
    /// every value named in <paramref name="values"/> (values of its main graph, those added included) as an
    /// output, and opens it. With <paramref name="change"/>, an independent copy is changed and written instead.
    /// </summary>
    public AugmentedSession(Model model, IReadOnlyCollection<string> values, string modelFile, Action<Model>? addNodes = null, Action<Model>? change = null)
    {
        wanted = new HashSet<string>(values, StringComparer.Ordinal);
        folder = Path.Combine(Path.GetTempPath(), $"modelshrink-augmented-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            if (addNodes is not null || change is not null || !wanted.All(name => model.Graph.Inputs.Any(input => input.Name == name)))
            {
                var augmented = Path.Combine(folder, "augmented.onnx");
                var inMemory = change is null ? WriteWithOutputs(model, values, augmented, addNodes) : null;
                if (change is not null)
                {
                    WriteChangedCopy(model, values, augmented, modelFile, copy =>
                    {
                        change(copy);
                        addNodes?.Invoke(copy);
                    });
                }

                runner = inMemory is var (bytes, dataFolder)
                    ? new ModelRunner(bytes, modelFile, dataFolder, Threads, prepackWeights: false)
                    : new ModelRunner(augmented, Threads, prepackWeights: false);
            }
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
        foreach (var output in runner?.Run(batch) ?? [])
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

    /// <summary>
    /// Runs one batch and hands each wanted float value once to <paramref name="use"/>, viewed where it
    /// lies (ONNX Runtime's output buffers, the batch's bytes) and valid only during the call.
    /// </summary>
    public void Run(HoldoutBatch batch, Action<IReadOnlyList<BorrowedValues>> use)
    {
        void Deliver(IReadOnlyList<BorrowedValues> outputs)
        {
            var delivered = new HashSet<string>(StringComparer.Ordinal);
            var wantedOutputs = outputs.Where(output => wanted.Contains(output.Name) && delivered.Add(output.Name)).ToList();
            foreach (var (name, tensor) in batch.Inputs)
            {
                if (wanted.Contains(name) && tensor.DataType == Onnx.Tensors.DataType.Float && delivered.Add(name))
                {
                    wantedOutputs.Add(new BorrowedValues(name, tensor.GetRawData()));
                }
            }

            use(wantedOutputs);
        }

        if (runner is null)
        {
            Deliver([]);
        }
        else
        {
            runner.Run(batch, Deliver);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        runner?.Dispose();
        Directory.Delete(folder, recursive: true);
    }

    // The model with `addNodes`'s nodes and every wanted value as a graph output: nodes, initializers and
    // outputs are added for the save only and removed again, so the caller's model is unchanged and no copy
    // of the weights is made in memory (a round trip through one protobuf copied every weight twice and
    // failed past protobuf's 2 GB limit, MSH2000 on a 3 GB model). A model with external data stays in
    // memory with its weights pointing at their own file (writing a copy of a 3 GB model's weights for
    // ONNX Runtime took longer than the calibration); any other is written to `path` (returns null).
    private static (byte[] Bytes, string DataFolder)? WriteWithOutputs(Model model, IReadOnlyCollection<string> values, string path, Action<Model>? addNodes)
    {
        var graph = model.Graph;
        var outputs = graph.Outputs.Count;
        var nodes = graph.Nodes.ToHashSet();
        var initializers = graph.Initializers.ToHashSet();
        var typed = new List<Value>();
        try
        {
            addNodes?.Invoke(model);
            typed.AddRange(AddOutputs(model, values));
            if (ModelWriter.ToBytesOverExternalData(model) is { } inMemory)
            {
                return inMemory;
            }

            ModelWriter.Save(model, path, new ModelSaveOptions { ExternalDataThreshold = ModelWriter.AutomaticExternalDataThreshold });
            return null;
        }
        finally
        {
            graph.Outputs.RemoveRange(outputs, graph.Outputs.Count - outputs);
            foreach (var value in typed)
            {
                value.Type = null;
            }

            // Added nodes read earlier added ones, never the reverse: the last added goes first.
            foreach (var node in graph.Nodes.Where(n => !nodes.Contains(n)).Reverse().ToList())
            {
                graph.RemoveNode(node);
            }

            foreach (var initializer in graph.Initializers.Where(v => !initializers.Contains(v)).ToList())
            {
                graph.RemoveInitializer(initializer);
            }
        }
    }

    // An independent copy of the model (via its bytes), changed by `prepare`, with every wanted value as a graph output.
    private static void WriteChangedCopy(Model model, IReadOnlyCollection<string> values, string path, string modelFile, Action<Model> prepare)
    {
        using var bytes = new MemoryStream(ModelWriter.ToBytes(model));
        var copy = ModelReader.Load(bytes, modelFile, model.Path is null ? null : Path.GetDirectoryName(model.Path));
        prepare(copy);
        AddOutputs(copy, values);
        ModelWriter.Save(copy, path, new ModelSaveOptions { ExternalDataThreshold = ModelWriter.AutomaticExternalDataThreshold });
    }

    // Adds every wanted value that is not already an input or output as a graph output; returns those it had to type.
    private static List<Value> AddOutputs(Model model, IReadOnlyCollection<string> values)
    {
        var typed = new List<Value>();
        foreach (var name in values)
        {
            var value = model.Graph.Values.FirstOrDefault(v => v.Name == name)
                ?? throw new ArgumentException($"'{name}' is not a value of the main graph", nameof(values));
            if (!value.IsGraphOutput && !value.IsGraphInput)
            {
                if (value.Type is null)
                {
                    value.Type = TensorType.OfUnknownShape(Onnx.Tensors.DataType.Float);
                    typed.Add(value);
                }

                model.Graph.Outputs.Add(value);
            }
        }

        return typed;
    }
}
