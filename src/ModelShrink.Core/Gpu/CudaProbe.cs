using Microsoft.ML.OnnxRuntime;

namespace ModelShrink.Core.Gpu;

/// <summary>Whether the CUDA provider runs here, and on which device.</summary>
/// <param name="Failure">Why not, or null when it runs.</param>
/// <param name="Device">What ran (e.g. "CUDAExecutionProvider, device 0"), when it runs.</param>
public sealed record CudaStatus(CudaFailure? Failure, string? Device)
{
    /// <summary>Whether models can be run on CUDA.</summary>
    public bool Available => Failure is null;
}

/// <summary>
/// Finds out, once per process, whether ONNX Runtime's CUDA provider runs here: the loaded ONNX
/// Runtime must list it, and a session of a one-node model must start on it and run (only then have
/// the driver, the CUDA and cuDNN libraries all been loaded). Never throws: every failure becomes a
/// <see cref="CudaFailure"/> with its code.
/// </summary>
public static class CudaProbe
{
    private static readonly Lazy<CudaStatus> Cached = new(() => Probe(new OrtCudaHost()));

    /// <summary>The status of this machine (probed on first use).</summary>
    public static CudaStatus Current => Cached.Value;

    /// <summary>Probes with <paramref name="host"/> (tests pass a fake).</summary>
    public static CudaStatus Probe(ICudaHost host)
    {
        IReadOnlyCollection<string> available;
        try
        {
            available = host.AvailableProviders();
        }
        catch (Exception e) when (e is OnnxRuntimeException or DllNotFoundException or TypeInitializationException)
        {
            return new CudaStatus(CudaFailure.Classify(e.Message), null);
        }

        if (!available.Contains(RunProvider.CUDA.OrtName()))
        {
            return new CudaStatus(CudaFailure.RuntimeWithoutCuda(available), null);
        }

        try
        {
            return new CudaStatus(null, host.RunTrial());
        }
        catch (Exception e) when (e is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException or InvalidOperationException)
        {
            return new CudaStatus(CudaFailure.Classify(e.Message), null);
        }
    }
}

/// <summary>What the probe needs from ONNX Runtime, behind an interface so it is tested without a GPU.</summary>
public interface ICudaHost
{
    /// <summary>The providers the loaded ONNX Runtime build has.</summary>
    IReadOnlyCollection<string> AvailableProviders();

    /// <summary>Starts a CUDA session on a one-node model and runs it; returns a description of the device; throws what ONNX Runtime throws.</summary>
    string RunTrial();
}

/// <summary>The real ONNX Runtime.</summary>
public sealed class OrtCudaHost : ICudaHost
{
    /// <inheritdoc />
    public IReadOnlyCollection<string> AvailableProviders() => OrtEnv.Instance().GetAvailableProviders();

    /// <inheritdoc />
    public string RunTrial()
    {
        using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
        options.AppendExecutionProvider_CUDA(0);
        using var session = new InferenceSession(TrialModel.Bytes, options);
        using var input = OrtValue.CreateTensorValueFromMemory(new float[] { 1, 2, 3, 4 }, [4]);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, ["x"], [input], ["y"]);
        var y = outputs[0].GetTensorDataAsSpan<float>();
        if (y[3] != 8)
        {
            throw new InvalidOperationException($"the CUDA trial computed {y[3]} for 4 + 4");
        }

        return "CUDAExecutionProvider, device 0";
    }
}
