using ModelShrink.Core.Passes;
using ModelShrink.Core.Passes.Pruning;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Pruning;

/// <summary>A pruned model: its saved path, the saved file loaded back, what the pass reported.</summary>
internal sealed record Pruned(string Path, Model Model, PassResult Result, PassContext Context)
{
    public long Counter(string name) => Result.Counters.TryGetValue(name, out var value) ? value : throw new KeyNotFoundException($"no counter '{name}' in {string.Join(", ", Result.Counters.Keys)}");

    public IEnumerable<string> Codes => Context.Diagnostics.Select(d => d.Code);
}

/// <summary>Top-1 results of a model over a fixture's whole holdout, as ONNX Runtime computed them.</summary>
internal sealed record HoldoutScore(double Agreement, double OriginalAccuracy, double Accuracy, double MaxAbsDiff)
{
    public override string ToString() => $"agreement {Agreement:P2}, accuracy {OriginalAccuracy:P2} -> {Accuracy:P2}, max|diff| {MaxAbsDiff:G3}";
}

/// <summary>Runs the prune pass on fixtures and measures the results in ONNX Runtime.</summary>
internal static class PruningHarness
{
    /// <summary>Loads a fixture, runs the pass, saves the result in <paramref name="folder"/> and loads it back.</summary>
    public static Pruned Prune(string fixture, PruneOptions options, TempDirectory folder) => PruneFile(Fixtures.Model(fixture), options, folder);

    /// <summary>Loads a model file, runs the pass, saves the result and loads it back.</summary>
    public static Pruned PruneFile(string source, PruneOptions options, TempDirectory folder)
    {
        var model = ModelReader.Load(source);
        return PruneModel(model, source, options, folder);
    }

    /// <summary>Runs the pass on an in-memory model, saves it and loads it back.</summary>
    public static Pruned PruneModel(Model model, string display, PruneOptions options, TempDirectory folder)
    {
        var context = new PassContext(display);
        var result = new PrunePass(options).Run(model, context);
        var path = folder.File($"pruned.{Guid.NewGuid().ToString("N")[..8]}.onnx");
        ModelWriter.Save(model, path);
        return new Pruned(path, ModelReader.Load(path), result, context);
    }

    /// <summary>The float32 data of a weight, wherever it is stored (dense, Constant node or sparse).</summary>
    public static float[] Weight(Model model, string name)
    {
        var value = model.Graph.EnumerateGraphs().Select(g => g.FindValue(name)).FirstOrDefault(v => v is not null)
            ?? throw new KeyNotFoundException(name);
        var tensor = value.ConstantTensor ?? value.SparseInitializer?.ToDense() ?? throw new InvalidOperationException($"{name} is not a weight");
        return tensor.ToFloatArray();
    }

    /// <summary>The shape of a weight, wherever it is stored.</summary>
    public static long[] Dims(Model model, string name)
    {
        var value = model.Graph.EnumerateGraphs().Select(g => g.FindValue(name)).First(v => v is not null)!;
        return (value.ConstantTensor?.Dims ?? value.SparseInitializer!.Dims).ToArray();
    }

    /// <summary>The weight read by input <paramref name="slot"/> of the node named <paramref name="node"/>.</summary>
    public static string WeightOf(Model model, string node, int slot = 1) =>
        model.Graph.EnumerateNodes().First(n => n.Name == node).Inputs[slot]!.Name;

    /// <summary>Elements equal to zero.</summary>
    public static int Zeros(float[] values) => values.Count(v => v == 0);

    /// <summary>Elements of every weight in the model (dense or sparse).</summary>
    public static long Parameters(Model model) =>
        model.Graph.EnumerateGraphs().SelectMany(g => g.Values)
            .Sum(v => v.ConstantTensor?.ElementCount ?? v.SparseInitializer?.ElementCount ?? 0);

    /// <summary>Runs the original fixture and a candidate over every holdout set and scores the candidate.</summary>
    public static HoldoutScore Score(string fixture, string candidate, string? original = null)
    {
        original ??= Fixtures.Model(fixture);
        var labels = Fixtures.Labels(fixture);
        int agree = 0, right = 0, rightOriginal = 0, sample = 0;
        double maxDiff = 0;
        foreach (var set in Fixtures.DataSets(fixture))
        {
            var inputs = Fixtures.Inputs(set);
            var expected = OrtRunner.Run(original, inputs).First().Value;
            var actual = OrtRunner.Run(candidate, inputs).First().Value;
            Assert.HasCount(expected.Length, actual, "the output shape changed");
            maxDiff = Math.Max(maxDiff, expected.Zip(actual, (e, a) => (double)Math.Abs(e - a)).Max());
            var top = OrtRunner.ArgMax(expected, 10);
            var topCandidate = OrtRunner.ArgMax(actual, 10);
            for (var row = 0; row < top.Length; row++, sample++)
            {
                agree += top[row] == topCandidate[row] ? 1 : 0;
                rightOriginal += top[row] == labels[sample] ? 1 : 0;
                right += topCandidate[row] == labels[sample] ? 1 : 0;
            }
        }

        return new HoldoutScore(agree / (double)sample, rightOriginal / (double)sample, right / (double)sample, maxDiff);
    }

    /// <summary>A model of one op over one float weight: x[rows, K] -> op -> y, for layout tests.</summary>
    public static Model SingleLayer(string op, Tensor weight, long inputWidth, params Onnx.Ir.Attribute[] attributes)
    {
        var model = Model.Create("single", 8, ("", 17));
        var graph = model.Graph;
        var x = graph.AddInput("x", TensorType.Of(DataType.Float, "N", inputWidth));
        var w = graph.AddInitializer(weight);
        var node = graph.AddNode(op, op == "Gather" ? [w, x] : [x, w], ["y"], attributes, name: op.ToLowerInvariant());
        graph.Outputs.Add(node.Outputs[0]!);
        return model;
    }

    /// <summary>Random float32 values, deterministic per seed.</summary>
    public static float[] RandomValues(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }
}
