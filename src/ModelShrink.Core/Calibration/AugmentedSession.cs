using ModelShrink.Core.Validation.Holdout;
using ModelShrink.Core.Validation.Running;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;

namespace ModelShrink.Core.Calibration;

/// <summary>
/// An ONNX Runtime session over a copy of a model that exposes some of its values as extra outputs
/// (held in memory when its weights are small or lie in external data, else written to a temporary folder
/// deleted on dispose), its weights left unpacked (a few batches run),
/// using every core of the machine. The copy may
/// be changed before it is written (bias correction inserts its in-graph shifts there). When every
/// value wanted is a graph input and nothing is changed, no copy is written and no session loads the
/// weights: the values come straight from the batches (a single large MatMul: 4 s of a 5 s int8static run).
/// </summary>
public sealed class AugmentedSession : IDisposable
{
    // Weights held in memory up to this size (attribute tensors counted) go to ONNX Runtime in memory: no file is written and read back
    // (digits-transformer's calibration: 1.5-4 ms for the bytes, 3-6.5 ms for the file, beside a run of
    // 6-15 ms). Weights in external data or larger ones are written with external data, as the bytes would
    // be a copy of them in memory (past 2 GB beyond protobuf's limit).
    private const long InMemoryBytes = 64L << 20;

    private readonly string? folder;
    private readonly ModelRunner? runner;
    private readonly HashSet<string> wanted;

    /// <summary>
    /// Makes <paramref name="model"/> with <paramref name="addNodes"/>'s nodes (which may only add nodes and
    /// initializers: they are added for the copy and removed again, so no copy of the weights is made for a
    /// write) and every value named in <paramref name="values"/> (values of its main graph, those added
    /// included) as an output, and opens it. With <paramref name="change"/>, an independent copy is changed instead.
    /// </summary>
    public AugmentedSession(Model model, IReadOnlyCollection<string> values, string modelFile, Action<Model>? addNodes = null, Action<Model>? change = null)
    {
        wanted = new HashSet<string>(values, StringComparer.Ordinal);
        if (addNodes is null && change is null && wanted.All(name => model.Graph.Inputs.Any(input => input.Name == name)))
        {
            return;
        }

        var threads = Math.Max(1, Environment.ProcessorCount);
        if (!ModelWriter.HasExternalData(model) && ModelWriter.TensorBytes(model) <= InMemoryBytes)
        {
            var bytes = change is null
                ? WithOutputs(model, values, addNodes, ModelWriter.ToBytes)
                : ModelWriter.ToBytes(ChangedCopy(model, values, modelFile, Prepare(change, addNodes)));
            runner = ModelRunner.FromBytes(bytes, modelFile, threads, prepackWeights: false);
            return;
        }

        // Weights in external data stay in their file, which ONNX Runtime reads from the model's folder: writing
        // a copy of a 3 GB model's weights for it took longer than the calibration.
        if (change is null && WithOutputs(model, values, addNodes, ModelWriter.ToBytesOverExternalData) is var (overData, dataFolder))
        {
            runner = ModelRunner.FromBytes(overData, modelFile, threads, dataFolder, prepackWeights: false);
            return;
        }

        folder = Path.Combine(Path.GetTempPath(), $"modelshrink-augmented-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            var augmented = Path.Combine(folder, "augmented.onnx");
            var beside = new ModelSaveOptions { ExternalDataThreshold = ModelWriter.AutomaticExternalDataThreshold };
            if (change is null)
            {
                WithOutputs(model, values, addNodes, m => ModelWriter.Save(m, augmented, beside));
            }
            else
            {
                ModelWriter.Save(ChangedCopy(model, values, modelFile, Prepare(change, addNodes)), augmented, beside);
            }

            runner = ModelRunner.Unpacked(augmented, threads);
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
        if (folder is not null)
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    // `use` of the model with `addNodes`'s nodes and every wanted value as a graph output (its bytes, or a
    // save beside its weights in external data): nodes, initializers and outputs are added for `use` only
    // and removed again, so the caller's model is unchanged and no copy of the weights is made in memory
    // for a save (a round trip through one protobuf copied every weight twice and failed past protobuf's
    // 2 GB limit, MSH2000 on a 3 GB model).
    private static T WithOutputs<T>(Model model, IReadOnlyCollection<string> values, Action<Model>? addNodes, Func<Model, T> use)
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
            return use(model);
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
    private static Model ChangedCopy(Model model, IReadOnlyCollection<string> values, string modelFile, Action<Model> prepare)
    {
        using var bytes = new MemoryStream(ModelWriter.ToBytes(model));
        var copy = ModelReader.Load(bytes, modelFile, model.Path is null ? null : Path.GetDirectoryName(model.Path));
        prepare(copy);
        AddOutputs(copy, values);
        return copy;
    }

    private static Action<Model> Prepare(Action<Model> change, Action<Model>? addNodes) => copy =>
    {
        change(copy);
        addNodes?.Invoke(copy);
    };

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
