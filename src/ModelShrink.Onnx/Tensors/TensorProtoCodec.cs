using System.Runtime.InteropServices;
using Google.Protobuf;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.Protobuf;

namespace ModelShrink.Onnx.Tensors;

/// <summary>How a tensor's numbers are written into a TensorProto.</summary>
public enum TensorEncoding
{
    /// <summary>raw_data, little-endian: the compact form every tool writes.</summary>
    Raw,

    /// <summary>The typed repeated fields (float_data, int32_data, ...), as some exporters write.</summary>
    Typed,
}

/// <summary>
/// Converts between TensorProto's two inline encodings (raw_data and the typed repeated fields)
/// and the raw little-endian bytes the IR works on, following the field rules in onnx.proto.
/// </summary>
public static class TensorProtoCodec
{
    /// <summary>Reads inline data as raw bytes, checking that its size matches the shape.</summary>
    internal static ReadOnlyMemory<byte> ReadInline(TensorProto proto, DataType type, long elements, string file)
    {
        if (!DataTypes.IsKnown(proto.DataType) || type.BitWidth() == 0)
        {
            throw ModelShrinkException.Error(ErrorCodes.UnsupportedDataType,
                $"tensor '{proto.Name}' has unknown data type {proto.DataType}", file);
        }

        var expected = type.RawByteCount(elements);
        if (proto.HasRawData)
        {
            if (proto.RawData.Length != expected)
            {
                throw Invalid(file, proto.Name, $"has {proto.RawData.Length} bytes of raw_data but its shape and type need {expected}");
            }

            return proto.RawData.Memory;
        }

        var bytes = FromTypedFields(proto, type, elements);
        if (bytes.Length != expected)
        {
            throw Invalid(file, proto.Name, $"holds {bytes.Length} bytes of typed data but its shape and type need {expected}");
        }

        return bytes;
    }

    /// <summary>Writes a tensor's inline data into <paramref name="proto"/> in the chosen encoding.</summary>
    public static void WriteInline(Tensor tensor, TensorProto proto, TensorEncoding encoding)
    {
        if (tensor.DataType == DataType.String)
        {
            proto.StringData.AddRange(tensor.StringBytes());
            return;
        }

        var raw = tensor.GetRawData();
        if (encoding == TensorEncoding.Raw)
        {
            // The tensor's bytes are immutable once created, so the proto may share them.
            proto.RawData = UnsafeByteOperations.UnsafeWrap(raw);
            return;
        }

        WriteTypedFields(raw.Span, tensor.DataType, proto);
    }

    private static byte[] FromTypedFields(TensorProto proto, DataType type, long elements)
    {
        switch (type.TypedField())
        {
            case TypedField.FloatData:
                return MemoryMarshal.AsBytes(proto.FloatData.ToArray().AsSpan()).ToArray();
            case TypedField.DoubleData:
                return MemoryMarshal.AsBytes(proto.DoubleData.ToArray().AsSpan()).ToArray();
            case TypedField.Int64Data:
                return MemoryMarshal.AsBytes(proto.Int64Data.ToArray().AsSpan()).ToArray();
            case TypedField.UInt64Data when type == DataType.UInt32:
                return MemoryMarshal.AsBytes(proto.Uint64Data.Select(v => (uint)v).ToArray().AsSpan()).ToArray();
            case TypedField.UInt64Data:
                return MemoryMarshal.AsBytes(proto.Uint64Data.ToArray().AsSpan()).ToArray();
            case TypedField.Int32Data:
                return FromInt32Data(proto.Int32Data, type.BitWidth());
            default:
                return [];
        }
    }

    // int32_data holds one element per entry, except the 4-bit types, where each entry is one
    // packed byte of two elements (onnx numpy_helper.to_array does the same).
    private static byte[] FromInt32Data(IList<int> values, int bits)
    {
        switch (bits)
        {
            case 32:
                return MemoryMarshal.AsBytes(values.ToArray().AsSpan()).ToArray();
            case 16:
                return MemoryMarshal.AsBytes(values.Select(v => (ushort)v).ToArray().AsSpan()).ToArray();
            default:
                var bytes = new byte[values.Count];
                for (var i = 0; i < bytes.Length; i++)
                {
                    bytes[i] = (byte)values[i];
                }

                return bytes;
        }
    }

    private static void WriteTypedFields(ReadOnlySpan<byte> raw, DataType type, TensorProto proto)
    {
        switch (type.TypedField())
        {
            case TypedField.FloatData:
                proto.FloatData.AddRange(MemoryMarshal.Cast<byte, float>(raw).ToArray());
                break;
            case TypedField.DoubleData:
                proto.DoubleData.AddRange(MemoryMarshal.Cast<byte, double>(raw).ToArray());
                break;
            case TypedField.Int64Data:
                proto.Int64Data.AddRange(MemoryMarshal.Cast<byte, long>(raw).ToArray());
                break;
            case TypedField.UInt64Data when type == DataType.UInt32:
                foreach (var v in MemoryMarshal.Cast<byte, uint>(raw))
                {
                    proto.Uint64Data.Add(v);
                }

                break;
            case TypedField.UInt64Data:
                proto.Uint64Data.AddRange(MemoryMarshal.Cast<byte, ulong>(raw).ToArray());
                break;
            case TypedField.Int32Data:
                WriteInt32Data(raw, type, proto);
                break;
            default:
                throw new InvalidOperationException($"{type.DisplayName()} has no typed field");
        }
    }

    private static void WriteInt32Data(ReadOnlySpan<byte> raw, DataType type, TensorProto proto)
    {
        switch (type.BitWidth())
        {
            case 32:
                proto.Int32Data.AddRange(MemoryMarshal.Cast<byte, int>(raw).ToArray());
                break;
            case 16 when type == DataType.Int16:
                foreach (var v in MemoryMarshal.Cast<byte, short>(raw))
                {
                    proto.Int32Data.Add(v);
                }

                break;
            case 16:
                foreach (var v in MemoryMarshal.Cast<byte, ushort>(raw))
                {
                    proto.Int32Data.Add(v);
                }

                break;
            default:
                foreach (var v in raw)
                {
                    proto.Int32Data.Add(type == DataType.Int8 ? (sbyte)v : v);
                }

                break;
        }
    }

    internal static ModelShrinkException Invalid(string file, string tensor, string problem) =>
        ModelShrinkException.Error(ErrorCodes.InvalidTensor, $"tensor '{tensor}' {problem}", file);
}
