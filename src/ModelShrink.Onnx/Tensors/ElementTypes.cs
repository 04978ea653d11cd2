namespace ModelShrink.Onnx.Tensors;

/// <summary>Maps CLR element types onto ONNX data types for typed access.</summary>
internal static class ElementTypes
{
    public static bool Matches<T>(DataType type) where T : unmanaged => type switch
    {
        DataType.Float => typeof(T) == typeof(float),
        DataType.Double => typeof(T) == typeof(double),
        DataType.Float16 => typeof(T) == typeof(Half),
        DataType.BFloat16 => typeof(T) == typeof(BFloat16),
        DataType.Int8 or DataType.Int4 => typeof(T) == typeof(sbyte),
        DataType.UInt8 or DataType.UInt4 or DataType.Float8E4M3FN or DataType.Float8E4M3FNUZ or DataType.Float8E5M2
            or DataType.Float8E5M2FNUZ or DataType.Float8E8M0 => typeof(T) == typeof(byte),
        DataType.Int16 => typeof(T) == typeof(short),
        DataType.UInt16 => typeof(T) == typeof(ushort),
        DataType.Int32 => typeof(T) == typeof(int),
        DataType.UInt32 => typeof(T) == typeof(uint),
        DataType.Int64 => typeof(T) == typeof(long),
        DataType.UInt64 => typeof(T) == typeof(ulong),
        DataType.Bool => typeof(T) == typeof(bool),
        _ => false,
    };

    public static DataType DefaultDataType<T>() where T : unmanaged
    {
        var t = typeof(T);
        return t == typeof(float) ? DataType.Float
            : t == typeof(double) ? DataType.Double
            : t == typeof(Half) ? DataType.Float16
            : t == typeof(BFloat16) ? DataType.BFloat16
            : t == typeof(sbyte) ? DataType.Int8
            : t == typeof(byte) ? DataType.UInt8
            : t == typeof(short) ? DataType.Int16
            : t == typeof(ushort) ? DataType.UInt16
            : t == typeof(int) ? DataType.Int32
            : t == typeof(uint) ? DataType.UInt32
            : t == typeof(long) ? DataType.Int64
            : t == typeof(ulong) ? DataType.UInt64
            : t == typeof(bool) ? DataType.Bool
            : throw new ArgumentException($"{t.Name} is not an ONNX element type");
    }
}
