using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using ModelShrink.Runtime;

// runtime-check RUNTIME_JSON ORIGINAL [N,C,H,W]: loads the runtime config with ModelShrink.Runtime
// (the provider chain an app gets), runs the chosen variant and the original on the CPU on the same
// seeded input, and prints one line per fact. Symbolic dimensions come from the optional shape.
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: runtime-check RUNTIME_JSON ORIGINAL [DIM,DIM,...]");
    return 2;
}

using var chosen = CompressedModel.Load(args[0]);
Console.WriteLine($"available providers: {string.Join(", ", OrtEnv.Instance().GetAvailableProviders())}");
Console.WriteLine($"chosen: {chosen.Provider} {chosen.Variant.File} ({chosen.Variant.Precision})");
foreach (var reason in chosen.FallbackReasons)
{
    Console.WriteLine($"skipped: {reason}");
}

var started = Stopwatch.GetTimestamp();
using var session = chosen.CreateSession();
Console.WriteLine($"session started in {Stopwatch.GetElapsedTime(started).TotalMilliseconds:0} ms");
using var original = new InferenceSession(args[1]);
var input = original.InputMetadata.First();
var given = args.Length > 2 ? args[2].Split(',').Select(long.Parse).ToArray() : null;
var shape = input.Value.Dimensions.Select((d, i) => d > 0 ? d : given?[i] ?? 1).ToArray();
var random = new Random(12);
var data = new float[shape.Aggregate(1L, (a, b) => a * b)];
for (var i = 0; i < data.Length; i++)
{
    data[i] = (float)random.NextDouble();
}

float[] Run(InferenceSession s)
{
    using var value = OrtValue.CreateTensorValueFromMemory(data, shape);
    using var runOptions = new RunOptions();
    using var outputs = s.Run(runOptions, [input.Key], [value], [s.OutputNames[0]]);
    return outputs[0].GetTensorDataAsSpan<float>().ToArray();
}

var expected = Run(original);
var actual = Run(session);
double dot = 0, a2 = 0, b2 = 0, maxAbs = 0;
for (var i = 0; i < expected.Length; i++)
{
    dot += expected[i] * (double)actual[i];
    a2 += expected[i] * (double)expected[i];
    b2 += actual[i] * (double)actual[i];
    maxAbs = Math.Max(maxAbs, Math.Abs(expected[i] - actual[i]));
}

var times = new List<double>();
for (var i = 0; i < 23; i++)
{
    var t = Stopwatch.GetTimestamp();
    Run(session);
    times.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
}

times.Sort();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"input [{string.Join(",", shape)}]; output '{session.OutputNames[0]}' vs the original on the CPU: cosine {dot / Math.Sqrt(a2 * b2):0.######}, max|diff| {maxAbs:G4}; median {times[times.Count / 2]:0.###} ms of 23 runs"));
return 0;
