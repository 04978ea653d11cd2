using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Passes.Pruning;

namespace ModelShrink.Benchmarks;

/// <summary>
/// Pruning the generated ~400 MB MatMul model end to end as a user runs it (load, clean-up, prune,
/// save), against a plain copy of the same file in the same run (the baseline), with the clean-up
/// alone beside it so the pruning's own cost reads as the difference. The model's one MatMul is
/// both its first and last layer, so KeepFirstAndLast is off.
/// </summary>
[Config(typeof(Settings))]
public class PruningBenchmarks : GeneratedModelBenchmark
{
    [Benchmark(Description = "clean-up only (no pruning)")]
    public long CleanupOnly() => Compress(null);

    [Benchmark(Description = "magnitude 0.5, dense")]
    public long Magnitude() => Compress(new PruneOptions { Sparsity = 0.5, KeepFirstAndLast = false, Storage = PruneStorage.Dense });

    [Benchmark(Description = "nm:2:4, dense")]
    public long TwoFour() => Compress(new PruneOptions { Method = PruneMethod.NM, KeepFirstAndLast = false, Storage = PruneStorage.Dense });

    [Benchmark(Description = "magnitude 0.9, sparse")]
    public long MagnitudeSparse() => Compress(new PruneOptions { Sparsity = 0.9, KeepFirstAndLast = false });

    private long Compress(PruneOptions? prune) =>
        Compressor.Run(Source, Produces("pruned.onnx", "MatMul"), new CompressionOptions { Prune = prune }).CompressedBytes;

    private sealed class Settings : LargeModelSettings
    {
        public Settings()
            : base(warmups: 1, iterations: 11)
        {
        }
    }
}
