using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using ModelShrink.Benchmarks.Checks;

namespace ModelShrink.Benchmarks;

/// <summary>
/// What the benchmarks on the generated ~400 MB MatMul model share: the model, made once in a fixed
/// folder (fixed, so the host process that computes the MB/s column finds the file the benchmark
/// process made), a plain File.Copy of it as the baseline every result is a ratio to, and the check,
/// after each benchmark, that the model it wrote is there, loads in ONNX Runtime and holds the operators
/// it should (else the run fails: Program.cs). MODELSHRINK_BENCH_MATMUL_SIDE sets a smaller weight for
/// the minimal run the tests make (with <c>--job dry</c>).
/// </summary>
public abstract class GeneratedModelBenchmark
{
    /// <summary>The folder holding the generated model and the benchmarks' outputs.</summary>
    protected static readonly string Folder = Path.Combine(Path.GetTempPath(), "modelshrink-bench-io");

    // What the benchmark that ran wrote, and the operator groups that file must hold (see OutputCheck.Model).
    private (string Path, string[] Ops)? produced;

    /// <summary>The weight's side: MODELSHRINK_BENCH_MATMUL_SIDE, else <see cref="GeneratedMatMulModel.DefaultSide"/>.</summary>
    protected static int Side =>
        int.TryParse(Environment.GetEnvironmentVariable("MODELSHRINK_BENCH_MATMUL_SIDE"), out var side) && side > 0 ? side : GeneratedMatMulModel.DefaultSide;

    /// <summary>The generated model.</summary>
    protected static string Source => Path.Combine(Folder, $"matmul-{Side}.onnx");

    /// <summary>Generates the model unless an earlier run left it, and removes what earlier benchmarks wrote.</summary>
    [GlobalSetup]
    public void Setup()
    {
        Directory.CreateDirectory(Folder);
        if (!File.Exists(Source))
        {
            GeneratedMatMulModel.Write(Source, Side);
        }

        // So that the check after this benchmark never passes on a file an earlier one wrote.
        foreach (var file in Directory.GetFiles(Folder).Where(f => !Path.GetFileName(f).StartsWith("matmul-", StringComparison.Ordinal)))
        {
            File.Delete(file);
        }
    }

    /// <summary>Checks what the benchmark wrote.</summary>
    [GlobalCleanup]
    public void Verify()
    {
        var (path, ops) = produced ?? throw new BenchmarkFailedException($"{Name}: the benchmark named no output to check");
        OutputCheck.Model(path, Name, ops);
    }

    /// <summary>The baseline: copying the same file.</summary>
    [Benchmark(Baseline = true, Description = "File.Copy")]
    public void Copy() => File.Copy(Source, Produces($"{Name}-copy.onnx", "MatMul"), overwrite: true);

    // BenchmarkDotNet runs a class it generates from ours: name ours.
    private string Name
    {
        get
        {
            var type = GetType();
            while (type.BaseType is { } parent && type.Assembly != typeof(GeneratedModelBenchmark).Assembly)
            {
                type = parent;
            }

            return type.Name;
        }
    }

    /// <summary>
    /// The path of <paramref name="file"/> in <see cref="Folder"/>, recorded as what this benchmark writes
    /// and must hold a node of each of <paramref name="ops"/> groups ("A|B": either).
    /// </summary>
    protected string Produces(string file, params string[] ops)
    {
        var path = Path.Combine(Folder, file);
        produced = (path, ops);
        return path;
    }

    /// <summary>Records that the benchmark writes nothing: it read <see cref="Source"/>, whose check stands in.</summary>
    protected void ProducesNothing() => produced = (Source, ["MatMul"]);

    /// <summary>One launch, few iterations (each takes about a second), MB/s and allocations shown; a job named on the command line (--job dry) replaces it.</summary>
    protected abstract class LargeModelSettings : ManualConfig
    {
        /// <summary>Creates the settings.</summary>
        protected LargeModelSettings(int warmups, int iterations)
        {
            AddJob(Job.Default.WithStrategy(RunStrategy.Monitoring).WithLaunchCount(1).WithWarmupCount(warmups).WithIterationCount(iterations).AsDefault());
            AddColumn(new ThroughputColumn(() => new FileInfo(Source).Length));
            AddDiagnoser(BenchmarkDotNet.Diagnosers.MemoryDiagnoser.Default);
        }
    }
}
