using System.IO.Compression;
using System.Text;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Tests.Validation;

/// <summary>Writes .npy/.npz files as NumPy does (format 1.0), for holdout tests.</summary>
internal static class NpyWriter
{
    public static byte[] Npy(Tensor tensor)
    {
        var descr = tensor.DataType switch
        {
            DataType.Float => "<f4",
            DataType.Double => "<f8",
            DataType.Int64 => "<i8",
            DataType.Int32 => "<i4",
            DataType.Bool => "|b1",
            _ => throw new NotSupportedException(tensor.DataType.ToString()),
        };
        var shape = tensor.Dims.Count == 1 ? $"({tensor.Dims[0]},)" : $"({string.Join(", ", tensor.Dims)})";
        var header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        var total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - total % 64) % 64) + "\n";
        using var stream = new MemoryStream();
        stream.Write([0x93, .. "NUMPY"u8, 1, 0]);
        stream.Write(BitConverter.GetBytes((ushort)header.Length));
        stream.Write(Encoding.ASCII.GetBytes(header));
        stream.Write(tensor.GetRawData().Span);
        return stream.ToArray();
    }

    public static void Npz(string path, params Tensor[] arrays)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var array in arrays)
        {
            using var entry = zip.CreateEntry(array.Name + ".npy").Open();
            entry.Write(Npy(array));
        }
    }
}
