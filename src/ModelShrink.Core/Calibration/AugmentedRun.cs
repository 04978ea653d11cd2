using ModelShrink.Core.Validation.Holdout;
using ModelShrink.Core.Validation.Running;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.Ir;

namespace ModelShrink.Core.Calibration;

/// <summary>
/// Runs a copy of a model that exposes some of its values as extra outputs over data batch by batch
/// (shared by activation calibration, layer-wise reconstruction and bias correction): the caller keeps
/// constant-size statistics per value, so memory does not grow with the number of samples.
/// </summary>
public static class AugmentedRun
{
    /// <summary>
    /// Feeds every output named in <paramref name="values"/> (float values of the main graph), batch by
    /// batch over <paramref name="data"/> (any holdout layout), to <paramref name="onOutput"/> (a graph
    /// input among them comes straight from the batch); returns the number of batches. With
    /// <paramref name="parallel"/>, the outputs of one batch go to <paramref name="onOutput"/> on every core
    /// once ONNX Runtime is done with the batch, one call per value at a time (state kept per value
    /// needs no lock; state shared between values does). <paramref name="addNodes"/> may add nodes and
    /// initializers for the run (whose outputs <paramref name="values"/> may then name; they are gone after). Data with no batch at all is
    /// <see cref="ErrorCodes.HoldoutUnreadable"/>.
    /// </summary>
    public static int ForEachBatch(Model model, IReadOnlyCollection<string> values, string data, string modelFile, string setting,
        Action<OutputValues> onOutput, CancellationToken cancellation = default, bool parallel = false, Action<Model>? addNodes = null)
    {
        var signature = ModelSignature.Of(model);
        using var session = new AugmentedSession(model, values, modelFile, addNodes);
        var batches = 0;
        foreach (var batch in HoldoutReader.Open(data, signature, setting: setting).Batches())
        {
            cancellation.ThrowIfCancellationRequested();
            HoldoutCheck.Check(batch, signature, data, setting);
            var outputs = session.Run(batch);
            if (parallel)
            {
                EachInParallel(outputs, onOutput, cancellation);
            }
            else
            {
                outputs.ForEach(onOutput);
            }

            batches++;
        }

        return batches == 0 ? throw ModelShrinkException.Error(ErrorCodes.HoldoutUnreadable, "holds no samples", data, setting) : batches;
    }

    /// <summary>
    /// Like <see cref="ForEachBatch"/> with <c>parallel</c>, without copying: each wanted float value of a
    /// batch goes to <paramref name="onOutput"/> on every core as a view of ONNX Runtime's output buffer (or
    /// of the batch), valid only during the call, one call per value at a time. Returns the number of batches.
    /// </summary>
    public static int ForEachBatchInPlace(Model model, IReadOnlyCollection<string> values, string data, string modelFile, string setting,
        Action<BorrowedValues> onOutput, CancellationToken cancellation = default)
    {
        var signature = ModelSignature.Of(model);
        using var session = new AugmentedSession(model, values, modelFile);
        var batches = 0;
        foreach (var batch in HoldoutReader.Open(data, signature, setting: setting).Batches())
        {
            cancellation.ThrowIfCancellationRequested();
            HoldoutCheck.Check(batch, signature, data, setting);
            session.Run(batch, outputs => EachInParallel(outputs, onOutput, cancellation));
            batches++;
        }

        return batches == 0 ? throw ModelShrinkException.Error(ErrorCodes.HoldoutUnreadable, "holds no samples", data, setting) : batches;
    }

    /// <summary>
    /// Calls <paramref name="action"/> on every item on every core; the first exception thrown (a coded
    /// diagnostic, say) is rethrown as it is, not wrapped in an <see cref="AggregateException"/>.
    /// </summary>
    public static void EachInParallel<T>(IReadOnlyList<T> items, Action<T> action, CancellationToken cancellation = default)
    {
        try
        {
            Parallel.ForEach(items, new ParallelOptions { CancellationToken = cancellation }, action);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
            throw;
        }
    }
}
