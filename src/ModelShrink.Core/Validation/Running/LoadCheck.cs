using Microsoft.ML.OnnxRuntime;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;

namespace ModelShrink.Core.Validation.Running;

/// <summary>
/// The last check before an output is moved into place: ONNX Runtime (CPU) must load it. Without
/// holdout data nothing else ever runs the model, and a model can be valid protobuf and valid IR
/// yet not load (an op type no runtime knows, an attribute of UNDEFINED type, MatMul shapes that do
/// not meet, ir_version 2^40, opset 0). Opening a session costs little beside a compression.
/// </summary>
public static class LoadCheck
{
    /// <summary>
    /// Opens and closes a CPU session on <paramref name="stagedModel"/>; if it cannot, MSH1023
    /// naming <paramref name="display"/> (the output as the user named it) and <paramref name="setting"/>.
    /// </summary>
    public static void Verify(string stagedModel, string display, string setting)
    {
        // The compression's IR (and the mapped views of a large model's weights) is garbage by now:
        // release it before ONNX Runtime loads a second copy, so peak memory stays near one model.
        // Aggressive: the freed memory goes back to the system, not just to the managed heap.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        using var options = new SessionOptions
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL,
            // Loading resolves the graph (types, shapes, opsets) and finds a kernel for every node,
            // which is what fails on a bad model; graph rewrites and weight pre-packing would only
            // cost time and a copy of the weights.
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL,
        };
        options.AddSessionConfigEntry("session.disable_prepacking", "1");
        try
        {
            using var session = new InferenceSession(stagedModel, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw ModelShrinkException.Error(ErrorCodes.OutputDoesNotLoad,
                $"the compressed model does not load in ONNX Runtime (CPU), so nothing was written: {e.Message.ReplaceLineEndings(" ").Trim()}", display, setting, e);
        }
    }
}
