using System.Runtime.InteropServices;
using System.Text;
using Google.Protobuf;
using ModelShrink.Onnx.Protobuf;

namespace ModelShrink.Onnx.Tensors;

/// <summary>
/// A constant tensor: name, element type, shape and data. The data stays where it was found (a
/// slice of the parsed file, typed proto fields, or an external file) until someone asks for the
/// numbers, and a tensor loaded from a model and never replaced is written back from its original
/// proto, so untouched weights round-trip bit for bit.
/// </summary>
public sealed class Tensor
{
    private readonly ReadOnlyMemory<byte> raw;
    private readonly IReadOnlyList<ByteString>? strings;

    private Tensor(string name, DataType dataType, long[] dims, ReadOnlyMemory<byte> raw, IReadOnlyList<ByteString>? strings,
        ExternalDataReference? external, TensorProto? source)
    {
        Name = name;
        DataType = dataType;
        Dims = dims;
        this.raw = raw;
        this.strings = strings;
        External = external;
        Source = source;
    }

    /// <summary>The tensor's name (the initializer or value it defines).</summary>
    public string Name { get; set; }

    /// <summary>The element type.</summary>
    public DataType DataType { get; }

    /// <summary>The shape; empty for a scalar.</summary>
    public IReadOnlyList<long> Dims { get; }

    /// <summary>Where the data lives on disk when it is not inline, else null.</summary>
    public ExternalDataReference? External { get; }

    /// <summary>The proto this tensor was read from, reused on save so untouched fields survive.</summary>
    internal TensorProto? Source { get; }

    /// <summary>The number of elements (1 for a scalar).</summary>
    public long ElementCount
    {
        get
        {
            long count = 1;
            foreach (var dim in Dims)
            {
                count *= dim;
            }

            return count;
        }
    }

    /// <summary>Bytes of the data in ONNX's raw little-endian form (packed for 4-bit types; UTF-8 total for strings).</summary>
    public long ByteCount => DataType == DataType.String
        ? StringBytes().Sum(s => (long)s.Length)
        : DataType.RawByteCount(ElementCount);

    /// <summary>
    /// The data in ONNX's raw_data form: little-endian, 4-bit types packed. Inline data is returned
    /// without a copy; typed-field data is converted; external data is viewed in its mapped file.
    /// </summary>
    public ReadOnlyMemory<byte> GetRawData()
    {
        if (DataType == DataType.String)
        {
            throw new InvalidOperationException($"tensor '{Name}' holds strings; use {nameof(ToStringArray)}");
        }

        return External is not null ? External.Data() : raw;
    }

    /// <summary>
    /// Copies the elements out as <typeparamref name="T"/>, which must be the type's CLR element type
    /// (float, double, Half, BFloat16, sbyte, byte, short, ushort, int, uint, long, ulong, bool).
    /// Int4 and UInt4 unpack to sbyte and byte; float8 types read as their raw byte.
    /// </summary>
    public T[] ToArray<T>() where T : unmanaged
    {
        if (!ElementTypes.Matches<T>(DataType))
        {
            throw new InvalidOperationException($"tensor '{Name}' is {DataType.DisplayName()}, not {typeof(T).Name}");
        }

        var bytes = GetRawData().Span;
        var result = new T[checked((int)ElementCount)];
        switch (DataType)
        {
            case DataType.Int4:
                PackedNibbles.UnpackInt4(bytes, MemoryMarshal.Cast<T, sbyte>(result.AsSpan()));
                break;
            case DataType.UInt4:
                PackedNibbles.UnpackUInt4(bytes, MemoryMarshal.Cast<T, byte>(result.AsSpan()));
                break;
            case DataType.Bool:
                var flags = MemoryMarshal.Cast<T, byte>(result.AsSpan());
                for (var i = 0; i < flags.Length; i++)
                {
                    flags[i] = bytes[i] == 0 ? (byte)0 : (byte)1;
                }

                break;
            default:
                bytes.CopyTo(MemoryMarshal.AsBytes(result.AsSpan()));
                break;
        }

        return result;
    }

    /// <summary>Converts every element of a real-valued numeric tensor to float32.</summary>
    public float[] ToFloatArray() => DataType switch
    {
        DataType.Float => ToArray<float>(),
        DataType.Double => Array.ConvertAll(ToArray<double>(), v => (float)v),
        DataType.Float16 => Array.ConvertAll(ToArray<Half>(), v => (float)v),
        DataType.BFloat16 => Array.ConvertAll(ToArray<BFloat16>(), v => (float)v),
        DataType.Int8 or DataType.Int4 => Array.ConvertAll(ToArray<sbyte>(), v => (float)v),
        DataType.UInt8 or DataType.UInt4 => Array.ConvertAll(ToArray<byte>(), v => (float)v),
        DataType.Int16 => Array.ConvertAll(ToArray<short>(), v => (float)v),
        DataType.UInt16 => Array.ConvertAll(ToArray<ushort>(), v => (float)v),
        DataType.Int32 => Array.ConvertAll(ToArray<int>(), v => (float)v),
        DataType.UInt32 => Array.ConvertAll(ToArray<uint>(), v => (float)v),
        DataType.Int64 => Array.ConvertAll(ToArray<long>(), v => (float)v),
        DataType.UInt64 => Array.ConvertAll(ToArray<ulong>(), v => (float)v),
        DataType.Bool => Array.ConvertAll(ToArray<bool>(), v => v ? 1f : 0f),
        _ => throw new InvalidOperationException($"tensor '{Name}' of type {DataType.DisplayName()} has no float32 view"),
    };

