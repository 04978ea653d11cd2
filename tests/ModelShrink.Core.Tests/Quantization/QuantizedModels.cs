using ModelShrink.Core.Passes;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Quantization;

/// <summary>Runs a pass on a model, saves it, and compares what ONNX Runtime computes with it to the original.</summary>
internal static class QuantizedModels
{
    /// <summary>Loads <paramref name="source"/>, runs <paramref name="pass"/>, saves the result into <paramref name="folder"/>.</summary>
    public static (string Path, PassResult Result, PassContext Context, Model Model) Apply(string source, IPass pass, TempDirectory folder, string name = "quantized.onnx")
    {
        var model = ModelReader.Load(source);
        var context = new PassContext(source);
        var result = pass.Run(model, context);
        var path = folder.File(name);
        ModelWriter.Save(model, path);
        return (path, result, context, model);
    }

    /// <summary>The logits of every holdout set of a fixture, in order, computed by ONNX Runtime on <paramref name="modelPath"/>.</summary>
    public static float[] Logits(string modelPath, string fixture)
    {
        var all = new List<float>();
        foreach (var set in Fixtures.DataSets(fixture))
        {
            all.AddRange(OrtRunner.Run(modelPath, Fixtures.Inputs(set))["logits"]);
        }

        return all.ToArray();
    }

    /// <summary>The share of rows whose top-1 class agrees.</summary>
    public static double Agreement(float[] a, float[] b, int classes = 10)
    {
        var x = OrtRunner.ArgMax(a, classes);
        var y = OrtRunner.ArgMax(b, classes);
        return x.Zip(y).Count(p => p.First == p.Second) / (double)x.Length;
    }

    /// <summary>Top-1 accuracy against the fixture's labels.</summary>
    public static double Accuracy(float[] logits, string fixture, int classes = 10)
    {
        var labels = Fixtures.Labels(fixture);
        var predicted = OrtRunner.ArgMax(logits, classes);
        return predicted.Zip(labels).Count(p => p.First == p.Second) / (double)labels.Length;
    }

    /// <summary>Cosine similarity of two vectors.</summary>
    public static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += a[i] * (double)b[i];
            na += a[i] * (double)a[i];
            nb += b[i] * (double)b[i];
        }

        return dot / Math.Sqrt(na * nb);
    }

    /// <summary>Op types of every node in every graph, counted.</summary>
    public static Dictionary<string, int> OpCounts(string modelPath) =>
        ModelReader.Load(modelPath).Graph.EnumerateNodes().GroupBy(n => n.OpType).ToDictionary(g => g.Key, g => g.Count());

    /// <summary>
    /// Writes a weight-dominated model: Y = X · W with W a [k, n] float32 weight of values in ±0.05
    /// (the shape of the benchmark's GeneratedMatMulModel, smaller), at <paramref name="opset"/>.
    /// </summary>
    public static string WriteMatMulModel(string path, int k, int n, long opset = 17, int seed = 42)
    {
        var model = Model.Create("matmul", 8, ("", opset));
        var graph = model.Graph;
        var x = graph.AddInput("x", TensorType.Of(DataType.Float, "N", k));
        var w = graph.AddInitializer(Tensor.FromArray<float>("W", [k, n], RandomValues(k * n, seed, 0.05f)));
        var y = graph.AddNode("MatMul", [x, w], ["y"]).Outputs[0]!;
        y.Type = TensorType.Of(DataType.Float, "N", n);
        graph.Outputs.Add(y);
        ModelWriter.Save(model, path);
        return path;
    }

    /// <summary>Uniform values in ±<paramref name="range"/>, reproducible.</summary>
    public static float[] RandomValues(int count, int seed, float range)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = (float)(random.NextDouble() * 2 - 1) * range;
        }

        return values;
    }

    /// <summary>Runs a single-input model on <paramref name="input"/> and returns its first float output.</summary>
    public static float[] Run(string modelPath, Tensor input) => OrtRunner.Run(modelPath, [input]).Values.First();
}
