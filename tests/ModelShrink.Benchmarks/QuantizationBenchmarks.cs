using ModelShrink.Core.Plans;
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
public class QuantizationBenchmarks : GeneratedModelBenchmark
{
    [Benchmark(Description = "int8 per-tensor")]
    public long Int8PerTensor() => Compress(new CompressionOptions { Quantize = QuantizeMode.Int8 }, Integer);

    [Benchmark(Description = "int8 per-channel")]
    public long Int8PerChannel() => Compress(new CompressionOptions { Quantize = QuantizeMode.Int8, Int8 = new Int8DynamicOptions { PerChannel = true } }, Integer);

    [Benchmark(Description = "int4 MatMulNBits")]
    public long Int4() => Compress(new CompressionOptions { Quantize = QuantizeMode.Int4, Int4 = new Int4WeightOnlyOptions() }, ["MatMulNBits"]);

    // int8 of the MatMul: its integer form (the default).
    private static readonly string[] Integer = ["DynamicQuantizeLinear", "MatMulInteger"];

    private long Compress(CompressionOptions options, string[] ops) =>
        Compressor.Run(Source, Produces("quantized.onnx", ops), options).CompressedBytes;

    private sealed class Settings : LargeModelSettings
    {
        public Settings()
            : base(warmups: 2, iterations: 15)
        {
        }
    }
}