    /// <summary>The elements of a string tensor, decoded as UTF-8.</summary>
    public string[] ToStringArray() => StringBytes().Select(s => s.ToStringUtf8()).ToArray();

    /// <summary>The elements of a string tensor as bytes (ONNX strings need not be UTF-8).</summary>
    public IReadOnlyList<ByteString> StringBytes() => DataType == DataType.String
        ? strings ?? Array.Empty<ByteString>()
        : throw new InvalidOperationException($"tensor '{Name}' is not a string tensor");

    /// <summary>Creates a tensor from values of the type's CLR element type (see <see cref="ToArray{T}"/>).</summary>
    public static Tensor FromArray<T>(string name, ReadOnlySpan<long> dims, ReadOnlySpan<T> values, DataType? dataType = null) where T : unmanaged
    {
        var type = dataType ?? ElementTypes.DefaultDataType<T>();
        if (!ElementTypes.Matches<T>(type))
        {
            throw new ArgumentException($"{typeof(T).Name} values cannot make a {type.DisplayName()} tensor");
        }

        CheckCount(name, dims, values.Length);
        byte[] bytes = type switch
        {
            DataType.Int4 => PackedNibbles.PackInt4(MemoryMarshal.Cast<T, sbyte>(values)),
            DataType.UInt4 => PackedNibbles.PackUInt4(MemoryMarshal.Cast<T, byte>(values)),
            _ => MemoryMarshal.AsBytes(values).ToArray(),
        };
        return new Tensor(name, type, dims.ToArray(), bytes, null, null, null);
    }

    /// <summary>Creates a tensor over bytes already in ONNX's raw_data form (not copied).</summary>
    public static Tensor FromRawData(string name, DataType dataType, ReadOnlySpan<long> dims, ReadOnlyMemory<byte> rawData)
    {
        var expected = dataType.RawByteCount(Product(dims));
        if (dataType == DataType.String || dataType.BitWidth() == 0 || rawData.Length != expected)
        {
            throw new ArgumentException($"tensor '{name}': {rawData.Length} bytes do not make a {dataType.DisplayName()} tensor of shape [{string.Join(",", dims.ToArray())}] ({expected} bytes)");
        }

        return new Tensor(name, dataType, dims.ToArray(), rawData, null, null, null);
    }

    /// <summary>Creates a string tensor (UTF-8).</summary>
    public static Tensor FromStrings(string name, ReadOnlySpan<long> dims, IEnumerable<string> values)
    {
        var list = values.Select(ByteString.CopyFromUtf8).ToArray();
        CheckCount(name, dims, list.Length);
        return new Tensor(name, DataType.String, dims.ToArray(), default, list, null, null);
    }

    /// <summary>A copy of this tensor under another name, sharing the data.</summary>
    public Tensor WithName(string name) => new(name, DataType, Dims.ToArray(), raw, strings, External, null);

    /// <summary>Wraps a parsed proto; the data is validated against the shape but not copied.</summary>
    internal static Tensor FromProto(TensorProto proto, ExternalDataReference? external, string file)
    {
        var type = (DataType)proto.DataType;
        var dims = proto.Dims.ToArray();
        var name = proto.Name;
        if (dims.Any(d => d < 0))
        {
            throw TensorProtoCodec.Invalid(file, name, "has a negative dimension");
        }

        if (external is not null)
        {
            return new Tensor(name, type, dims, default, null, external, proto);
        }

        if (type == DataType.String)
        {
            CheckCount(file, name, dims, proto.StringData.Count);
            return new Tensor(name, type, dims, default, proto.StringData, null, proto);
        }

        var bytes = TensorProtoCodec.ReadInline(proto, type, Product(dims), file);
        return new Tensor(name, type, dims, bytes, null, null, proto);
    }

    internal static long Product(ReadOnlySpan<long> dims)
    {
        long count = 1;
        foreach (var dim in dims)
        {
            count = checked(count * dim);
        }

        return count;
    }

    private static void CheckCount(string name, ReadOnlySpan<long> dims, long count)
    {
        if (Product(dims) != count)
        {
            throw new ArgumentException($"tensor '{name}': {count} values do not fill shape [{string.Join(",", dims.ToArray())}]");
        }
    }

    private static void CheckCount(string file, string name, long[] dims, long count)
    {
        if (Product(dims) != count)
        {
            throw TensorProtoCodec.Invalid(file, name, $"holds {count} values but its shape [{string.Join(",", dims)}] needs {Product(dims)}");
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name}: {DataType.DisplayName()}[{string.Join(",", Dims)}]";

    internal static string Utf8(ByteString bytes) => Encoding.UTF8.GetString(bytes.Span);
}
