using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using ModelShrink.Runtime;

// Runs the digit classifier that ModelShrink.Build compressed at build time on the holdout set,
// with the execution provider its runtime config chooses for this machine.
var baseDirectory = AppContext.BaseDirectory;
using var model = CompressedModel.Load(Path.Combine(baseDirectory, "Models", "digits-cnn.runtime.json"));
Console.WriteLine($"model:    {Path.GetFileName(model.ModelPath)} ({new FileInfo(model.ModelPath).Length / 1024.0:0.0} KB, {model.Variant.Precision})");
Console.WriteLine($"provider: {model.Provider}");
foreach (var reason in model.FallbackReasons)
{
    Console.WriteLine($"  skipped {reason}");
}

var rows = File.ReadLines(Path.Combine(baseDirectory, "Data", "holdout.csv")).Skip(1)
    .Select(line => line.Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray())
    .ToArray();
var pixels = rows.SelectMany(r => r.Skip(1)).ToArray();
using var session = model.CreateSession();
using var input = OrtValue.CreateTensorValueFromMemory(pixels, [rows.Length, 1, 8, 8]);
using var runOptions = new RunOptions();
using var outputs = session.Run(runOptions, [session.InputNames[0]], [input], session.OutputNames);
var logits = outputs[0].GetTensorDataAsSpan<float>().ToArray();

var correct = 0;
for (var i = 0; i < rows.Length; i++)
{
    var scores = logits.AsSpan(i * 10, 10);
    var predicted = scores.IndexOf(MaxOf(scores));
    correct += predicted == (int)rows[i][0] ? 1 : 0;
}

Console.WriteLine($"accuracy: {correct}/{rows.Length} = {100.0 * correct / rows.Length:0.00}% on the holdout set");
return 0;

static float MaxOf(ReadOnlySpan<float> values)
{
    var max = values[0];
    foreach (var v in values)
    {
        max = Math.Max(max, v);
    }

    return max;
}
