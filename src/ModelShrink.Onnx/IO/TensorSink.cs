using System.Globalization;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.Protobuf;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Onnx.IO;

/// <summary>
/// Turns IR tensors into TensorProtos while a model is written: inline, or appended to the
/// external-data file (to a temporary name, moved into place only when the whole save succeeds).
/// </summary>
internal sealed class TensorSink : IDisposable
{
    // Large tensors start on a page boundary so ONNX Runtime can map them; small ones on 64 bytes.
    private const int PageAlignment = 4096;
    private const int SmallAlignment = 64;
    private const long PageAlignFrom = 1 << 20;

    private readonly ModelSaveOptions options;
    private readonly string? dataFileName;
    private readonly string? finalDataPath;
    private readonly string? tempDataPath;
    private FileStream? data;

    public TensorSink(ModelSaveOptions options, string modelPath, string displayPath)
    {
        this.options = options;
        if (options.ExternalDataThreshold is null)
        {
            return;
        }

        dataFileName = options.ExternalDataFileName ?? Path.GetFileName(modelPath) + ".data";
        if (!ExternalDataPath.IsSafeRelative(dataFileName) || dataFileName.Contains('/') || dataFileName.Contains('\\'))
        {
            throw ModelShrinkException.Error(ErrorCodes.ExternalDataUnsafePath,
                $"external-data file name '{dataFileName}' must be a plain file name", displayPath, "ExternalDataFileName");
        }

        var directory = Path.GetDirectoryName(modelPath)!;
        finalDataPath = Path.Combine(directory, dataFileName);
        tempDataPath = Path.Combine(directory, $".{dataFileName}.{Guid.NewGuid():N}.tmp");
    }

    /// <summary>Bytes of tensor data that stay inside the model file.</summary>
    public long InlineBytes { get; private set; }

    /// <summary>Bytes written to the external-data file.</summary>
    public long ExternalBytes => data?.Length ?? 0;

    /// <summary>The external tensors written as references to their own files (<see cref="ModelSaveOptions.KeepExternalData"/>).</summary>
    public List<ExternalDataReference> KeptReferences { get; } = [];

    public TensorProto Write(Tensor tensor)
    {
        if (options.KeepExternalData && tensor.External is { } reference)
        {
            KeptReferences.Add(reference);
            return tensor.Source is { } original
                ? original.Name == tensor.Name ? original : Renamed(original, tensor.Name)
                : Reference(Shell(tensor), reference.Location, reference.Offset, reference.Length);
        }

        var external = options.ExternalDataThreshold is { } threshold && tensor.DataType != DataType.String && tensor.ByteCount >= threshold;
        if (!external)
        {
            InlineBytes += tensor.ByteCount;
            if (tensor.Source is { } source && tensor.External is null)
            {
                return source.Name == tensor.Name ? source : Renamed(source, tensor.Name);
            }

            var inline = Shell(tensor);
            TensorProtoCodec.WriteInline(tensor, inline, options.Encoding);
            return inline;
        }

        return Reference(Shell(tensor), dataFileName!, Append(tensor), tensor.ByteCount);
    }

    private static TensorProto Reference(TensorProto proto, string location, long offset, long length)
    {
        proto.DataLocation = TensorProto.Types.DataLocation.External;
        proto.ExternalData.Add(Entry("location", location));
        proto.ExternalData.Add(Entry("offset", offset.ToString(CultureInfo.InvariantCulture)));
        proto.ExternalData.Add(Entry("length", length.ToString(CultureInfo.InvariantCulture)));
        return proto;
    }

    /// <summary>Moves the external-data file into place (call after the model file is complete).</summary>
    public void Commit()
    {
        if (data is null)
        {
            return;
        }

        data.Flush(flushToDisk: false);
        data.Dispose();
        data = null;
        OutputPath.MoveInto(tempDataPath!, finalDataPath!, finalDataPath!, "ExternalDataFileName");
    }

    public void Dispose()
    {
        data?.Dispose();
        if (tempDataPath is not null && File.Exists(tempDataPath))
        {
            File.Delete(tempDataPath);
        }
    }

    private long Append(Tensor tensor)
    {
        data ??= new FileStream(tempDataPath!, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 20);
        var alignment = tensor.ByteCount >= PageAlignFrom ? PageAlignment : SmallAlignment;
        var offset = (data.Length + alignment - 1) / alignment * alignment;
        if (offset > data.Length)
        {
            data.Write(new byte[offset - data.Length]);
        }

        data.Write(tensor.GetRawData().Span);
        return offset;
    }

    // A new proto with the tensor's identity, keeping the original's doc string and metadata.
    private static TensorProto Shell(Tensor tensor)
    {
        var proto = new TensorProto { Name = tensor.Name, DataType = (int)tensor.DataType };
        proto.Dims.AddRange(tensor.Dims);
        if (tensor.Source is { } source)
        {
            if (source.HasDocString)
            {
                proto.DocString = source.DocString;
            }

            proto.MetadataProps.AddRange(source.MetadataProps);
        }

        return proto;
    }

    private static TensorProto Renamed(TensorProto source, string name)
    {
        var copy = source.Clone();
        copy.Name = name;
        return copy;
    }

    private static StringStringEntryProto Entry(string key, string value) => new() { Key = key, Value = value };
}
