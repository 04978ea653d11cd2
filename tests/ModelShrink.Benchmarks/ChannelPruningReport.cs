using System.Diagnostics;
using System.Globalization;
using ModelShrink.Benchmarks.Checks;
using ModelShrink.Core.Budgets;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Passes.Pruning;
using ModelShrink.Core.Passes.Pruning.Channels;
using ModelShrink.Core.Passes.Reconstruction;
using ModelShrink.Core.Search;
using ModelShrink.Core.Validation;
using ModelShrink.Onnx.IO;
using ModelShrink.Testing;

namespace ModelShrink.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release -- channels [MODEL...]</c>: structured (channel) pruning at several ratios, with
/// the channels chosen by weight norms (no reconstruction) and chosen on data with the readers refit
/// (<c>Reconstruct=Layerwise</c>), fitted on the first half of each model's test_data_set folders and scored on
/// the other half: parameters removed, ONNX Runtime latency (CPU, one thread, the first held-out batch) as a
/// ratio to the original measured beside it, accuracy with labels and top-1 agreement; then what
/// <c>Prune=auto</c> finds within one point of accuracy (agreement without labels), with refit.
/// </summary>
public static class ChannelPruningReport
{
    private static readonly double[] Ratios = [0.1, 0.2, 0.3, 0.5];

    /// <summary>
    /// Prints the report as a markdown table. Every pruned model must be validated on the held-out half and
    /// load in ONNX Runtime (else <see cref="BenchmarkFailedException"/>); a ratio may remove nothing where the
    /// channels kept round up to a multiple of 8 (PruneChannelMultiple). <c>--quick</c>:
    /// the minimal mode (the smallest fixture, one ratio, one latency round).
    /// </summary>
    public static void Run(string[] args)
    {
        var arguments = ReportArguments.Parse(args);
        var models = arguments.Models(["digits-mlp", "digits-cnn", "digits-transformer", "ppocr-cls"], "digits-mlp");
        using var folder = new TempDirectory();
        Console.WriteLine("| model | prune | channels chosen by | parameters removed | latency vs original | accuracy (original) | agreement | time |");
        Console.WriteLine("| --- | --- | --- | ---: | ---: | --- | ---: | ---: |");
        foreach (var (name, path) in models)
        {
            var (calibration, heldOut) = ReportModels.Halves(folder, name, path);
            var parameters = ChannelPruner.Parameters(ModelReader.Load(path));
            var sets = ReportModels.Sets(path);
            var firstBatch = Fixtures.Inputs(sets[sets.Length / 2]);
            foreach (var ratio in arguments.Quick ? Ratios[2..3] : Ratios)
            {
                foreach (var reconstruct in new[] { ReconstructMode.None, ReconstructMode.Layerwise })
                {
                    var prune = new PruneOptions { Method = PruneMethod.Channels, Sparsity = ratio };
                    var settings = Settings(new CompressionOptions { Prune = prune, Reconstruct = reconstruct, ReconstructData = calibration }, heldOut, new AccuracyBudget(null, null, null));
                    var output = folder.File($"{name}-{ratio}-{reconstruct}.onnx");
                    var started = Stopwatch.StartNew();
                    var job = CompressionRun.Run(path, output, settings, name);
                    Row(name, $"{ratio:0.0}", reconstruct, job, started.Elapsed, path, output, parameters, firstBatch, arguments);
                }
            }

            if (!arguments.Quick)
            {
                // Prune=auto: the highest ratio within one point of accuracy (or of agreement), with refit.
                var auto = new PruneOptions { Method = PruneMethod.Channels, Auto = true };
                var budget = File.Exists(Path.Combine(heldOut, "labels.json")) ? new AccuracyBudget(0.01, null, null) : new AccuracyBudget(null, 0.99, null);
                var output = folder.File($"{name}-auto.onnx");
                var started = Stopwatch.StartNew();
                var job = CompressionRun.Run(path, output, Settings(new CompressionOptions { Prune = auto, Reconstruct = ReconstructMode.Layerwise, ReconstructData = calibration }, heldOut, budget), name);
                Row(name, job.ChosenSparsity is > 0 and var s ? $"auto: {s:0.0#}" : "auto: none", ReconstructMode.Layerwise, job, started.Elapsed, path, output, parameters, firstBatch, arguments);
            }
        }
    }

    private static JobSettings Settings(CompressionOptions options, string heldOut, AccuracyBudget accuracy) =>
        new(options, new SizeBudget(null, null), accuracy, heldOut, new ValidationOptions(null, null)) { HintBetterSettings = false };

    private static void Row(string name, string prune, ReconstructMode reconstruct, JobResult job, TimeSpan elapsed, string original, string output,
        long parameters, Onnx.Tensors.Tensor[] batch, ReportArguments arguments)
    {
        var what = $"{name} prune {prune} {reconstruct}";
        var v = job.Validation?.Values ?? throw new BenchmarkFailedException($"{what}: not validated");
        OutputCheck.Model(output, what);
        var after = ChannelPruner.Parameters(ModelReader.Load(output));

        var (before, pruned) = QuantizationReport.Latencies(original, output, batch, arguments.MinimumRounds, arguments.Seconds);
        var accuracy = v.Accuracy is { } a ? $"{a:P1} ({v.OriginalAccuracy:P1})" : "";
        var chosenBy = reconstruct == ReconstructMode.None ? "weight norms" : "data, refit";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {prune} | {chosenBy} | {1 - ((double)after / parameters):P1} | {pruned / before:F2} | {accuracy} | {v.Agreement:P1} | {elapsed.TotalSeconds:F2} s |"));
    }
}
