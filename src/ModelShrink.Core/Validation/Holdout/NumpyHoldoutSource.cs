using System.IO.Compression;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Validation.Holdout;

/// <summary>
/// Holdout data as NumPy arrays: an .npz archive, or a folder of .npy files, with one array per
/// model input (named after it; first axis = samples) and an optional <c>labels</c> array. Rows are
/// streamed in batches, so memory stays flat however many samples there are.
/// </summary>
public sealed class NumpyHoldoutSource(string path, ModelSignature signature, int batchSize) : IHoldoutSource
{
    /// <summary>The name of the optional labels array.</summary>
    public const string LabelsName = "labels";

    /// <inheritdoc />
    public string Description => Directory.Exists(path) ? $".npy arrays in {path}" : $".npz archive {path}";

    /// <inheritdoc />
    public IEnumerable<HoldoutBatch> Batches()
    {
        using var opened = Open();
        var arrays = opened.Arrays;
        var inputs = ResolveInputs(arrays);
        var rows = inputs.Values.First().Rows;
        foreach (var (name, array) in inputs.Concat(arrays.Where(a => a.Key == LabelsName)))
        {
            if (array.Shape.Count > 0 && array.Rows != rows)
            {
                throw ModelShrinkException.Error(ErrorCodes.HoldoutMismatch,
                    $"array '{name}' has {array.Rows} samples but '{inputs.Keys.First()}' has {rows}; the first axis must be the samples in every array", path, "Holdout");
            }
        }

        arrays.TryGetValue(LabelsName, out var labels);
        var scalarInputs = inputs.Where(i => i.Value.Shape.Count == 0).ToDictionary(i => i.Key, i => i.Value.ReadRows(1, i.Key));
        for (long start = 0, index = 0; start < rows; start += batchSize, index++)
        {
            var take = (int)Math.Min(batchSize, rows - start);
            var tensors = inputs.ToDictionary(i => i.Key, i => scalarInputs.TryGetValue(i.Key, out var s) ? s : i.Value.ReadRows(take, i.Key));
            var labelValues = labels is null ? null : Labels.ToInts(labels.ReadRows(take, LabelsName), path);
            yield return new HoldoutBatch(tensors, labelValues, $"{Path.GetFileName(path)} rows {start}..{start + take - 1}");
        }
    }

    // Arrays named after inputs; a lone unnamed array feeds a model with a single input.
    private Dictionary<string, NpyArray> ResolveInputs(Dictionary<string, NpyArray> arrays)
    {
        var data = arrays.Where(a => a.Key != LabelsName).ToDictionary(a => a.Key, a => a.Value);
        if (data.Count == 1 && signature.Inputs.Count == 1 && !data.ContainsKey(signature.Inputs[0].Name))
        {
            return new Dictionary<string, NpyArray> { [signature.Inputs[0].Name] = data.Values.Single() };
        }

        return data;
    }

    // A FIFO named *.npy inside a holdout folder would block the read forever: refused before opening.
    private static FileStream OpenRegular(string file) => File.OpenRead(ModelShrink.Onnx.IO.InputFile.CheckRegular(file, "holdout file", "Holdout"));

    private OpenedArrays Open()
    {
        if (Directory.Exists(path))
        {
            var files = Directory.GetFiles(path, "*.npy").Order(StringComparer.Ordinal).ToArray();
            return new OpenedArrays(null, files.ToDictionary(
                f => Path.GetFileNameWithoutExtension(f),
                f => NpyArray.Open(OpenRegular(f), Path.GetFileNameWithoutExtension(f), f)));
        }

        if (path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
        {
            var name = Path.GetFileNameWithoutExtension(path);
            return new OpenedArrays(null, new() { [name] = NpyArray.Open(File.OpenRead(path), name, path) });
        }

        ZipArchive archive;
        var stream = OpenRegular(path);
        try
        {
            archive = new ZipArchive(stream, ZipArchiveMode.Read);
        }
        catch (InvalidDataException e)
        {
            stream.Dispose();
            throw ModelShrinkException.Error(ErrorCodes.HoldoutUnreadable, $"not an .npz archive: {e.Message}", path, "Holdout", e);
        }

        var arrays = archive.Entries
            .Where(e => e.FullName.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            .ToDictionary(e => e.FullName[..^4], e => NpyArray.Open(e.Open(), e.FullName[..^4], path));
        return new OpenedArrays(archive, arrays);
    }

    private sealed class OpenedArrays(ZipArchive? archive, Dictionary<string, NpyArray> arrays) : IDisposable
    {
        public Dictionary<string, NpyArray> Arrays => arrays;

        public void Dispose()
        {
            foreach (var array in arrays.Values)
            {
                array.Dispose();
            }

            archive?.Dispose();
        }
    }
}

/// <summary>Label arrays as class indices.</summary>
internal static class Labels
{
    public static int[] ToInts(Tensor tensor, string file) => tensor.DataType switch
    {
        DataType.Int64 => tensor.ToArray<long>().Select(v => checked((int)v)).ToArray(),
        DataType.Int32 => tensor.ToArray<int>(),
        DataType.Int16 or DataType.Int8 or DataType.UInt8 or DataType.UInt16 => tensor.ToFloatArray().Select(v => (int)v).ToArray(),
        _ => throw ModelShrinkException.Error(ErrorCodes.HoldoutMismatch, $"labels must be integers, found {tensor.DataType.DisplayName()}", file, "Holdout"),
    };
}
