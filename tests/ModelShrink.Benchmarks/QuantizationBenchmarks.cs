using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Passes.Int4WeightOnly;
using ModelShrink.Core.Passes.Int8Dynamic;

namespace ModelShrink.Benchmarks;

/// <summary>
/// Quantization of the generated ~400 MB MatMul model, end to end as a user runs it (load, quantize,
/// save), against a plain copy of the same file in the same run (the baseline). ONNX Runtime's Python
/// tool took about 4.1 s per-tensor and 7.1 s per-channel on this model with 16 cores.
/// </summary>
[Config(typeof(Settings))]
public class QuantizationBenchmarks
{
    // The folder and model ModelIoBenchmarks uses, so the 400 MB model is generated once; fixed, so the
    // host process (which computes the MB/s column) finds the file the benchmark process made.
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

    [Benchmark(Description = "int8 per-tensor")]
    public long Int8PerTensor() => Compress(new CompressionOptions { Quantize = QuantizeMode.Int8 });

    [Benchmark(Description = "int8 per-channel")]
    public long Int8PerChannel() => Compress(new CompressionOptions { Quantize = QuantizeMode.Int8, Int8 = new Int8DynamicOptions { PerChannel = true } });

    [Benchmark(Description = "int4 MatMulNBits")]
    public long Int4() => Compress(new CompressionOptions { Quantize = QuantizeMode.Int4, Int4 = new Int4WeightOnlyOptions() });

    private long Compress(CompressionOptions options) =>
        Compressor.Run(source, Path.Combine(Folder, "quantized.onnx"), options).CompressedBytes;

    private sealed class Settings : ManualConfig
    {
        public Settings()
        {
            AddJob(Job.Default.WithStrategy(RunStrategy.Monitoring).WithLaunchCount(1).WithWarmupCount(2).WithIterationCount(15));
            AddColumn(new ThroughputColumn(() => new FileInfo(Path.Combine(Folder, "matmul.onnx")).Length));
            AddDiagnoser(BenchmarkDotNet.Diagnosers.MemoryDiagnoser.Default);
        }
    }
}
