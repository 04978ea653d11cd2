using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using ModelShrink.Benchmarks.Checks;
using ModelShrink.Onnx.IO;

namespace ModelShrink.Benchmarks;

/// <summary>
/// Load + save of the generated ~400 MB MatMul model against a plain copy of the same file in the
/// same run (the baseline), so the result reads as a ratio to what the disk and page cache allow.
/// </summary>
[Config(typeof(Settings))]
public class ModelIoBenchmarks : GeneratedModelBenchmark
{
    [Benchmark(Description = "Load+Save")]
    public long LoadAndSave() => ModelWriter.Save(ModelReader.Load(Source), Produces("saved.onnx", "MatMul")).TotalBytes;

    [Benchmark(Description = "Load")]
    public int Load()
    {
        var nodes = ModelReader.Load(Source).Graph.Nodes.Count;
        if (nodes != 1)
        {
            throw new BenchmarkFailedException($"Load: {Source} read as {nodes} nodes, not its one MatMul");
        }

        ProducesNothing();
        return nodes;
    }

    private sealed class Settings : LargeModelSettings
    {
        public Settings()
            : base(warmups: 1, iterations: 5)
        {
        }
    }
}
