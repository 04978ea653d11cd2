using Microsoft.ML.OnnxRuntime;
using ModelShrink.Core.Passes;
using ModelShrink.Core.Passes.Int8Static;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Quantization;

/// <summary>
/// Static quantization of the fixtures as the tests use it: calibrated on the first 4 holdout sets
/// (copied into a folder of their own), evaluated in ONNX Runtime on the other 4.
/// </summary>
internal static class StaticQuantization
{
    /// <summary>How many holdout sets calibrate; the rest evaluate.</summary>
    public const int CalibrationSets = 4;

    /// <summary>A folder under <paramref name="folder"/> holding copies of the fixture's first <see cref="CalibrationSets"/> sets.</summary>
    public static string CalibrationData(string fixture, TempDirectory folder)
    {
        var target = folder.File($"calibration-{fixture}");
        foreach (var set in Fixtures.DataSets(fixture).Take(CalibrationSets))
        {
            var copy = Path.Combine(target, Path.GetFileName(set));
            Directory.CreateDirectory(copy);
            foreach (var file in Directory.GetFiles(set))
            {
                File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
            }
        }

        return target;
    }

    /// <summary>Quantizes a fixture with <paramref name="options"/> (calibration data filled in) and saves it.</summary>
    public static (string Path, PassResult Result, PassContext Context, Model Model) Apply(string fixture, TempDirectory folder,
        Int8StaticOptions? options = null, string name = "static.onnx")
    {
        var calibration = CalibrationData(fixture, folder);
        var pass = new Int8StaticPass((options ?? new Int8StaticOptions()) with { CalibrationData = calibration });
        return QuantizedModels.Apply(Fixtures.Model(fixture), pass, folder, name);
    }

    /// <summary>The logits of the evaluation sets (those not used for calibration), computed by ONNX Runtime.</summary>
    public static float[] EvaluationLogits(string modelPath, string fixture) =>
        Fixtures.DataSets(fixture).Skip(CalibrationSets).SelectMany(set => OrtRunner.Run(modelPath, Fixtures.Inputs(set))["logits"]).ToArray();

    /// <summary>The labels of the evaluation sets.</summary>
    public static int[] EvaluationLabels(string fixture)
    {
        var labels = Fixtures.Labels(fixture);
        var perSet = labels.Length / Fixtures.DataSets(fixture).Length;
        return labels.Skip(CalibrationSets * perSet).ToArray();
    }

    /// <summary>Top-1 accuracy of logits against labels.</summary>
    public static double Accuracy(float[] logits, int[] labels, int classes = 10) =>
        OrtRunner.ArgMax(logits, classes).Zip(labels).Count(p => p.First == p.Second) / (double)labels.Length;

    /// <summary>Operators (domain-qualified) of the model ONNX Runtime runs after its optimizations at <paramref name="level"/>, counted.</summary>
    public static Dictionary<string, int> OptimizedOps(string modelPath, GraphOptimizationLevel level)
    {
        var optimized = Path.Combine(Path.GetDirectoryName(modelPath)!, $"optimized-{level}-{Path.GetFileName(modelPath)}");
        using (var options = new SessionOptions
        {
            GraphOptimizationLevel = level,
            OptimizedModelFilePath = optimized,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        })
        using (new InferenceSession(modelPath, options))
        {
        }

        return ModelReader.Load(optimized).Graph.EnumerateNodes()
            .GroupBy(n => (n.Domain.Length > 0 ? n.Domain + "." : "") + n.OpType)
            .ToDictionary(g => g.Key, g => g.Count());
    }

    /// <summary>A test_data_set folder (inside <paramref name="root"/>) with one input tensor.</summary>
    public static string WriteDataSet(string root, int index, Tensor input)
    {
        var set = Path.Combine(root, $"test_data_set_{index}");
        Directory.CreateDirectory(set);
        TensorFile.Write(input, Path.Combine(set, "input_0.pb"));
        return set;
    }
}
