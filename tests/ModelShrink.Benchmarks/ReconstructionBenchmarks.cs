using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using ModelShrink.Benchmarks.Checks;
using ModelShrink.Core.Passes.Reconstruction.Layerwise;
using ModelShrink.Core.Quantization;
using Perfolizer.Horology;

namespace ModelShrink.Benchmarks;

/// <summary>
/// Layer-wise reconstruction of one square layer (Width outputs × Width inputs) step by step, against
/// plain round-to-nearest per-channel int8 of the same weight in the same run (the baseline): the
/// second moment H = XᵀX from <see cref="InputRows"/> input rows, the inverse factor U (Cholesky and
/// triangular inverse, O(n³)), GPTQ onto the int8 per-channel grid and SparseGPT at 50% (both
/// O(rows·cols²)). Data are seeded: the inputs are correlated features X = Z·A (a few latent factors
/// mixed by a random A, plus noise, with per-feature scales), so H has the spread of eigenvalues a
/// real layer's has rather than being close to a multiple of the identity.
/// </summary>
[Config(typeof(Settings))]
public class ReconstructionBenchmarks
{
    /// <summary>Input rows (tokens, im2col patches) accumulated into H.</summary>
    public const int InputRows = 4096;

    private const int Latent = 64;

    private static readonly QuantScheme Scheme = QuantScheme.Default(WeightType.Int8);

    private float[] weight = [];
    private float[] work = [];
    private float[] inputs = [];
    private SecondMoment moment = null!;
    private float[] factor = [];
    private ChannelGrid grid = null!;

    /// <summary>The layer's width: rows (outputs) and columns (inputs) alike.</summary>
    [Params(256, 512, 1024, 2048)]
    public int Width { get; set; }

    /// <summary>The weight [Width outputs, Width inputs] and the inputs, for every benchmark.</summary>
    [GlobalSetup(Targets = [nameof(RoundToNearest), nameof(Accumulate)])]
    public void SetupData()
    {
        var random = new Random(20240611);
        weight = Gaussian(random, (long)Width * Width, 0.02f);
        work = new float[weight.Length];
        inputs = CorrelatedInputs(random, InputRows, Width);
        moment = new SecondMoment(Width);
    }

    /// <summary>... and H, for the factor.</summary>
    [GlobalSetup(Target = nameof(Factor))]
    public void SetupMoment()
    {
        SetupData();
        moment.Add(inputs, InputRows);
    }

    /// <summary>... and U and the int8 grid, for GPTQ and SparseGPT.</summary>
    [GlobalSetup(Targets = [nameof(GptqInt8), nameof(SparseGpt50)])]
    public void SetupFactor()
    {
        SetupMoment();
        factor = InverseFactor.Compute(moment.Lower, Width, LayerwiseOptions.DefaultDampening)
            ?? throw new InvalidOperationException("H + λI is not positive definite");

        // The grid the quantizer chooses for this weight, taken from the adjuster it hands it to.
        WeightQuantizer.PerChannel(weight, [Width, Width], 0, Scheme, (_, chosen) =>
        {
            grid = (ChannelGrid)chosen;
            return null;
        });
    }

    /// <summary>The baseline: round-to-nearest int8 per output channel (scales from each row's range).</summary>
    [Benchmark(Baseline = true, Description = "RTN int8 per-channel")]
    public int RoundToNearest() => WeightQuantizer.PerChannel(weight, [Width, Width], 0, Scheme).Data.Length;

    /// <summary>H += XᵀX for <see cref="InputRows"/> rows.</summary>
    [Benchmark(Description = "H = XᵀX (4096 rows)")]
    public long Accumulate()
    {
        moment.Add(inputs, InputRows);
        return moment.Rows;
    }

    /// <summary>U with UᵀU = (H + λI)⁻¹.</summary>
    [Benchmark(Description = "U = chol((H+λI)⁻¹)")]
    public float Factor() => InverseFactor.Compute(moment.Lower, Width, LayerwiseOptions.DefaultDampening)![0];

