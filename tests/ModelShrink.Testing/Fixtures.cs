using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Testing;

/// <summary>
/// The project's own fixture models (tests/fixtures, made by build/fixtures/make_fixtures.py from
/// real data): paths, holdout sets and labels.
/// </summary>
public static class Fixtures
{
    /// <summary>Every fixture model folder name.</summary>
    public static readonly string[] All =
    [
        "digits-cnn", "digits-mlp", "digits-lstm", "digits-transformer",
        "digits-mlp-constants", "digits-mlp-inputs", "digits-cnn-if",
    ];

    /// <summary>Every fixture name as a test data row, for <c>[DynamicData]</c>.</summary>
    public static IEnumerable<object[]> AllRows => All.Select(name => new object[] { name });

    /// <summary>The folder holding the fixtures next to the test assembly.</summary>
    public static string Root => Path.Combine(AppContext.BaseDirectory, "fixtures");

    /// <summary>The model file of a fixture.</summary>
    public static string Model(string name) => Path.Combine(Root, name, "model.onnx");

    /// <summary>The holdout set folders of a fixture, in order.</summary>
    public static string[] DataSets(string name) =>
        HoldoutSets.In(Path.Combine(Root, name));

    /// <summary>
    /// The fixture's first 4 holdout sets copied into <c>FOLDER/calibration</c>, the next 4 into
    /// <c>FOLDER/held-out</c> (32 samples a set; no labels): data to fit on, and other data to judge on.
    /// </summary>
    public static (string Calibration, string HeldOut) SplitHoldout(string name, string folder)
    {
        var sets = DataSets(name);
        var calibration = Directory.CreateDirectory(Path.Combine(folder, "calibration")).FullName;
        var heldOut = Directory.CreateDirectory(Path.Combine(folder, "held-out")).FullName;
        for (var i = 0; i < 8; i++)
        {
            HoldoutSets.CopyInto(sets[i], i < 4 ? calibration : heldOut);
        }

        return (calibration, heldOut);
    }

    /// <summary>The input tensors of one holdout set, in graph-input order.</summary>
    public static Tensor[] Inputs(string dataSet) =>
        Directory.GetFiles(dataSet, "input_*.pb")
            .OrderBy(f => int.Parse(Path.GetFileNameWithoutExtension(f)["input_".Length..], System.Globalization.CultureInfo.InvariantCulture))
            .Select(TensorFile.Read)
            .ToArray();

    /// <summary>The labels of a fixture's holdout, in set order.</summary>
    public static int[] Labels(string name)
    {
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, name, "labels.json")));
        return json.RootElement.GetProperty("labels").EnumerateArray().Select(e => e.GetInt32()).ToArray();
    }
}
