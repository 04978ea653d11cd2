using Microsoft.ML.OnnxRuntime;
using ModelShrink.Onnx.IO;

namespace ModelShrink.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release -- ort-ops MODEL...</c>: the operators ONNX Runtime actually runs for each
/// model after its graph optimizations (CPU, all levels), counted, to see which quantized forms it
/// fuses (DynamicQuantizeMatMul, MatMulNBits) or folds back to float.
/// </summary>
public static class OrtOptimizedOps
{
    /// <summary>Prints one line per model.</summary>
    public static void Run(string[] paths)
    {
        foreach (var path in paths)
        {
            var optimized = Path.Combine(Path.GetTempPath(), $"modelshrink-ort-{Guid.NewGuid():N}.onnx");
            try
            {
                using (var options = new SessionOptions
                {
                    GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
                    OptimizedModelFilePath = optimized,
                    LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
                })
                using (new InferenceSession(path, options))
                {
                }

                var ops = ModelReader.Load(optimized).Graph.EnumerateNodes()
                    .GroupBy(n => (n.Domain.Length > 0 ? n.Domain + "." : "") + n.OpType)
                    .OrderBy(g => g.Key, StringComparer.Ordinal)
                    .Select(g => $"{g.Key} {g.Count()}");
                Console.WriteLine($"{path}: {string.Join(", ", ops)}");
            }
            finally
            {
                File.Delete(optimized);
            }
        }
    }
}
