using System.Text.Json;
using ModelShrink.Benchmarks.Checks;
using ModelShrink.Testing;

namespace ModelShrink.Benchmarks;

/// <summary>The models the reports run on, and their holdout sets cut in halves.</summary>
internal static class ReportModels
{
    /// <summary>
    /// Each name as (name, model path): a fixture, a folder holding model.onnx and test_data_set_*, or
    /// a model of the shared corpus (MODELSHRINK_CORPUS, default /work/shared/corpus). Default models
    /// that are missing (no corpus on this machine) are left out; a named model that is missing, or no
    /// model at all, fails the run.
    /// </summary>
    public static (string Name, string Path)[] Resolve(string[] names, IEnumerable<string> defaults)
    {
        var corpus = Environment.GetEnvironmentVariable("MODELSHRINK_CORPUS") ?? "/work/shared/corpus";
        var models = (names.Length > 0 ? names : defaults.ToArray())
            .Select(n => (Name: Path.GetFileName(n.TrimEnd('/')), Path: Fixtures.All.Contains(n) ? Fixtures.Model(n)
                : Directory.Exists(n) ? Path.Combine(n, "model.onnx") : Path.Combine(corpus, n, "model.onnx")))
            .ToArray();
        if (names.Length > 0 && models.FirstOrDefault(m => !File.Exists(m.Path)) is { Path: not null } missing)
        {
            throw new BenchmarkFailedException($"{missing.Name}: no model at {missing.Path}");
        }

        var present = models.Where(m => File.Exists(m.Path)).ToArray();
        return present.Length > 0 ? present : throw new BenchmarkFailedException("no model to run on");
    }

    /// <summary>
    /// Throws unless <paramref name="outputs"/> (the compressed model's, per holdout set) hold the same
    /// outputs with the same number of values as <paramref name="reference"/> (the original's), all finite.
    /// </summary>
    public static void CheckOutputs(List<Dictionary<string, float[]>> reference, List<Dictionary<string, float[]>> outputs, string what)
    {
        for (var set = 0; set < reference.Count; set++)
        {
            foreach (var (key, values) in reference[set])
            {
                if (!outputs[set].TryGetValue(key, out var actual) || actual.Length != values.Length)
                {
                    throw new BenchmarkFailedException($"{what}: set {set}: output {key} has {actual?.Length.ToString() ?? "no"} values, the original's {values.Length}");
                }

                OutputCheck.Finite(actual, $"{what}: set {set}: output {key}");
            }
        }
    }

    /// <summary>
    /// Folders <c>NAME-calibration</c> and <c>NAME-held-out</c> made in <paramref name="folder"/> and filled by
    /// <see cref="SplitHalves"/>: the data fitted on and the data scored on.
    /// </summary>
    public static (string Calibration, string HeldOut) Halves(TempDirectory folder, string name, string modelPath)
    {
        var calibration = Directory.CreateDirectory(folder.File($"{name}-calibration")).FullName;
        var heldOut = Directory.CreateDirectory(folder.File($"{name}-held-out")).FullName;
        SplitHalves(modelPath, calibration, heldOut);
        return (calibration, heldOut);
    }

    /// <summary>The model's test_data_set_* folders in numeric order.</summary>
    public static string[] Sets(string modelPath) => HoldoutSets.In(Path.GetDirectoryName(modelPath)!);

    /// <summary>
    /// Copies the first half of the model's sets into <paramref name="calibration"/> and the second half
    /// into <paramref name="heldOut"/> (with its share of labels.json, when there is one), so data fitted
    /// on is never scored on. Returns the number of sets in the first half.
    /// </summary>
    public static int SplitHalves(string modelPath, string calibration, string? heldOut = null)
    {
        var sets = Sets(modelPath);
        var half = sets.Length / 2;
        for (var i = 0; i < sets.Length; i++)
        {
            if ((i < half ? calibration : heldOut) is { } target)
            {
                HoldoutSets.CopyInto(sets[i], target);
            }
        }

        var labelsFile = Path.Combine(Path.GetDirectoryName(modelPath)!, "labels.json");
        if (heldOut is not null && File.Exists(labelsFile))
        {
            var labels = QuantizationReport.Labels(labelsFile);
            var perSet = labels.Length / sets.Length;
            File.WriteAllText(Path.Combine(heldOut, "labels.json"), JsonSerializer.Serialize(new { labels = labels[(perSet * half)..] }));
        }

        return half;
    }
}