    /// <summary>GPTQ onto the int8 per-channel grid (natural column order; the weight copied first).</summary>
    [Benchmark(Description = "GPTQ int8 per-channel")]
    public float GptqInt8()
    {
        weight.CopyTo(work, 0);
        var cols = Width;
        var g = grid;
        Gptq.Run(work, Width, Width, factor, (r, c, v) => g.Snap((long)r * cols + c, v), null, CancellationToken.None);
        return work[^1];
    }

    /// <summary>SparseGPT, 50% unstructured (the weight copied first).</summary>
    [Benchmark(Description = "SparseGPT 50%")]
    public float SparseGpt50()
    {
        weight.CopyTo(work, 0);
        SparseGpt.Unstructured(work, Width, Width, factor, work.LongLength / 2, CancellationToken.None);
        return work[^1];
    }

    /// <summary>H must hold the rows accumulated, all finite.</summary>
    [GlobalCleanup(Target = nameof(Accumulate))]
    public void VerifyMoment()
    {
        if (moment.Rows == 0 || moment.Rows % InputRows != 0)
        {
            throw new BenchmarkFailedException($"H = XᵀX (width {Width}): {moment.Rows} rows accumulated, not a multiple of {InputRows}");
        }

        if (moment.Lower.Any(v => !double.IsFinite(v)))
        {
            throw new BenchmarkFailedException($"H = XᵀX (width {Width}): a value is not finite");
        }
    }

    /// <summary>GPTQ's weight must sit on the int8 grid; SparseGPT's must be at least half zeros; both finite and changed.</summary>
    [GlobalCleanup(Targets = [nameof(GptqInt8), nameof(SparseGpt50)])]
    public void VerifyWeight()
    {
        var what = $"{(work.Count(v => v == 0) >= work.Length / 2 ? "SparseGPT" : "GPTQ")} (width {Width})";
        OutputCheck.Finite(work, what);
        if (work.AsSpan().SequenceEqual(weight))
        {
            throw new BenchmarkFailedException($"{what}: the weight came out unchanged");
        }

        var zeros = work.LongCount(v => v == 0);
        var offGrid = Enumerable.Range(0, work.Length).Count(i => grid.Snap(i, work[i]) != work[i]);
        if (zeros < work.LongLength / 2 && offGrid > 0)
        {
            throw new BenchmarkFailedException($"{what}: {offGrid} of {work.Length} values are off the int8 grid and only {zeros} are zero");
        }
    }

    private static float[] Gaussian(Random random, long count, float sigma)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = sigma * (float)Normal(random);
        }

        return values;
    }

    // X[r] = Σk z[r,k]·A[k] + 0.3·e[r], then feature j scaled by s[j] ∈ [0.25, 4] (log-uniform).
    private static float[] CorrelatedInputs(Random random, int rows, int width)
    {
        var mixing = Gaussian(random, (long)Latent * width, 1f / MathF.Sqrt(Latent));
        var scales = new float[width];
        for (var j = 0; j < width; j++)
        {
            scales[j] = MathF.Pow(4f, (float)(2 * random.NextDouble() - 1));
        }

        var x = Gaussian(random, (long)rows * width, 0.3f);
        for (var r = 0; r < rows; r++)
        {
            var row = x.AsSpan(r * width, width);
            for (var k = 0; k < Latent; k++)
            {
                TensorPrimitives.MultiplyAdd(mixing.AsSpan(k * width, width), (float)Normal(random), row, row);
            }

            TensorPrimitives.Multiply(row, scales, row);
        }

        return x;
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>One launch, 2 warm-ups and 7 iterations of about a quarter second each, allocations shown; a job named on the command line (--job dry) replaces it.</summary>
    private sealed class Settings : ManualConfig
    {
        public Settings()
        {
            AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(2).WithIterationCount(7)
                .WithIterationTime(TimeInterval.FromMilliseconds(250)).AsDefault());
            AddDiagnoser(BenchmarkDotNet.Diagnosers.MemoryDiagnoser.Default);
        }
    }
}
