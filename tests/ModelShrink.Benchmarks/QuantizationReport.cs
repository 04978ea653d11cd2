using ModelShrink.Core.Plans;
using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Passes.Int4WeightOnly;
using ModelShrink.Core.Passes.Int8Dynamic;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Benchmarks.Checks;
using ModelShrink.Testing;

namespace ModelShrink.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release -- report [MODEL...]</c>: for each model (fixtures, and the third-party
/// corpus when present) and each quantization variant, the size ratio, top-1 agreement with the
/// float model and accuracy against labels (or cosine and max |diff| of every output for models
/// without labels), and ONNX Runtime latency per holdout batch against the float model's, measured
/// in the same process (one thread, all graph optimizations, median of repeated runs).
/// </summary>
public static class QuantizationReport
{
    /// <summary>An int8-dynamic model holds one of these (the forms: integer, QDQ, weight-only, fused).</summary>
    internal const string DynamicInt8Ops = "DequantizeLinear|DynamicQuantizeLinear|MatMulInteger|ConvInteger|DynamicQuantizeMatMul";

    private static readonly string[] Integer = ["DynamicQuantizeLinear", "MatMulInteger|ConvInteger"];

    // int4 applies to MatMul weights only (a model of Gemm and Conv layers stays float: see the expected ops below).
    private static readonly string[] Int4 = ["MatMulNBits|DequantizeLinear"];

    // Each variant with the operators its model must hold (every group: one of the types named), so that
    // a variant that quietly left the model float fails the report instead of filling a row.
    private static readonly (string Name, CompressionOptions Options, string[] Expected)[] Variants =
    [
        ("int8", new CompressionOptions { Quantize = QuantizeMode.Int8 }, Integer),
        ("int8 per-channel", new CompressionOptions { Quantize = QuantizeMode.Int8, Int8 = new Int8DynamicOptions { PerChannel = true } }, Integer),
        ("int8 integer", new CompressionOptions { Quantize = QuantizeMode.Int8, Int8 = new Int8DynamicOptions { Form = Int8Form.Integer } }, Integer),
        ("int8 weight-only", new CompressionOptions { Quantize = QuantizeMode.Int8, Int8 = new Int8DynamicOptions { Form = Int8Form.WeightOnly } }, ["Cast"]),
        ("int8 qdq", new CompressionOptions { Quantize = QuantizeMode.Int8, Int8 = new Int8DynamicOptions { Form = Int8Form.Qdq } }, ["DequantizeLinear"]),
        ("int4", new CompressionOptions { Quantize = QuantizeMode.Int4, Int4 = new Int4WeightOnlyOptions() }, Int4),
        ("int4 accuracy-level 4", new CompressionOptions { Quantize = QuantizeMode.Int4, Int4 = new Int4WeightOnlyOptions { AccuracyLevel = 4 } }, Int4),
        ("int4 qdq", new CompressionOptions { Quantize = QuantizeMode.Int4, Int4 = new Int4WeightOnlyOptions { Format = Int4Format.Qdq } }, Int4),
    ];

    /// <summary>
    /// Prints the report as a markdown table; a name may also be a folder holding model.onnx and test_data_set_*.
    /// Each written model must load in ONNX Runtime, hold the variant's operators and give finite outputs of the
    /// original's shape on every set (else <see cref="BenchmarkFailedException"/>); <c>--quick</c>: the minimal mode.
    /// </summary>
    public static void Run(string[] args)
    {
        var arguments = ReportArguments.Parse(args);
        var models = arguments.Models([.. Fixtures.All, "ppocr-cls", "silero-vad"], "digits-transformer");
        using var folder = new TempDirectory();
        Console.WriteLine("| model | variant | size | agreement | accuracy (float -> quantized) | cosine / max abs diff | latency float -> quantized | ratio |");
        Console.WriteLine("| --- | --- | ---: | ---: | --- | --- | --- | ---: |");
        foreach (var (name, path) in models)
        {
            var sets = ReportModels.Sets(path)
                .Select(d => Directory.GetFiles(d, "input_*.pb").Order().Select(TensorFile.Read).ToArray())
                .ToArray();
            var labelsFile = Path.Combine(Path.GetDirectoryName(path)!, "labels.json");
            var labels = File.Exists(labelsFile) ? Labels(labelsFile) : null;
            var reference = Outputs(path, sets);
            var hasMatMul = ModelReader.Load(path).Graph.EnumerateNodes().Any(n => n.OpType == "MatMul");
            foreach (var (variant, options, expected) in Variants)
            {
                var output = folder.File($"{name}-{variant.Replace(' ', '-')}.onnx");
                CompressionResult result;
                try
                {
                    result = Compressor.Run(path, output, options);
                }
                catch (ModelShrink.Onnx.Diagnostics.ModelShrinkException e)
                {
                    Console.WriteLine($"| {name} | {variant} | refused: {e.Diagnostic.Code} | | | | | |");
                    continue;
                }

                OutputCheck.Model(output, $"{name} {variant}", expected == Int4 && !hasMatMul ? [] : expected);
                var outputs = Outputs(output, sets);
                ReportModels.CheckOutputs(reference, outputs, $"{name} {variant}");
                var (before, after) = Latencies(path, output, sets[0], arguments.MinimumRounds, arguments.Seconds);
                Console.WriteLine($"| {name} | {variant} | {result.SizeRatio:P1} | {Compare(reference, outputs, labels)} | {before:F3} ms -> {after:F3} ms | {after / before:F2}x |");
            }
        }
    }

    internal static string Compare(List<Dictionary<string, float[]>> reference, List<Dictionary<string, float[]>> outputs, int[]? labels)
    {
        var first = reference[0].Keys.First();
        var classes = labels is null ? 0 : labels.Max() + 1;
        string classification = "- | -";
        if (labels is not null)
        {
            var a = OrtRunner.ArgMax(reference.SelectMany(r => r[first]).ToArray(), classes);
            var b = OrtRunner.ArgMax(outputs.SelectMany(r => r[first]).ToArray(), classes);
            var agreement = a.Zip(b).Count(p => p.First == p.Second) / (double)a.Length;
            var before = a.Zip(labels).Count(p => p.First == p.Second) / (double)labels.Length;
            var after = b.Zip(labels).Count(p => p.First == p.Second) / (double)labels.Length;
            classification = $"{agreement:P1} | {before:P1} -> {after:P1}";
        }

        var numeric = string.Join(", ", reference[0].Keys.Select(key =>
        {
            var x = reference.SelectMany(r => r[key]).ToArray();
            var y = outputs.SelectMany(r => r[key]).ToArray();
            double dot = 0, nx = 0, ny = 0, max = 0;
            for (var i = 0; i < x.Length; i++)
            {
                dot += x[i] * (double)y[i];
                nx += x[i] * (double)x[i];
                ny += y[i] * (double)y[i];
                max = Math.Max(max, Math.Abs(x[i] - y[i]));
            }

            return $"{key} {dot / Math.Sqrt(nx * ny):F5}/{max:G3}";
        }));
        return $"{classification} | {numeric}";
    }

    internal static List<Dictionary<string, float[]>> Outputs(string path, Tensor[][] sets) =>
        sets.Select(set => OrtRunner.Run(path, set)).ToList();

    // Median milliseconds of one Run on the first holdout batch, float and quantized sessions
    // measured in alternating rounds so that drifting machine load hits both alike.
    internal static (double Float, double Quantized) Latencies(string floatPath, string quantizedPath, Tensor[] set, int minimumRounds, double seconds)
    {
        using var first = new Timed(floatPath, set);
        using var second = new Timed(quantizedPath, set);
        first.Measure(5);
        second.Measure(5);
        first.Times.Clear();
        second.Times.Clear();
        var stopwatch = Stopwatch.StartNew();
        for (var round = 0; round < 200 && (round < minimumRounds || stopwatch.Elapsed.TotalSeconds < seconds); round++)
        {
            first.Measure(5);
            second.Measure(5);
        }

        return (first.Median, second.Median);
    }

    private sealed class Timed : IDisposable
    {
        private readonly InferenceSession session;
        private readonly SessionOptions options;
        private readonly List<OrtValue> values;
        private readonly string[] names;
        private readonly RunOptions runOptions = new();

        public Timed(string path, Tensor[] set)
        {
            options = new SessionOptions
            {
                IntraOpNumThreads = 1,
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
                LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
            };
            session = new InferenceSession(path, options);
            values = set.Select(t => t.DataType switch
            {
                DataType.Float => OrtValue.CreateTensorValueFromMemory(t.ToArray<float>(), t.Dims.ToArray()),
                DataType.Int64 => OrtValue.CreateTensorValueFromMemory(t.ToArray<long>(), t.Dims.ToArray()),
                DataType.Bool => OrtValue.CreateTensorValueFromMemory(t.ToArray<bool>(), t.Dims.ToArray()),
                _ => throw new NotSupportedException(t.DataType.ToString()),
            }).ToList();
            names = session.InputNames.Take(set.Length).ToArray();
        }

        public List<double> Times { get; } = [];

        public double Median
        {
            get
            {
                Times.Sort();
                return Times[Times.Count / 2];
            }
        }

        public void Measure(int runs)
        {
            for (var i = 0; i < runs; i++)
            {
                var start = Stopwatch.GetTimestamp();
                using var results = session.Run(runOptions, names, values, session.OutputNames);
                Times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        }

        public void Dispose()
        {
            values.ForEach(v => v.Dispose());
            runOptions.Dispose();
            session.Dispose();
            options.Dispose();
        }
    }

    internal static int[] Labels(string file)
    {
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(file));
        return json.RootElement.GetProperty("labels").EnumerateArray().Select(e => e.GetInt32()).ToArray();
    }
}
