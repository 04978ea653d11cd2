using System.Text.Json;
using ModelShrink.Testing;

namespace ModelShrink.Benchmarks;

/// <summary>The models the reports run on, and their holdout sets cut in halves.</summary>
internal static class ReportModels
{
    /// <summary>
    /// Each name as (name, model path): a fixture, a folder holding model.onnx and test_data_set_*, or
    /// a model of the shared corpus (MODELSHRINK_CORPUS, default /work/shared/corpus); names whose
    /// model is missing (no corpus on this machine) are left out.
    /// </summary>
    public static (string Name, string Path)[] Resolve(string[] names, IEnumerable<string> defaults)
    {
        var corpus = Environment.GetEnvironmentVariable("MODELSHRINK_CORPUS") ?? "/work/shared/corpus";
        return (names.Length > 0 ? names : defaults.ToArray())
            .Select(n => (Name: Path.GetFileName(n), Path: Fixtures.All.Contains(n) ? Fixtures.Model(n)
                : Directory.Exists(n) ? Path.Combine(n, "model.onnx") : Path.Combine(corpus, n, "model.onnx")))
            .Where(m => File.Exists(m.Path))
            .ToArray();
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
