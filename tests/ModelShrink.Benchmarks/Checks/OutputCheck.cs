using Microsoft.ML.OnnxRuntime;
using ModelShrink.Onnx.IO;

namespace ModelShrink.Benchmarks.Checks;

/// <summary>Checks that a model a benchmark wrote is there, loads in ONNX Runtime and holds the operators it should.</summary>
public static class OutputCheck
{
    /// <summary>
    /// Throws <see cref="BenchmarkFailedException"/> naming <paramref name="what"/> unless <paramref name="path"/>
    /// is a non-empty model that ONNX Runtime loads and, for each group of <paramref name="expected"/>, holds a node
    /// of one of its operator types ("MatMulNBits|DequantizeLinear" reads "either"). Returns the operator counts.
    /// </summary>
    public static IReadOnlyDictionary<string, int> Model(string path, string what, params string[] expected)
    {
        if (!File.Exists(path) || new FileInfo(path).Length == 0)
        {
            throw new BenchmarkFailedException($"{what}: wrote no model at {path}");
        }

        try
        {
            using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
            using var session = new InferenceSession(path, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new BenchmarkFailedException($"{what}: ONNX Runtime cannot load {path}: {e.Message}");
        }

        var ops = ModelReader.Load(path).Graph.EnumerateNodes()
            .GroupBy(n => n.OpType)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        foreach (var group in expected)
        {
            if (!group.Split('|').Any(ops.ContainsKey))
            {
                throw new BenchmarkFailedException($"{what}: {path} has no {group.Replace("|", " or ")} node (it has {Describe(ops)})");
            }
        }

        return ops;
    }

    /// <summary>"MatMul 1, Relu 2" in name order.</summary>
    public static string Describe(IReadOnlyDictionary<string, int> ops) =>
        string.Join(", ", ops.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value}"));

    /// <summary>Throws <see cref="BenchmarkFailedException"/> unless every value is finite.</summary>
    public static void Finite(ReadOnlySpan<float> values, string what)
    {
        for (var i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                throw new BenchmarkFailedException($"{what}: value {i} of {values.Length} is {values[i]}");
            }
        }
    }
}
