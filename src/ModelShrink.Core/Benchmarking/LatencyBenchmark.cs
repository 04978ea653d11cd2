using System.Diagnostics;
using ModelShrink.Core.Gpu;
using ModelShrink.Core.Validation.Holdout;
using ModelShrink.Core.Validation.Running;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Benchmarking;

/// <summary>Latency of one model on one batch: every run's time and the summary.</summary>
/// <param name="Model">The model file.</param>
/// <param name="Samples">Samples per run (the batch's first dimension).</param>
/// <param name="MedianMs">Median milliseconds per run.</param>
/// <param name="P90Ms">90th percentile milliseconds per run.</param>
/// <param name="SamplesPerSecond">Samples per second at the median.</param>
public sealed record LatencyResult(string Model, int Samples, double MedianMs, double P90Ms, double SamplesPerSecond);

/// <summary>The <c>modelshrink bench</c> result: the model, and the baseline beside it when one was given.</summary>
/// <param name="Model">The model's latency.</param>
/// <param name="Baseline">The baseline's latency, measured in the same run, interleaved.</param>
/// <param name="Input">Where the input batch came from.</param>
/// <param name="Runs">Timed runs per model.</param>
/// <param name="Threads">ONNX Runtime intra-op threads.</param>
public sealed record BenchmarkResult(LatencyResult Model, LatencyResult? Baseline, string Input, int Runs, int Threads)
{
    /// <summary>The provider both models ran on.</summary>
    public Gpu.RunProvider Provider { get; init; } = Gpu.RunProvider.CPU;

    /// <summary>Where ONNX Runtime placed the model's nodes (one profiled run), on a GPU provider; null on the CPU.</summary>
    public Gpu.NodePlacement? Placement { get; init; }

    /// <summary>The model's median over the baseline's (below 1 = faster), when there is a baseline.</summary>
    public double? Ratio => Baseline is null ? null : Model.MedianMs / Baseline.MedianMs;
}

/// <summary>
/// Measures inference latency in ONNX Runtime (CPU): one batch, from holdout data or synthesized from
/// the model's inputs, run after warm-up; with a baseline, the two models alternate run by run so a
/// noisy machine slows both alike, and the result reads as a ratio.
/// </summary>
public static class LatencyBenchmark
{
    /// <summary>Timed runs per model when a compression's latency is judged against the original's.</summary>
    public const int BudgetRuns = 7;

    /// <summary>
    /// <paramref name="model"/> beside <paramref name="original"/>, one thread, interleaved: what the
    /// MaxLatencyRatio budget and the Auto search's "not slower" rule read.
    /// </summary>
    public static BenchmarkResult BesideOriginal(string model, string original, string? holdout, Gpu.RunProvider provider = Gpu.RunProvider.CPU) =>
        Run(model, original, holdout, provider == Gpu.RunProvider.CPU ? BudgetRuns : 4 * BudgetRuns, threads: 1, warmups: provider == Gpu.RunProvider.CPU ? 2 : 5, provider);

    /// <summary>
    /// Benchmarks <paramref name="model"/> (and <paramref name="baseline"/> beside it) on <paramref name="provider"/>.
    /// On a GPU the inputs are copied to the device and the outputs back in every run, as an app's
    /// plain <c>session.Run</c> does; one more profiled run of the model says where its nodes ran.
    /// </summary>
    public static BenchmarkResult Run(string model, string? baseline, string? holdout, int runs, int threads, int warmups = 3, Gpu.RunProvider provider = Gpu.RunProvider.CPU)
    {
        if (runs < 1 || threads < 1)
        {
            throw ModelShrinkException.Error(ErrorCodes.InvalidArgument, "--runs and --threads must be at least 1", model, "--runs");
        }

        var signature = ModelSignature.Of(ModelReader.Load(model));
        var (batch, input) = holdout is null
            ? (Synthesize(signature), "synthetic inputs (symbolic dimensions = 1)")
            : (HoldoutReader.Open(holdout, signature).Batches().First(), $"the first holdout batch of {holdout}");
        HoldoutCheck.Check(batch, signature, holdout ?? model, holdout is null ? "MODEL" : "Holdout");
        using var subject = new ModelRunner(model, threads, provider);
        using var reference = baseline is null ? null : new ModelRunner(baseline, threads, provider);
        for (var i = 0; i < warmups; i++)
        {
            subject.Run(batch);
            reference?.Run(batch);
        }

        var times = new List<double>(runs);
        var baselineTimes = new List<double>(runs);
        for (var i = 0; i < runs; i++)
        {
            times.Add(Time(subject, batch));
            if (reference is not null)
            {
                baselineTimes.Add(Time(reference, batch));
            }
        }

        return new BenchmarkResult(
            Summarize(model, batch.SampleCount, times),
            reference is null ? null : Summarize(baseline!, batch.SampleCount, baselineTimes),
            input, runs, threads) { Provider = provider, Placement = provider == Gpu.RunProvider.CPU ? null : Place(model, batch, threads, provider) };
    }

    /// <summary>Runs <paramref name="model"/> once with ONNX Runtime's profiler on and reads where each node ran.</summary>
    public static Gpu.NodePlacement Place(string model, HoldoutBatch batch, int threads, Gpu.RunProvider provider)
    {
        var folder = Directory.CreateTempSubdirectory("modelshrink-profile-");
        try
        {
            string profile;
            using (var runner = new ModelRunner(model, threads, provider, Path.Combine(folder.FullName, "run")))
            {
                runner.Run(batch);
                profile = runner.EndProfiling();
            }

            return Gpu.NodePlacement.FromProfile(File.ReadAllText(Path.IsPathRooted(profile) ? profile : Path.Combine(Environment.CurrentDirectory, profile)), provider.OrtName());
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static double Time(ModelRunner runner, HoldoutBatch batch)
    {
        var start = Stopwatch.GetTimestamp();
        runner.Run(batch);
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private static LatencyResult Summarize(string model, int samples, List<double> times)
    {
        times.Sort();
        var median = times[times.Count / 2];
        var p90 = times[Math.Min(times.Count - 1, (int)Math.Ceiling(times.Count * 0.9) - 1)];
        return new LatencyResult(model, samples, median, p90, samples / (median / 1000));
    }

    // Inputs from the declared types; a symbolic dimension becomes 1, values a fixed pseudo-random pattern.
    private static HoldoutBatch Synthesize(ModelSignature signature)
    {
        var random = new Random(17);
        var inputs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var input in signature.Inputs)
        {
            long[] dims = input.Shape is null ? [1] : input.Shape.Select(d => d ?? 1).ToArray();
            var count = (int)dims.Aggregate(1L, (a, b) => a * b);
            inputs[input.Name] = input.Type switch
            {
                DataType.Float => Tensor.FromArray<float>(input.Name, dims, Enumerable.Range(0, count).Select(_ => (float)random.NextDouble()).ToArray()),
                DataType.Int64 => Tensor.FromArray<long>(input.Name, dims, new long[count]),
                DataType.Int32 => Tensor.FromArray<int>(input.Name, dims, new int[count]),
                DataType.Bool => Tensor.FromArray<bool>(input.Name, dims, Enumerable.Repeat(true, count).ToArray()),
                _ => throw ModelShrinkException.Error(ErrorCodes.HoldoutMismatch,
                    $"input '{input.Name}' is {input.Type.DisplayName()}, which bench cannot synthesize; give --holdout data", setting: "--holdout"),
            };
        }

        return new HoldoutBatch(inputs, null, "synthetic");
    }
}
