using ModelShrink.Core.Plans;
using ModelShrink.Core.Calibration;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Passes.Int8Static;
using ModelShrink.Core.Quantization;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Benchmarks.Checks;
using ModelShrink.Testing;

namespace ModelShrink.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release -- static [MODEL...]</c>: int8-static against the float model (and
/// int8-dynamic) on each model with holdout sets: calibrated on the first half of its
/// test_data_set folders, scored on the other half and on all of them (top-1 agreement, accuracy
/// with labels, cosine and max |diff|), and ONNX Runtime latency per holdout batch (one thread, all
/// graph optimizations, float and quantized sessions in alternating rounds; the median of three
/// measurements).
/// </summary>
public static class StaticQuantizationReport
{
    private static readonly (string Name, Func<string, CompressionOptions> Options)[] Variants =
    [
        ("int8-static", c => Static(new Int8StaticOptions { CalibrationData = c })),
        ("int8-static int8 activations", c => Static(new Int8StaticOptions { CalibrationData = c, ActivationType = WeightType.Int8 })),
        ("int8-static percentile", c => Static(new Int8StaticOptions { CalibrationData = c, Method = CalibrationMethod.Percentile })),
        ("int8-static every conv int8", c => Static(new Int8StaticOptions { CalibrationData = c, ThinConvsFloat = false })),
        ("int8-static per-tensor", c => Static(new Int8StaticOptions { CalibrationData = c, PerChannel = false })),
        ("int8 (dynamic)", _ => new CompressionOptions { Quantize = QuantizeMode.Int8 }),
    ];

    /// <summary>
    /// Prints the report as a markdown table; a name may also be a folder holding model.onnx and test_data_set_*.
    /// Each written model must load in ONNX Runtime, hold the variant's operators and give finite outputs of the
    /// original's shape on every set (else <see cref="BenchmarkFailedException"/>); <c>--quick</c>: the minimal mode
    /// (one latency measurement of one round).
    /// </summary>
    public static void Run(string[] args)
    {
        var arguments = ReportArguments.Parse(args);
        var models = arguments.Models(["digits-cnn", "digits-mlp", "digits-transformer", "ppocr-cls"], "digits-mlp");
        using var folder = new TempDirectory();
        Console.WriteLine("| model | variant | size | held-out: agreement, accuracy (float -> int8) | all sets: agreement, accuracy | cosine / max abs diff (all) | latency float -> quantized | ratio |");
        Console.WriteLine("| --- | --- | ---: | --- | --- | --- | --- | ---: |");
        foreach (var (name, path) in models)
        {
            var setFolders = ReportModels.Sets(path);
            var calibration = Directory.CreateDirectory(folder.File($"{name}-calibration")).FullName;
            var half = ReportModels.SplitHalves(path, calibration);

            var sets = setFolders.Select(d => Directory.GetFiles(d, "input_*.pb").Order().Select(TensorFile.Read).ToArray()).ToArray();
            var labelsFile = Path.Combine(Path.GetDirectoryName(path)!, "labels.json");
            var labels = File.Exists(labelsFile) ? QuantizationReport.Labels(labelsFile) : null;
            var heldOutLabels = labels?.Skip(labels.Length / sets.Length * half).ToArray();
            var reference = QuantizationReport.Outputs(path, sets);
            foreach (var (variant, options) in Variants)
            {
                var output = folder.File($"{name}-{variant.Replace(' ', '-').Replace("(", "").Replace(")", "")}.onnx");
                CompressionResult result;
                try
                {
                    result = Compressor.Run(path, output, options(calibration));
                }
                catch (ModelShrink.Onnx.Diagnostics.ModelShrinkException e)
                {
                    Console.WriteLine($"| {name} | {variant} | refused: {e.Diagnostic.Code} | | | | | |");
                    continue;
                }

                OutputCheck.Model(output, $"{name} {variant}", variant.StartsWith("int8-static", StringComparison.Ordinal) ? ["QuantizeLinear", "DequantizeLinear"] : [QuantizationReport.DynamicInt8Ops]);
                var outputs = QuantizationReport.Outputs(output, sets);
                ReportModels.CheckOutputs(reference, outputs, $"{name} {variant}");
                var heldOut = QuantizationReport.Compare(reference[half..], outputs[half..], heldOutLabels).Split(" | ");
                var all = QuantizationReport.Compare(reference, outputs, labels).Split(" | ");
                var timings = Enumerable.Range(0, arguments.Quick ? 1 : 3)
                    .Select(_ => QuantizationReport.Latencies(path, output, sets[0], arguments.MinimumRounds, arguments.Seconds))
                    .OrderBy(t => t.Quantized / t.Float).ToArray();
                var (before, after) = timings[timings.Length / 2];
                Console.WriteLine($"| {name} | {variant} | {result.SizeRatio:P1} | {heldOut[0]}, {heldOut[1]} | {all[0]}, {all[1]} | {all[2]} | {before:F3} ms -> {after:F3} ms | {after / before:F2}x |");
            }
        }
    }

    private static CompressionOptions Static(Int8StaticOptions options) => new() { Quantize = QuantizeMode.Int8Static, Int8Static = options };
}
