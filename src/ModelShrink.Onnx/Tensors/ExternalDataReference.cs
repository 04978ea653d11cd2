namespace ModelShrink.Onnx.Tensors;

/// <summary>
/// Where a tensor's bytes live outside the model file: a validated absolute path inside the
/// model's folder, an offset and a length (TensorProto.external_data).
/// </summary>
/// <param name="Location">The location as written in the model (relative to the model's folder).</param>
/// <param name="FullPath">The resolved absolute path, already checked to lie inside the model's folder.</param>
/// <param name="Offset">Byte offset of the tensor's data in the file.</param>
/// <param name="Length">Byte length of the tensor's data.</param>
public sealed record ExternalDataReference(string Location, string FullPath, long Offset, long Length)
{
    /// <summary>The mapped file the bytes are viewed in, shared by the model's tensors in that file (null: read).</summary>
    internal MappedDataFile? Mapping { get; init; }

    /// <summary>The bytes: viewed in the mapped file where there is one, else read from disk.</summary>
    public ReadOnlyMemory<byte> Data() => Mapping?.View(Offset, checked((int)Length)) ?? Read();

    /// <summary>Reads the bytes from disk (positional read: safe to call from many threads).</summary>
    public byte[] Read()
    {
        var buffer = GC.AllocateUninitializedArray<byte>(checked((int)Length));
        using var handle = File.OpenHandle(FullPath, FileMode.Open, FileAccess.Read, FileShare.Read);
        var done = 0;
        while (done < buffer.Length)
        {
            var read = RandomAccess.Read(handle, buffer.AsSpan(done), Offset + done);
            if (read == 0)
            {
                throw new EndOfStreamException($"external data file '{Location}' ended early");
            }

            done += read;
        }

        return buffer;
    }
}
