using System.Globalization;
using System.Text.Json;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Validation.Holdout;

/// <summary>
/// Holdout data in the ONNX test-data layout: <c>test_data_set_N/input_K.pb</c> (serialized
/// TensorProtos; a tensor named after a model input feeds that input, an unnamed one feeds input
/// K), one batch per folder, with optional labels in <c>labels.json</c> (<c>{"labels": [...]}</c>,
/// in set order) beside the folders.
/// </summary>
public sealed class OnnxTestDataSource : IHoldoutSource
{
    private readonly string[] sets;
    private readonly ModelSignature signature;
    private readonly int[]? labels;
    private readonly string root;

    /// <summary>Opens <paramref name="path"/>: a folder of test_data_set_N folders, or one such folder.</summary>
    public OnnxTestDataSource(string path, ModelSignature signature)
    {
        this.signature = signature;
        var isSet = Path.GetFileName(Path.TrimEndingDirectorySeparator(path)).StartsWith("test_data_set_", StringComparison.Ordinal);
        root = isSet ? Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(path))! : path;
        sets = isSet ? [path] : FindSets(path);
        labels = isSet ? null : ReadLabels(Path.Combine(path, "labels.json"));
    }

    /// <summary>Whether <paramref name="path"/> looks like this layout.</summary>
    public static bool Recognizes(string path) =>
        Directory.Exists(path) && (Path.GetFileName(Path.TrimEndingDirectorySeparator(path)).StartsWith("test_data_set_", StringComparison.Ordinal)
            || Directory.EnumerateDirectories(path, "test_data_set_*").Any());

    /// <inheritdoc />
    public string Description => $"{sets.Length} test_data_set folder(s) in {root}";

    /// <inheritdoc />
    public int? BatchCount => sets.Length;

    /// <inheritdoc />
    public IEnumerable<HoldoutBatch> Batches()
    {
        var offset = 0;
        foreach (var set in sets)
        {
            var files = Directory.GetFiles(set, "input_*.pb").OrderBy(f => Index(f, "input_")).ToArray();
            var inputs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            for (var k = 0; k < files.Length; k++)
            {
                var tensor = TensorFile.Read(files[k]);
                var name = signature.Inputs.Any(i => i.Name == tensor.Name) ? tensor.Name
                    : k < signature.Inputs.Count ? signature.Inputs[k].Name
                    : tensor.Name;
                inputs[name] = tensor.Name == name ? tensor : tensor.WithName(name);
            }

            var batch = new HoldoutBatch(inputs, null, Path.GetFileName(set));
            if (labels is not null)
            {
                var count = batch.SampleCount;
                if (offset + count > labels.Length)
                {
                    throw ModelShrinkException.Error(ErrorCodes.HoldoutLabels,
                        $"labels.json has {labels.Length} labels but the test_data_set folders hold more samples", Path.Combine(root, "labels.json"), "Holdout");
                }

                batch = batch with { Labels = labels[offset..(offset + count)] };
                offset += count;
            }

            yield return batch;
        }

        if (labels is not null && offset != labels.Length)
        {
            throw ModelShrinkException.Error(ErrorCodes.HoldoutLabels,
                $"labels.json has {labels.Length} labels but the test_data_set folders hold {offset} samples", Path.Combine(root, "labels.json"), "Holdout");
        }
    }

    private static string[] FindSets(string path)
    {
        var found = Directory.GetDirectories(path, "test_data_set_*").OrderBy(d => Index(d, "test_data_set_")).ToArray();
        return found.Length > 0
            ? found
            : throw ModelShrinkException.Error(ErrorCodes.HoldoutUnreadable, "holds no test_data_set_N folders", path, "Holdout");
    }

    private static int Index(string path, string prefix) =>
        int.TryParse(Path.GetFileNameWithoutExtension(path).AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : int.MaxValue;

    private static int[]? ReadLabels(string file)
    {
        if (!File.Exists(file))
        {
            return null;
        }

        try
        {
            using var json = JsonDocument.Parse(File.ReadAllText(file));
            return json.RootElement.GetProperty("labels").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw ModelShrinkException.Error(ErrorCodes.HoldoutLabels, $"labels.json must be {{\"labels\": [integers]}}: {e.Message}", file, "Holdout");
        }
    }
}
