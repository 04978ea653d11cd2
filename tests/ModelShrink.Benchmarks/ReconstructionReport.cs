using ModelShrink.Core.Plans;
using System.Globalization;
using ModelShrink.Core.Budgets;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Passes.Int8Dynamic;
using ModelShrink.Core.Passes.Pruning;
using ModelShrink.Core.Passes.Reconstruction;
using ModelShrink.Core.Quantization;
using ModelShrink.Core.Validation;
using ModelShrink.Benchmarks.Checks;
using ModelShrink.Testing;

namespace ModelShrink.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release -- reconstruct [MODEL...]</c>: int4, int8 and 50%-pruned models with
/// reconstruction none / bias / layerwise side by side (the engine's <c>--compare-reconstruct</c>),
/// fitted on the first half of each model's test_data_set folders and scored on the other half:
/// accuracy with labels, top-1 agreement, cosine and RMSE of the outputs against the original's,
/// and the time of each compression (with its validation).
/// </summary>
public static class ReconstructionReport
{
    private static readonly (string Name, CompressionOptions Options)[] Configurations =
    [
        ("int4 (block 32)", new CompressionOptions { Quantize = QuantizeMode.Int4 }),
        ("int8", new CompressionOptions { Quantize = QuantizeMode.Int8 }),
        ("int8 uint8 reduce-range", new CompressionOptions { Quantize = QuantizeMode.Int8, Int8 = new Int8DynamicOptions { WeightType = WeightType.UInt8, ReduceRange = true } }),
        ("int8 per-channel", new CompressionOptions { Quantize = QuantizeMode.Int8, Int8 = new Int8DynamicOptions { PerChannel = true } }),
        ("prune 0.5", new CompressionOptions { Prune = new PruneOptions { Sparsity = 0.5, Storage = PruneStorage.Dense } }),
        ("prune nm:2:4", new CompressionOptions { Prune = new PruneOptions { Method = PruneMethod.NM, N = 2, M = 4, Storage = PruneStorage.Dense } }),
        ("prune 0.5 + int8", new CompressionOptions { Quantize = QuantizeMode.Int8, Prune = new PruneOptions { Sparsity = 0.5, Storage = PruneStorage.Dense } }),
    ];

    /// <summary>
    /// Prints the report as a markdown table. Every candidate must have been validated on the held-out half
    /// (finite cosine, agreement between 0 and 1) and the model the comparison wrote must load in ONNX Runtime (else
    /// <see cref="BenchmarkFailedException"/>); <c>--quick</c>: the minimal mode (the smallest fixture).
    /// </summary>
    public static void Run(string[] args)
    {
        var arguments = ReportArguments.Parse(args);
        var models = arguments.Models(["digits-mlp", "digits-cnn", "digits-transformer", "ppocr-cls"], "digits-mlp");
        using var folder = new TempDirectory();
        Console.WriteLine("| model | configuration | size | reconstruct | accuracy (original) | agreement | cosine | RMSE | time |");
        Console.WriteLine("| --- | --- | ---: | --- | --- | ---: | ---: | ---: | ---: |");
        foreach (var (name, path) in models)
        {
            var (calibration, heldOut) = ReportModels.Halves(folder, name, path);
            foreach (var (configuration, options) in Configurations)
            {
                var settings = new JobSettings(options with { Reconstruct = ReconstructMode.Layerwise, ReconstructData = calibration },
                    new SizeBudget(null, null), new AccuracyBudget(null, null, null), heldOut, new ValidationOptions(null, null))
                {
                    CompareReconstruct = true,
                };
                var output = folder.File($"{name}.onnx");
                File.Delete(output);
                var job = ModelShrink.Core.Search.CompressionRun.Run(path, output, settings, name);
                foreach (var candidate in job.Candidates)
                {
                    if (!candidate.Applies)
                    {
                        Console.WriteLine($"| {name} | {configuration} | changes nothing | | | | | | |");
                        break;
                    }

                    var what = $"{name} {configuration} reconstruct {candidate.Options.Reconstruct}";
                    var v = candidate.Result.Validation?.Values ?? throw new BenchmarkFailedException($"{what}: not validated");
                    if (!double.IsFinite(v.Cosine) || v.Agreement is not (>= 0 and <= 1))
                    {
                        throw new BenchmarkFailedException($"{what}: validation measured cosine {v.Cosine}, agreement {v.Agreement}");
                    }

                    var accuracy = v.Accuracy is { } a ? $"{a:P1} ({v.OriginalAccuracy:P1})" : "";
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {name} | {configuration} | {candidate.Result.Compression.SizeRatio:P1} | {candidate.Options.Reconstruct.ToString().ToLowerInvariant()} | {accuracy} | {v.Agreement:P1} | {v.Cosine:F5} | {v.Rmse:G3} | {candidate.Elapsed?.TotalSeconds:F2} s |"));
                }

                // The candidates' files are gone; the one the comparison wrote (layerwise) must load.
                if (job.Candidates.All(c => c.Applies))
                {
                    OutputCheck.Model(output, $"{name} {configuration}");
                }
            }
        }
    }
}
