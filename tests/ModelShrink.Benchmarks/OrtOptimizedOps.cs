using Microsoft.ML.OnnxRuntime;
using ModelShrink.Benchmarks.Checks;
using ModelShrink.Onnx.IO;

namespace ModelShrink.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release -- ort-ops MODEL...</c>: the operators ONNX Runtime actually runs for each
/// model after its graph optimizations (CPU, all levels), counted, to see which quantized forms it
/// fuses (DynamicQuantizeMatMul, MatMulNBits) or folds back to float. A MODEL is an .onnx file, a
/// fixture name or a folder holding model.onnx; <c>--quick</c> without models: the digits-transformer fixture.
/// </summary>
public static class OrtOptimizedOps
{
    /// <summary>
    /// Prints one line per model; a model ONNX Runtime cannot load, or one whose optimized graph it did
    /// not write or left empty, fails the run (<see cref="BenchmarkFailedException"/>).
    /// </summary>
    public static void Run(string[] args)
    {
        var arguments = ReportArguments.Parse(args);
        var files = arguments.Names.Where(n => n.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)).ToArray();
        var missing = files.FirstOrDefault(f => !File.Exists(f));
        if (missing is not null)
        {
            throw new BenchmarkFailedException($"{missing}: no such model");
        }

        var named = arguments with { Names = arguments.Names.Except(files).ToArray() };
        var paths = named.Names.Length > 0 || files.Length == 0
            ? files.Concat(named.Models([], "digits-transformer").Select(m => m.Path)).ToArray()
            : files;
        foreach (var path in paths)
        {
            var optimized = Path.Combine(Path.GetTempPath(), $"modelshrink-ort-{Guid.NewGuid():N}.onnx");
            try
            {
                try
                {
                    using var options = new SessionOptions
                    {
                        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
                        OptimizedModelFilePath = optimized,
                        LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
                    };
                    using var session = new InferenceSession(path, options);
                }
                catch (OnnxRuntimeException e)
                {
                    throw new BenchmarkFailedException($"{path}: ONNX Runtime cannot load it: {e.Message}");
                }

                var ops = OutputCheck.Model(optimized, $"{path} optimized by ONNX Runtime");
                if (ops.Count == 0)
                {
                    throw new BenchmarkFailedException($"{path}: ONNX Runtime's optimized graph has no node");
                }

                var domains = ModelReader.Load(optimized).Graph.EnumerateNodes()
                    .GroupBy(n => (n.Domain.Length > 0 ? n.Domain + "." : "") + n.OpType)
                    .OrderBy(g => g.Key, StringComparer.Ordinal)
                    .Select(g => $"{g.Key} {g.Count()}");
                Console.WriteLine($"{path}: {string.Join(", ", domains)}");
            }
            finally
            {
                File.Delete(optimized);
            }
        }
    }
}
