using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Validation.Holdout;

/// <summary>
/// A NumPy .npy array read row by row from a stream (format versions 1-3: magic, header dict,
/// then the C-ordered little-endian data), so an array larger than memory can still be batched.
/// </summary>
public sealed partial class NpyArray : IDisposable
{
    private readonly Stream stream;
    private readonly string name;
    private readonly string file;
    private long rowsRead;

    private NpyArray(Stream stream, string name, string file, DataType type, long[] shape)
    {
        this.stream = stream;
        this.name = name;
        this.file = file;
        Type = type;
        Shape = shape;
    }

    /// <summary>The element type.</summary>
    public DataType Type { get; }

    /// <summary>The full shape; the first axis is the samples.</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>Rows along the first axis (1 for a scalar).</summary>
    public long Rows => Shape.Count == 0 ? 1 : Shape[0];

    private long RowBytes => Type.RawByteCount(Shape.Skip(1).Aggregate(1L, (a, b) => a * b));

    /// <summary>Reads the header of an array named <paramref name="name"/>; the stream is owned from here on.</summary>
    public static NpyArray Open(Stream stream, string name, string file)
    {
        var magic = new byte[8];
        ReadExactly(stream, magic, file, name);
        if (magic[0] != 0x93 || Encoding.ASCII.GetString(magic, 1, 5) != "NUMPY" || magic[6] is < 1 or > 3)
        {
            throw Bad(file, name, "is not a NumPy .npy array (no \\x93NUMPY header)");
        }

        var lengthBytes = new byte[magic[6] == 1 ? 2 : 4];
        ReadExactly(stream, lengthBytes, file, name);
        var headerLength = magic[6] == 1 ? BitConverter.ToUInt16(lengthBytes) : (int)BitConverter.ToUInt32(lengthBytes);
        if (headerLength is <= 0 or > 1 << 20)
        {
            throw Bad(file, name, $"has an implausible header length {headerLength}");
        }

        var header = new byte[headerLength];
        ReadExactly(stream, header, file, name);
        var text = Encoding.Latin1.GetString(header);
        var descr = DescrPattern().Match(text);
        var order = FortranPattern().Match(text);
        var shape = ShapePattern().Match(text);
        if (!descr.Success || !order.Success || !shape.Success)
        {
            throw Bad(file, name, $"has a header NumPy did not write: {text.Trim()}");
        }

        if (order.Groups[1].Value == "True")
        {
            throw Bad(file, name, "is stored in Fortran order; save it with numpy.ascontiguousarray first");
        }

        var dims = shape.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => long.Parse(d, CultureInfo.InvariantCulture)).ToArray();
        return new NpyArray(stream, name, file, ParseDescr(descr.Groups[1].Value, file, name), dims);
    }

    /// <summary>Reads the next <paramref name="rows"/> rows as a tensor named <paramref name="tensorName"/>.</summary>
    public Tensor ReadRows(int rows, string tensorName)
    {
        if (Shape.Count == 0)
        {
            var scalar = new byte[Type.RawByteCount(1)];
            ReadExactly(stream, scalar, file, name);
            rowsRead = 1;
            return Tensor.FromRawData(tensorName, Type, [], scalar);
        }

        var take = (int)Math.Min(rows, Rows - rowsRead);
        var bytes = new byte[checked(take * RowBytes)];
        ReadExactly(stream, bytes, file, name);
        rowsRead += take;
        return Tensor.FromRawData(tensorName, Type, [take, .. Shape.Skip(1)], bytes);
    }

    /// <inheritdoc />
    public void Dispose() => stream.Dispose();

    private static DataType ParseDescr(string descr, string file, string name)
    {
        if (descr.StartsWith('>') && descr[1..] is not ("i1" or "u1" or "b1"))
        {
            throw Bad(file, name, $"is big-endian ({descr}); only little-endian arrays are read");
        }

        return descr.TrimStart('<', '|', '=', '>') switch
        {
            "f4" => DataType.Float,
            "f8" => DataType.Double,
            "f2" => DataType.Float16,
            "i8" => DataType.Int64,
            "i4" => DataType.Int32,
            "i2" => DataType.Int16,
            "i1" => DataType.Int8,
            "u8" => DataType.UInt64,
            "u4" => DataType.UInt32,
            "u2" => DataType.UInt16,
            "u1" => DataType.UInt8,
            "b1" => DataType.Bool,
            _ => throw Bad(file, name, $"has dtype '{descr}', which ONNX models do not take"),
        };
    }

    private static void ReadExactly(Stream stream, byte[] buffer, string file, string name)
    {
        try
        {
            stream.ReadExactly(buffer);
        }
        catch (EndOfStreamException)
        {
            throw Bad(file, name, "ends before its data does");
        }
    }

    private static ModelShrinkException Bad(string file, string name, string problem) =>
        ModelShrinkException.Error(ErrorCodes.HoldoutUnreadable, $"array '{name}' {problem}", file, "Holdout");

    [GeneratedRegex(@"'descr'\s*:\s*'([^']+)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
