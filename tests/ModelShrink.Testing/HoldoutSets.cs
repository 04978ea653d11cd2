using System.Globalization;

namespace ModelShrink.Testing;

/// <summary>The test_data_set_N folders of a model folder (the ONNX model zoo's holdout layout).</summary>
public static class HoldoutSets
{
    /// <summary>The test_data_set_N folders in <paramref name="folder"/>, in numeric order.</summary>
    public static string[] In(string folder) =>
        Directory.GetDirectories(folder, "test_data_set_*")
            .OrderBy(d => int.Parse(Path.GetFileName(d)["test_data_set_".Length..], CultureInfo.InvariantCulture))
            .ToArray();

    /// <summary>Copies the set folder <paramref name="set"/>, under its own name, into <paramref name="folder"/>.</summary>
    public static void CopyInto(string set, string folder)
    {
        var copy = Directory.CreateDirectory(Path.Combine(folder, Path.GetFileName(set))).FullName;
        foreach (var file in Directory.GetFiles(set))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        }
    }
}
