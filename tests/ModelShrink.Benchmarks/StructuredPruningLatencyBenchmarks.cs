using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Microsoft.ML.OnnxRuntime;
using ModelShrink.Benchmarks.Checks;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Passes.Pruning;
using ModelShrink.Testing;

namespace ModelShrink.Benchmarks;

/// <summary>
/// ONNX Runtime (CPU, one thread, all graph optimizations) latency of a fixture before and after
/// structured pruning (<c>channels</c>, 0.5, first and last layers kept), on one sample and on the
/// whole 256-sample holdout as one batch. The original is the baseline of each pair.
/// </summary>
[Config(typeof(Settings))]
public class StructuredPruningLatencyBenchmarks
{
    private static readonly string Folder = Path.Combine(Path.GetTempPath(), "modelshrink-bench-prune");
    private InferenceSession original = null!;
    private InferenceSession pruned = null!;
    private OrtValue input = null!;
    private string inputName = "";
    private RunOptions runOptions = null!;

    [Params("digits-cnn", "digits-mlp")]
    public string Fixture { get; set; } = "";

    [Params(1, 256)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Directory.CreateDirectory(Folder);
        var prunedPath = Path.Combine(Folder, $"{Fixture}.channels.onnx");
        Compressor.Run(Fixtures.Model(Fixture), prunedPath, new CompressionOptions { Prune = new PruneOptions { Method = PruneMethod.Channels, Sparsity = 0.5 } });
        original = Session(Fixtures.Model(Fixture));
        pruned = Session(prunedPath);
        inputName = original.InputNames[0];
        var tensors = Fixtures.DataSets(Fixture).Select(d => Fixtures.Inputs(d)[0]).ToArray();
        var values = tensors.SelectMany(t => t.ToArray<float>()).ToArray();
        var shape = tensors[0].Dims.ToArray();
        var perSample = values.Length / (shape[0] * tensors.Length);
        shape[0] = Batch;
        input = OrtValue.CreateTensorValueFromMemory(values.AsSpan(0, (int)(Batch * perSample)).ToArray(), shape);
        runOptions = new RunOptions();

        // What is timed must be a smaller model giving the original's outputs' shape, all finite.
        OutputCheck.Model(prunedPath, $"channels 0.5 of {Fixture}", "Gemm|MatMul");
        if (new FileInfo(prunedPath).Length >= new FileInfo(Fixtures.Model(Fixture)).Length)
        {
            throw new BenchmarkFailedException($"channels 0.5 of {Fixture}: {prunedPath} is not smaller than the original");
        }

        using var before = original.Run(runOptions, [inputName], [input], original.OutputNames);
        using var after = pruned.Run(runOptions, [inputName], [input], pruned.OutputNames);
        var expected = before[0].GetTensorDataAsSpan<float>();
        var actual = after[0].GetTensorDataAsSpan<float>();
        OutputCheck.Finite(actual, $"channels 0.5 of {Fixture}");
        if (actual.Length != expected.Length)
        {
            throw new BenchmarkFailedException($"channels 0.5 of {Fixture}: {actual.Length} outputs, the original's {expected.Length}");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        original.Dispose();
        pruned.Dispose();
        input.Dispose();
        runOptions.Dispose();
    }

    [Benchmark(Baseline = true, Description = "original")]
    public float Original() => Run(original);

    [Benchmark(Description = "channels 0.5")]
    public float Pruned() => Run(pruned);

    private float Run(InferenceSession session)
    {
        using var results = session.Run(runOptions, [inputName], [input], session.OutputNames);
        return results[0].GetTensorDataAsSpan<float>()[0];
    }

    private static InferenceSession Session(string path)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        return new InferenceSession(path, options);
    }

    private sealed class Settings : ManualConfig
    {
        public Settings()
        {
            AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(5).WithIterationCount(20).AsDefault());
            AddDiagnoser(BenchmarkDotNet.Diagnosers.MemoryDiagnoser.Default);
        }
    }
}
