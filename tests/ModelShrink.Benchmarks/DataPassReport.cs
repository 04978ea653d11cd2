using System.Diagnostics;
using System.Globalization;
using ModelShrink.Benchmarks.Checks;
using ModelShrink.Core.Calibration;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Passes;
using ModelShrink.Core.Passes.Int8Static;
using ModelShrink.Core.Passes.Reconstruction;
using ModelShrink.Core.Plans;
using ModelShrink.Core.Validation.Holdout;
using ModelShrink.Core.Validation.Running;
using ModelShrink.Onnx.IO;
using ModelShrink.Testing;

namespace ModelShrink.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release -- data-passes [MODEL...]</c>: the engine's data-driven passes as a ratio to
/// their baseline, one plain ONNX Runtime inference pass of the float model over the same data (a session
/// on every core, opened and run over every batch), measured in the same alternating rounds (the median
/// of three): activation calibration (MinMax and Entropy) of the values <c>--quantize Int8Static</c> calibrates
/// (<see cref="Int8StaticPass.CalibratedValues"/>); the layer-wise capture and the bias correction of <c>--quantize Int8 --reconstruct layerwise</c>
/// (the passes' own times); and the whole compression of Int8 + layerwise and Int8Static + layerwise.
/// The data is the model's holdout folder.
/// </summary>
public static class DataPassReport
{
    /// <summary>
    /// Prints the report as a markdown table. Every range must be finite and hold zero, every written model must
    /// load in ONNX Runtime with its quantized operators, and bias correction must have corrected a layer (else
    /// <see cref="BenchmarkFailedException"/>); <c>--quick</c>: the minimal mode (the smallest fixture, one round).
    /// </summary>
    public static void Run(string[] args)
    {
        var arguments = ReportArguments.Parse(args);
        var models = arguments.Models(["digits-cnn", "digits-transformer", "ppocr-cls"], "digits-cnn");
        using var folder = new TempDirectory();
        Console.WriteLine("| model | samples | plain pass (baseline) | calibration MinMax | calibration Entropy | layer-wise capture | bias correction | Int8 + layerwise | Int8Static + layerwise |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var (name, path) in models)
        {
            var data = Path.GetDirectoryName(path)!;
            var model = ModelReader.Load(path);
            // Calibrated as Int8Static calibrates: the model as the pass prepares it, the values it measures.
            var values = new Int8StaticPass(new Int8StaticOptions { CalibrationData = data }).CalibratedValues(model, new PassContext(name)).ToArray();
            var rounds = Enumerable.Range(0, arguments.Quick ? 1 : 3).Select(_ => new[]
            {
                Time(() => PlainPass(path, data)),
                Time(() => Calibrate(model, values, data, CalibrationMethod.MinMax, name)),
                Time(() => Calibrate(model, values, data, CalibrationMethod.Entropy, name)),
            }.Concat(Layerwise(path, data, folder.File($"{name}-int8.onnx"), name)).Append(
                Time(() => Compress(path, folder.File($"{name}-static.onnx"), name, new CompressionOptions
                {
                    Quantize = QuantizeMode.Int8Static,
                    Int8Static = new Int8StaticOptions { CalibrationData = data },
                    Reconstruct = ReconstructMode.Layerwise,
                    ReconstructData = data,
                }, "QuantizeLinear"))).ToArray()).ToArray();
            var medians = Enumerable.Range(0, rounds[0].Length).Select(c => rounds.Select(r => r[c]).Order().ElementAt(rounds.Length / 2)).ToArray();
            var samples = HoldoutReader.Open(data, ModelSignature.Of(model)).Batches().Sum(b => b.SampleCount);
            var baseline = medians[0];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {samples} | {baseline:F2} s | {string.Join(" | ", medians.Skip(1).Select(m => $"{m:F2} s ({m / baseline:F1}x)"))} |"));
        }
    }

    private static double Time(Action action)
    {
        var started = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    // The baseline: the float model over every batch, as the augmented runs do (a session on every core).
    private static void PlainPass(string path, string data)
    {
        var signature = ModelSignature.Of(ModelReader.Load(path));
        using var runner = new ModelRunner(path, intraOpThreads: Environment.ProcessorCount);
        foreach (var batch in HoldoutReader.Open(data, signature).Batches())
        {
            foreach (var output in runner.Run(batch))
            {
                OutputCheck.Finite(output.Values, $"{path}: plain pass, output {output.Name}");
            }
        }
    }

    private static void Calibrate(ModelShrink.Onnx.Ir.Model model, string[] values, string data, CalibrationMethod method, string name)
    {
        var ranges = ActivationCalibration.Measure(model, values, data, method, name);
        foreach (var value in values)
        {
            if (!ranges.TryGetValue(value, out var range) || !float.IsFinite(range.Min) || !float.IsFinite(range.Max) || range.Min > 0 || range.Max < 0)
            {
                throw new BenchmarkFailedException($"{name}: {method} calibration of {value} gave {(ranges.ContainsKey(value) ? ranges[value].ToString() : "no range")}");
            }
        }
    }

    // Int8 + layerwise: the capture's and the bias correction's own times, and the whole compression's.
    private static IEnumerable<double> Layerwise(string path, string data, string output, string name)
    {
        CompressionResult? result = null;
        var total = Time(() => result = Compress(path, output, name, new CompressionOptions
        {
            Quantize = QuantizeMode.Int8,
            Reconstruct = ReconstructMode.Layerwise,
            ReconstructData = data,
        }));
        var capture = result!.Passes.Single(p => p.Pass == "capture-layer-inputs");
        var bias = result.Passes.Single(p => p.Pass == "bias-correction");
        if (bias.Result.Counters[BiasCorrectionPass.LayersCorrected] == 0)
        {
            throw new BenchmarkFailedException($"{name}: bias correction corrected no layer");
        }

        return [capture.Elapsed.TotalSeconds, bias.Elapsed.TotalSeconds, total];
    }

    private static CompressionResult Compress(string path, string output, string name, CompressionOptions options, string expectedOp = "MatMulInteger|ConvInteger|DequantizeLinear|Cast")
    {
        File.Delete(output);
        var result = Compressor.Run(path, output, options);
        OutputCheck.Model(output, $"{name} {options.Quantize} + {options.Reconstruct}", expectedOp);
        return result;
    }
}
