namespace ModelShrink.Onnx.Tensors;

/// <summary>ONNX tensor element types; values are TensorProto.DataType's wire values.</summary>
public enum DataType
{
    Undefined = 0,
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    UInt16 = 4,
    Int16 = 5,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
    Float16 = 10,
    Double = 11,
    UInt32 = 12,
    UInt64 = 13,
    Complex64 = 14,
    Complex128 = 15,
    BFloat16 = 16,
    Float8E4M3FN = 17,
    Float8E4M3FNUZ = 18,
    Float8E5M2 = 19,
    Float8E5M2FNUZ = 20,
    UInt4 = 21,
    Int4 = 22,
    Float4E2M1 = 23,
    Float8E8M0 = 24,
    UInt2 = 25,
    Int2 = 26,
}

/// <summary>Which repeated field of TensorProto holds a type's values when raw_data is not used.</summary>
public enum TypedField
{
    None,
    FloatData,
    Int32Data,
    StringData,
    Int64Data,
    DoubleData,
    UInt64Data,
}

/// <summary>Facts about each <see cref="DataType"/>: element width, storage field, display name.</summary>
public static class DataTypes
{
    /// <summary>Bits per element in raw_data (4 for the packed int4 family, 0 for strings and unknown types).</summary>
    public static int BitWidth(this DataType type) => type switch
    {
        DataType.Float or DataType.Int32 or DataType.UInt32 => 32,
        DataType.Double or DataType.Int64 or DataType.UInt64 or DataType.Complex64 => 64,
        DataType.Complex128 => 128,
        DataType.Float16 or DataType.BFloat16 or DataType.Int16 or DataType.UInt16 => 16,
        DataType.Int8 or DataType.UInt8 or DataType.Bool or DataType.Float8E4M3FN or DataType.Float8E4M3FNUZ
            or DataType.Float8E5M2 or DataType.Float8E5M2FNUZ or DataType.Float8E8M0 => 8,
        DataType.Int4 or DataType.UInt4 or DataType.Float4E2M1 => 4,
        DataType.Int2 or DataType.UInt2 => 2,
        _ => 0,
    };

    /// <summary>Whether <paramref name="value"/> names a type this library knows.</summary>
    public static bool IsKnown(int value) => value is >= 1 and <= 26;

    /// <summary>Whether values are floating point (any width).</summary>
    public static bool IsFloatingPoint(this DataType type) => type is DataType.Float or DataType.Double
        or DataType.Float16 or DataType.BFloat16 or DataType.Float8E4M3FN or DataType.Float8E4M3FNUZ
        or DataType.Float8E5M2 or DataType.Float8E5M2FNUZ or DataType.Float8E8M0 or DataType.Float4E2M1;

    /// <summary>Bytes that <paramref name="elements"/> values occupy in raw_data (packed types round up).</summary>
    public static long RawByteCount(this DataType type, long elements)
    {
        var bits = type.BitWidth();
        return bits == 0 ? 0 : (elements * bits + 7) / 8;
    }

    /// <summary>The repeated field that holds this type's values in the non-raw encoding (onnx.proto comments).</summary>
    public static TypedField TypedField(this DataType type) => type switch
    {
        DataType.Float or DataType.Complex64 => Tensors.TypedField.FloatData,
        DataType.Double or DataType.Complex128 => Tensors.TypedField.DoubleData,
        DataType.Int64 => Tensors.TypedField.Int64Data,
        DataType.UInt32 or DataType.UInt64 => Tensors.TypedField.UInt64Data,
        DataType.String => Tensors.TypedField.StringData,
        DataType.Undefined => Tensors.TypedField.None,
        _ => Tensors.TypedField.Int32Data,
    };

    /// <summary>The lower-case name ONNX tools print (float32, int8, ...).</summary>
    public static string DisplayName(this DataType type) => type switch
    {
        DataType.Float => "float32",
        DataType.Double => "float64",
        DataType.Float16 => "float16",
        DataType.BFloat16 => "bfloat16",
        DataType.Bool => "bool",
        DataType.String => "string",
        _ => type.ToString().ToLowerInvariant(),
    };
}
