using Microsoft.ML.OnnxRuntime;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;

namespace ModelShrink.Core.Passes.Cleanup;

/// <summary>
/// Runs ONNX Runtime's own offline graph optimizer at its basic level (constant folding,
/// redundant-node elimination, Conv/BatchNormalization/Add/Mul fusions; only standard ONNX
/// operators come out): the model is written to a temporary folder, an ONNX Runtime session loads
/// it with <c>optimized_model_filepath</c> set, and the file ONNX Runtime writes is read back and
/// replaces the model's content. Fusions reorder floating-point operations, so outputs may differ
/// in the last bits.
/// </summary>
public sealed class OrtOptimizerPass : IPass
{
    /// <inheritdoc />
    public string Name => "ort-optimize";

    /// <inheritdoc />
    public PassResult Run(Model model, PassContext context)
    {
        var folder = Directory.CreateTempSubdirectory("modelshrink-ort-");
        try
        {
            var source = Path.Combine(folder.FullName, "model.onnx");
            var optimizedPath = Path.Combine(folder.FullName, "optimized.onnx");
            ModelWriter.Save(model, source);
            try
            {
                using var options = new SessionOptions
                {
                    GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_BASIC,
                    OptimizedModelFilePath = optimizedPath,
                    IntraOpNumThreads = 1,
                    LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
                };
                using var session = new InferenceSession(source, options);
            }
            catch (OnnxRuntimeException e)
            {
                throw context.Error(ErrorCodes.OrtOptimizerFailed, $"ONNX Runtime could not load the model to optimize it: {e.Message}");
            }

            if (!File.Exists(optimizedPath))
            {
                throw context.Error(ErrorCodes.OrtOptimizerFailed, "ONNX Runtime wrote no optimized model");
            }

            var optimized = ModelReader.Load(optimizedPath);
            var nodesBefore = model.Graph.EnumerateNodes().Count();
            var initializersBefore = model.Graph.EnumerateGraphs().Sum(g => g.Initializers.Count);
            model.ReplaceWith(optimized);
            return new PassResult(true, new Dictionary<string, long>
            {
                ["nodes removed"] = nodesBefore - model.Graph.EnumerateNodes().Count(),
                ["initializers removed"] = initializersBefore - model.Graph.EnumerateGraphs().Sum(g => g.Initializers.Count),
            });
        }
        finally
        {
            try
            {
                folder.Delete(recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a leftover temporary folder must not fail the compression.
            }
        }
    }
}
