namespace ModelShrink.Onnx.Tensors;

/// <summary>
/// ONNX int4/uint4 packing: two elements per byte, the element with the lower index in the low
/// nibble (ONNX IR spec, "4 bit integer types"). An odd count leaves the last high nibble zero.
/// </summary>
public static class PackedNibbles
{
    /// <summary>Unpacks signed int4 values, sign-extended to sbyte, filling <paramref name="destination"/>.</summary>
    public static void UnpackInt4(ReadOnlySpan<byte> packed, Span<sbyte> destination)
    {
        for (var i = 0; i < destination.Length; i++)
        {
            var nibble = (packed[i >> 1] >> ((i & 1) * 4)) & 0xF;
            destination[i] = (sbyte)((nibble ^ 0x8) - 0x8);
        }
    }

    /// <summary>Unpacks unsigned uint4 values to bytes 0..15, filling <paramref name="destination"/>.</summary>
    public static void UnpackUInt4(ReadOnlySpan<byte> packed, Span<byte> destination)
    {
        for (var i = 0; i < destination.Length; i++)
        {
            destination[i] = (byte)((packed[i >> 1] >> ((i & 1) * 4)) & 0xF);
        }
    }

    /// <summary>Packs int4 values (-8..7) two to a byte.</summary>
    public static byte[] PackInt4(ReadOnlySpan<sbyte> values) => Pack(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values));

    /// <summary>Packs uint4 values (0..15) two to a byte.</summary>
    public static byte[] PackUInt4(ReadOnlySpan<byte> values) => Pack(values);

    private static byte[] Pack(ReadOnlySpan<byte> values)
    {
        var packed = new byte[(values.Length + 1) / 2];
        for (var i = 0; i < values.Length; i++)
        {
            packed[i >> 1] |= (byte)((values[i] & 0xF) << ((i & 1) * 4));
        }

        return packed;
    }
}
