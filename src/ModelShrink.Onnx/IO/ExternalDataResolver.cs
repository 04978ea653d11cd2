using System.Globalization;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.Protobuf;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Onnx.IO;

/// <summary>
/// Turns a TensorProto's external_data entries into a checked <see cref="ExternalDataReference"/>:
/// safe location, existing file, offset and length inside it, length matching the tensor.
/// </summary>
internal sealed class ExternalDataResolver(string? modelDirectory, string modelFile)
{
    private readonly Dictionary<string, long> fileLengths = new(StringComparer.Ordinal);
    private readonly Dictionary<string, MappedDataFile> mappings = new(StringComparer.Ordinal);

    public ExternalDataReference? Resolve(TensorProto tensor)
    {
        if (tensor.DataLocation != TensorProto.Types.DataLocation.External)
        {
            return null;
        }

        var setting = $"tensor '{tensor.Name}' external_data";
        string? location = null;
        long offset = 0;
        long? length = null;
        foreach (var entry in tensor.ExternalData)
        {
            switch (entry.Key)
            {
                case "location":
                    location = entry.Value;
                    break;
                case "offset":
                    offset = ParseNumber(entry.Value, "offset", setting);
                    break;
                case "length":
                    length = ParseNumber(entry.Value, "length", setting);
                    break;
            }
        }

        if (location is null)
        {
            throw Range("has no 'location' entry", setting);
        }

        if (modelDirectory is null)
        {
            throw ModelShrinkException.Error(ErrorCodes.ExternalDataUnsafePath,
                "the model uses external data but was read from a stream with no folder to resolve it against", modelFile, setting);
        }

        var fullPath = ExternalDataPath.Resolve(modelDirectory, location, modelFile, tensor.Name);
        var fileLength = FileLength(fullPath);
        var dataLength = length ?? fileLength - offset;
        if (offset > fileLength || dataLength > fileLength - offset)
        {
            throw Range($"points at bytes {offset}..{offset + dataLength} of '{location}', which has {fileLength} bytes", setting);
        }

        var type = (DataType)tensor.DataType;
        var expected = type.RawByteCount(Tensor.Product(tensor.Dims.ToArray()));
        if (type == DataType.String || dataLength != expected)
        {
            throw ModelShrinkException.Error(ErrorCodes.InvalidTensor,
                $"tensor '{tensor.Name}' has {dataLength} bytes of external data but its shape and type need {expected}", modelFile, setting);
        }

        if (!mappings.TryGetValue(fullPath, out var mapping))
        {
            mappings[fullPath] = mapping = new MappedDataFile(fullPath);
        }

        return new ExternalDataReference(location, fullPath, offset, dataLength) { Mapping = mapping };
    }

    private long ParseNumber(string text, string key, string setting)
    {
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            throw Range($"has {key} '{text}', which is not a non-negative integer", setting);
        }

        return number;
    }

    private long FileLength(string path)
    {
        if (!fileLengths.TryGetValue(path, out var length))
        {
            // FileInfo of a link describes the link itself; measure the file it points at (already
            // checked by ExternalDataPath to lie inside the model's folder).
            var info = new FileInfo(path);
            if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is FileInfo target)
            {
                info = target;
            }

            length = info.Length;
            fileLengths[path] = length;
        }

        return length;
    }

    private ModelShrinkException Range(string problem, string setting) =>
        ModelShrinkException.Error(ErrorCodes.ExternalDataRange, $"external data {problem}", modelFile, setting);
}
