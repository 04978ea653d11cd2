using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;

namespace ModelShrink.Benchmarks;

/// <summary>
/// What the benchmarks on the generated ~400 MB MatMul model share: the model, made once in a fixed
/// folder (fixed, so the host process that computes the MB/s column finds the file the benchmark
/// process made), and a plain File.Copy of it as the baseline every result is a ratio to.
/// </summary>
public abstract class GeneratedModelBenchmark
{
    /// <summary>The folder holding the generated model and the benchmarks' outputs.</summary>
    protected static readonly string Folder = Path.Combine(Path.GetTempPath(), "modelshrink-bench-io");

    /// <summary>The generated model.</summary>
    protected static string Source => Path.Combine(Folder, "matmul.onnx");

    /// <summary>Generates the model unless an earlier run left it.</summary>
    [GlobalSetup]
    public void Setup()
    {
        Directory.CreateDirectory(Folder);
        if (!File.Exists(Source))
        {
            GeneratedMatMulModel.Write(Source);
        }
    }

    /// <summary>The baseline: copying the same file.</summary>
    [Benchmark(Baseline = true, Description = "File.Copy")]
    public void Copy() => File.Copy(Source, Path.Combine(Folder, $"{GetType().Name}-copy.onnx"), overwrite: true);

    /// <summary>One launch, few iterations (each takes about a second), MB/s and allocations shown.</summary>
    protected abstract class LargeModelSettings : ManualConfig
    {
        /// <summary>Creates the settings.</summary>
        protected LargeModelSettings(int warmups, int iterations)
        {
            AddJob(Job.Default.WithStrategy(RunStrategy.Monitoring).WithLaunchCount(1).WithWarmupCount(warmups).WithIterationCount(iterations));
            AddColumn(new ThroughputColumn(() => new FileInfo(Source).Length));
            AddDiagnoser(BenchmarkDotNet.Diagnosers.MemoryDiagnoser.Default);
        }
    }
}
