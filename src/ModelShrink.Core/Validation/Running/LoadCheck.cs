using ModelShrink.Diagnostics;

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
        try
        {
            using var runner = new ModelRunner(stagedModel);
        }
        catch (ModelShrinkException e) when (e.Diagnostic.Code == ErrorCodes.ModelDoesNotRun)
        {
            var reason = e.InnerException?.Message.ReplaceLineEndings(" ").Trim() ?? e.Diagnostic.Message;
            throw ModelShrinkException.Error(ErrorCodes.OutputDoesNotLoad,
                $"the compressed model does not load in ONNX Runtime (CPU), so nothing was written: {reason}", display, setting, e);
        }
    }
}
