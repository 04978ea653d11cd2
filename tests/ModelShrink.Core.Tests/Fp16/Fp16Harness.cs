using ModelShrink.Core.Passes.Types;
using ModelShrink.Core.Passes;
using ModelShrink.Core.Passes.Fp16;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Fp16;

/// <summary>How a converted model's outputs compare with the float32 original's over a fixture's whole holdout.</summary>
/// <param name="MaxAbsDiff">Largest absolute difference of any logit.</param>
/// <param name="LogitScale">Largest absolute logit of the original.</param>
/// <param name="Agreement">Share of samples whose top-1 class is the original's.</param>
/// <param name="OriginalAccuracy">The original's top-1 accuracy against the labels.</param>
/// <param name="ConvertedAccuracy">The converted model's top-1 accuracy against the labels.</param>
internal sealed record Comparison(double MaxAbsDiff, double LogitScale, double Agreement, double OriginalAccuracy, double ConvertedAccuracy)
{
    public double RelativeDiff => MaxAbsDiff / LogitScale;

    public override string ToString() =>
        $"max|diff| {MaxAbsDiff:G3} (logit scale {LogitScale:G3}, {RelativeDiff:P2}), agreement {Agreement:P2}, accuracy {OriginalAccuracy:P2} -> {ConvertedAccuracy:P2}";
}

/// <summary>A converted model: its saved path, the saved file loaded back, what the pass reported.</summary>
internal sealed record Converted(string Path, Model Model, PassResult Result, PassContext Context);

/// <summary>Converts fixtures with the fp16 pass and measures the result in ONNX Runtime.</summary>
internal static class Fp16Harness
{
    /// <summary>Loads a fixture, runs the pass, saves the result under <paramref name="folder"/>.</summary>
    public static Converted Convert(string fixture, TempDirectory folder, Fp16Options? options = null) =>
        ConvertFile(Fixtures.Model(fixture), folder, options);

    /// <summary>Loads a model file, runs the pass, saves the result next to it in <paramref name="folder"/> and loads that back.</summary>
    public static Converted ConvertFile(string source, TempDirectory folder, Fp16Options? options = null)
    {
        var model = ModelReader.Load(source);
        var context = new PassContext(source);
        var result = new Fp16Pass(options ?? new Fp16Options()).Run(model, context);
        var path = folder.File(Path.GetFileNameWithoutExtension(source) + "." + Guid.NewGuid().ToString("N")[..8] + ".fp16.onnx");
        ModelWriter.Save(model, path);
        return new Converted(path, ModelReader.Load(path), result, context);
    }

    /// <summary>Largest absolute difference between two models' first outputs on the same inputs.</summary>
    public static double MaxAbsDiff(string original, string converted, IReadOnlyList<Tensor> inputs)
    {
        var expected = OrtRunner.Run(original, inputs).First().Value;
        var actual = OrtRunner.Run(converted, inputs).First().Value;
        Assert.HasCount(expected.Length, actual);
        return expected.Zip(actual, (e, a) => (double)Math.Abs(e - a)).DefaultIfEmpty(0).Max();
    }

    /// <summary>The same tensor with float32 data rounded to float16.</summary>
    public static Tensor ToHalf(Tensor tensor) => tensor.DataType == DataType.Float
        ? Tensor.FromArray(tensor.Name, tensor.Dims.ToArray(), Array.ConvertAll(tensor.ToArray<float>(), f => (Half)f))
        : tensor;

    /// <summary>The element type of a value as the converted model declares or implies it.</summary>
    public static DataType? TypeOf(Model model, Value value) => ElementTypeInference.Infer(model).TryGetValue(value, out var t) ? t : null;

    /// <summary>Runs both models on every holdout set and compares the first output.</summary>
    public static Comparison Compare(string fixture, string converted, Func<Tensor, Tensor>? mapInput = null)
    {
        var labels = Fixtures.Labels(fixture);
        var original = Fixtures.Model(fixture);
        double maxDiff = 0, scale = 0;
        int agree = 0, rightOriginal = 0, rightConverted = 0, sample = 0;
        foreach (var set in Fixtures.DataSets(fixture))
        {
            var inputs = Fixtures.Inputs(set);
            var expected = OrtRunner.Run(original, inputs).First().Value;
            var actual = OrtRunner.Run(converted, mapInput is null ? inputs : inputs.Select(mapInput).ToArray()).First().Value;
            Assert.HasCount(expected.Length, actual);
            for (var i = 0; i < expected.Length; i++)
            {
                maxDiff = Math.Max(maxDiff, Math.Abs(expected[i] - actual[i]));
                scale = Math.Max(scale, Math.Abs(expected[i]));
            }

            var top = OrtRunner.ArgMax(expected, 10);
            var topConverted = OrtRunner.ArgMax(actual, 10);
            for (var row = 0; row < top.Length; row++, sample++)
            {
                agree += top[row] == topConverted[row] ? 1 : 0;
                rightOriginal += top[row] == labels[sample] ? 1 : 0;
                rightConverted += topConverted[row] == labels[sample] ? 1 : 0;
            }
        }

        return new Comparison(maxDiff, scale, agree / (double)sample, rightOriginal / (double)sample, rightConverted / (double)sample);
    }

    /// <summary>Bytes of weight data: initializers and Constant tensors in every graph.</summary>
    public static long WeightBytes(Model model) =>
        model.Graph.EnumerateGraphs().SelectMany(g => g.Values).Select(v => v.ConstantTensor).OfType<Tensor>().Sum(t => t.ByteCount);

    /// <summary>Cast nodes that read another Cast's output, both between float32 and float16 (a round trip or a redundant pair).</summary>
    public static int CastPairs(Model model) =>
        model.Graph.EnumerateNodes().Count(n => n.Is("Cast") && IsFloatCast(n) && n.Inputs[0]?.Producer is { } p && p.Is("Cast") && IsFloatCast(p));

    private static bool IsFloatCast(Node cast) => cast.GetInt("to", 0) is (long)DataType.Float or (long)DataType.Float16;
}
