using System.Runtime.InteropServices;
using ModelShrink.Core.Gpu;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using ModelShrink.Core.Validation.Holdout;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using DataType = ModelShrink.Onnx.Tensors.DataType;
using Tensor = ModelShrink.Onnx.Tensors.Tensor;

namespace ModelShrink.Core.Validation.Running;

/// <summary>One output of a run, as float32 values (whatever its numeric type) and its shape.</summary>
public sealed record OutputValues(string Name, long[] Shape, float[] Values);

/// <summary>
/// One ONNX Runtime CPU session over a model file, fed holdout batches. Sessions are single-threaded
/// with sequential execution, so results are deterministic; parallelism comes from running
/// several sessions at once (the original and the candidate side by side).
/// </summary>
public sealed class ModelRunner : IDisposable
{
    private readonly InferenceSession session;
    private readonly SessionOptions options;
    private readonly string file;

    /// <summary>
    /// Opens a session on <paramref name="modelPath"/> (on <paramref name="intraOpThreads"/> threads, which
    /// do not spin between parallel sections) with <paramref name="provider"/> first (CUDA:
    /// device 0, ONNX Runtime places what it cannot run there on the CPU); with <paramref name="profilePrefix"/>,
    /// ONNX Runtime profiles every run (<see cref="EndProfiling"/>).
    /// </summary>
    public ModelRunner(string modelPath, int intraOpThreads = 1, Gpu.RunProvider provider = Gpu.RunProvider.CPU, string? profilePrefix = null)
        : this(modelPath, null, null, intraOpThreads, provider, profilePrefix, prepackWeights: true)
    {
    }

    private ModelRunner(string modelPath, byte[]? modelBytes, string? externalDataFolder, int intraOpThreads, Gpu.RunProvider provider,
        string? profilePrefix, bool prepackWeights)
    {
        file = modelPath;
        Provider = provider;
        options = new SessionOptions
        {
            IntraOpNumThreads = intraOpThreads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            // Failures surface as coded diagnostics; ORT's own log lines would only repeat them on stderr.
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL,
        };
        if (intraOpThreads > 1)
        {
            // The pool's threads spin after each parallel section, waiting for more work: on a machine shared
            // with the build or other jobs they took the cores that the other processes and the statistics
            // computed between runs need (ppocr-cls over its holdout on the 2-core VM at load 13: 0.52 s
            // spinning, 0.21 s not).
            options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        }

        if (!prepackWeights)
        {
            options.AddSessionConfigEntry("session.disable_prepacking", "1");
        }

        if (externalDataFolder is not null)
        {
            options.AddSessionConfigEntry("session.model_external_initializers_file_folder_path", externalDataFolder);
        }

        if (profilePrefix is not null)
        {
            options.EnableProfiling = true;
            options.ProfileOutputPathPrefix = profilePrefix;
        }

        try
        {
            if (provider == Gpu.RunProvider.CUDA)
            {
                var available = OrtEnv.Instance().GetAvailableProviders();
                if (!available.Contains(Gpu.RunProvider.CUDA.OrtName()))
                {
                    var missing = Gpu.CudaFailure.RuntimeWithoutCuda(available);
                    throw ModelShrinkException.Error(missing.Code, missing.Reason, modelPath, "--provider");
                }

                options.AppendExecutionProvider_CUDA(0);
            }
        }
        catch (ModelShrinkException)
        {
            options.Dispose();
            throw;
        }
        catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException)
        {
            options.Dispose();
            var failure = Gpu.CudaFailure.Classify(e.Message);
            throw ModelShrinkException.Error(failure.Code, failure.Reason, modelPath, "--provider", inner: e);
        }

