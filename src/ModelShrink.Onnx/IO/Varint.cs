namespace ModelShrink.Onnx.IO;

/// <summary>Protobuf's base-128 varints, read as their full 64-bit value (Google.Protobuf's own reader drops bits past 32 in lengths).</summary>
internal static class Varint
{
    /// <summary>Reads a varint of up to 10 bytes at <paramref name="position"/>, moving past it; false when it is cut off.</summary>
    public static bool TryRead(ReadOnlySpan<byte> bytes, ref int position, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64 && position < bytes.Length; shift += 7)
        {
            var b = bytes[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Writes <paramref name="value"/> (at most 10 bytes) into <paramref name="buffer"/>; returns the bytes written.</summary>
    public static int Write(Span<byte> buffer, ulong value)
    {
        var count = 0;
        while (value >= 0x80)
        {
            buffer[count++] = (byte)(value | 0x80);
            value >>= 7;
        }

        buffer[count++] = (byte)value;
        return count;
    }
}
