using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using ModelShrink.Onnx.IO;

namespace ModelShrink.Benchmarks;

/// <summary>
/// Load + save of the generated ~400 MB MatMul model against a plain copy of the same file in the
/// same run (the baseline), so the result reads as a ratio to what the disk and page cache allow.
/// </summary>
[Config(typeof(Settings))]
public class ModelIoBenchmarks
{
    // Fixed, so the host process (which computes the MB/s column) finds the file the benchmark process made.
    private static readonly string Folder = Path.Combine(Path.GetTempPath(), "modelshrink-bench-io");
    private string source = "";

    [GlobalSetup]
    public void Setup()
    {
        Directory.CreateDirectory(Folder);
        source = Path.Combine(Folder, "matmul.onnx");
        if (!File.Exists(source))
        {
            GeneratedMatMulModel.Write(source);
        }
    }

    [Benchmark(Baseline = true, Description = "File.Copy")]
    public void Copy() => File.Copy(source, Path.Combine(Folder, "copy.onnx"), overwrite: true);

    [Benchmark(Description = "Load+Save")]
    public long LoadAndSave() => ModelWriter.Save(ModelReader.Load(source), Path.Combine(Folder, "saved.onnx")).TotalBytes;

    [Benchmark(Description = "Load")]
    public int Load() => ModelReader.Load(source).Graph.Nodes.Count;

    private sealed class Settings : ManualConfig
    {
        public Settings()
        {
            AddJob(Job.Default.WithStrategy(RunStrategy.Monitoring).WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(5));
            AddColumn(new ThroughputColumn(() => new FileInfo(Path.Combine(Folder, "matmul.onnx")).Length));
            AddDiagnoser(BenchmarkDotNet.Diagnosers.MemoryDiagnoser.Default);
        }
    }
}