        try
        {
            session = modelBytes is null ? new InferenceSession(modelPath, options) : new InferenceSession(modelBytes, options);
        }
        catch (OnnxRuntimeException e)
        {
            options.Dispose();
            throw ModelShrinkException.Error(ErrorCodes.ModelDoesNotRun, $"ONNX Runtime cannot load the model: {OneLine(e.Message)}", modelPath, inner: e);
        }
    }

    /// <summary>
    /// Opens a CPU session on a model held in memory, named <paramref name="displayName"/> in diagnostics: every
    /// tensor inline, or its external data in <paramref name="externalDataFolder"/> (<see cref="Onnx.IO.ModelWriter.ToBytesOverExternalData"/>).
    /// Without <paramref name="prepackWeights"/>, the weights are used where they lie instead of being copied
    /// into the kernels' packed layouts at load: right for a session that runs a few batches (a calibration),
    /// where packing a 3 GB model's MatMul weights took 8.6 s of an 8.7 s load on 2 cores and doubled the
    /// memory, while packing what each run reads costs little beside reading it (ppocr-cls: no change).
    /// </summary>
    public static ModelRunner FromBytes(byte[] model, string displayName, int intraOpThreads = 1, string? externalDataFolder = null, bool prepackWeights = true) =>
        new(displayName, model, externalDataFolder, intraOpThreads, Gpu.RunProvider.CPU, null, prepackWeights);

    /// <summary>Opens a CPU session on <paramref name="modelPath"/>, weights unpacked (see <see cref="FromBytes"/>).</summary>
    public static ModelRunner Unpacked(string modelPath, int intraOpThreads) =>
        new(modelPath, null, null, intraOpThreads, Gpu.RunProvider.CPU, null, prepackWeights: false);

    /// <summary>The provider the session asked for first.</summary>
    public Gpu.RunProvider Provider { get; }

    /// <summary>Ends profiling (when it was on) and returns the profile file ONNX Runtime wrote.</summary>
    public string EndProfiling() => session.EndProfiling();

    /// <summary>The model's output names, in order.</summary>
    public IReadOnlyList<string> OutputNames => session.OutputNames;

    /// <summary>Runs one batch and returns every numeric tensor output as float32.</summary>
    public IReadOnlyList<OutputValues> Run(HoldoutBatch batch)
    {
        var names = batch.Inputs.Keys.ToArray();
        var values = new List<OrtValue>(names.Length);
        try
        {
            foreach (var name in names)
            {
                values.Add(ToOrtValue(batch.Inputs[name]));
            }

            using var runOptions = new RunOptions();
            using var results = session.Run(runOptions, names, values, session.OutputNames);
            var outputs = new List<OutputValues>(results.Count);
            for (var i = 0; i < results.Count; i++)
            {
                if (results[i].OnnxType == OnnxValueType.ONNX_TYPE_TENSOR && ToFloats(results[i]) is { } floats)
                {
                    outputs.Add(new OutputValues(session.OutputNames[i], results[i].GetTensorTypeAndShape().Shape, floats));
                }
            }

            return outputs;
        }
        catch (OnnxRuntimeException e)
        {
            throw ModelShrinkException.Error(ErrorCodes.ModelDoesNotRun, $"ONNX Runtime failed on holdout {batch.Source}: {OneLine(e.Message)}", file, inner: e);
        }
        finally
        {
            values.ForEach(v => v.Dispose());
        }
    }

    /// <summary>
    /// Runs one batch and hands every float tensor output to <paramref name="use"/> as a view of ONNX
    /// Runtime's own buffer, valid only during the call: nothing is copied (the copies of whole activations
    /// cost as much as the run itself when a calibration exposes every value).
    /// </summary>
    public void Run(HoldoutBatch batch, Action<IReadOnlyList<BorrowedValues>> use)
    {
        var names = batch.Inputs.Keys.ToArray();
        var values = new List<OrtValue>(names.Length);
        IDisposableReadOnlyCollection<OrtValue> results;
        try
        {
            foreach (var name in names)
            {
                values.Add(ToOrtValue(batch.Inputs[name]));
            }

            using var runOptions = new RunOptions();
            results = session.Run(runOptions, names, values, session.OutputNames);
        }
        catch (OnnxRuntimeException e)
        {
            throw ModelShrinkException.Error(ErrorCodes.ModelDoesNotRun, $"ONNX Runtime failed on holdout {batch.Source}: {OneLine(e.Message)}", file, inner: e);
        }
        finally
        {
            values.ForEach(v => v.Dispose());
        }

        using (results)
        {
            var outputs = new List<BorrowedValues>(results.Count);
            for (var i = 0; i < results.Count; i++)
            {
                if (results[i].OnnxType == OnnxValueType.ONNX_TYPE_TENSOR && results[i].GetTensorTypeAndShape().ElementDataType == TensorElementType.Float)
                {
                    outputs.Add(new BorrowedValues(session.OutputNames[i], results[i]));
                }
            }

            use(outputs);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        session.Dispose();
        options.Dispose();
    }

    // Allocated by ORT and filled from the tensor's raw little-endian bytes: one path for every type.
    private static OrtValue ToOrtValue(Tensor tensor)
    {
        var value = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, ElementType(tensor.DataType), tensor.Dims.ToArray());
        tensor.GetRawData().Span.CopyTo(value.GetTensorMutableRawData());
        return value;
    }

    private static float[]? ToFloats(OrtValue value) => value.GetTensorTypeAndShape().ElementDataType switch
    {
        TensorElementType.Float => value.GetTensorDataAsSpan<float>().ToArray(),
        TensorElementType.Float16 => Convert(MemoryMarshal.Cast<byte, Half>(value.GetTensorMutableRawData())),
        TensorElementType.Double => Convert(value.GetTensorDataAsSpan<double>()),
        TensorElementType.Int64 => Convert(value.GetTensorDataAsSpan<long>()),
        TensorElementType.Int32 => Convert(value.GetTensorDataAsSpan<int>()),
        _ => null,
    };

    private static float[] Convert<T>(ReadOnlySpan<T> values) where T : unmanaged, System.Numerics.INumberBase<T>
    {
        var result = new float[values.Length];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = float.CreateTruncating(values[i]);
        }

        return result;
    }

    private static TensorElementType ElementType(DataType type) => type switch
    {
        DataType.Float => TensorElementType.Float,
        DataType.Double => TensorElementType.Double,
        DataType.Float16 => TensorElementType.Float16,
        DataType.BFloat16 => TensorElementType.BFloat16,
        DataType.Int8 => TensorElementType.Int8,
        DataType.UInt8 => TensorElementType.UInt8,
        DataType.Int16 => TensorElementType.Int16,
        DataType.UInt16 => TensorElementType.UInt16,
        DataType.Int32 => TensorElementType.Int32,
        DataType.UInt32 => TensorElementType.UInt32,
        DataType.Int64 => TensorElementType.Int64,
        DataType.UInt64 => TensorElementType.UInt64,
        DataType.Bool => TensorElementType.Bool,
        _ => throw new NotSupportedException($"holdout tensors of type {type} are not supported"),
    };

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();
}
