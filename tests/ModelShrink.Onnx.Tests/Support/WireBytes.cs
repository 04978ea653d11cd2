using System.Text;

namespace ModelShrink.Onnx.Tests.Support;

/// <summary>
/// Writes protobuf wire format by hand, for inputs the generated classes cannot (or must not) make:
/// lengths that lie, and nesting deeper than any recursive serializer should be asked to walk.
/// </summary>
internal static class WireBytes
{
    /// <summary>A varint.</summary>
    public static byte[] Varint(ulong value)
    {
        var bytes = new List<byte>(10);
        do
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            bytes.Add(value == 0 ? b : (byte)(b | 0x80));
        }
        while (value != 0);

        return bytes.ToArray();
    }

    /// <summary>A field key: field number and wire type (0 varint, 2 length-delimited).</summary>
    public static byte[] Key(int field, int wireType) => Varint((ulong)((field << 3) | wireType));

    /// <summary>A varint field.</summary>
    public static byte[] VarintField(int field, ulong value) => [.. Key(field, 0), .. Varint(value)];

    /// <summary>The key and length of a length-delimited field, without its payload.</summary>
    public static byte[] LengthPrefix(int field, long length) => [.. Key(field, 2), .. Varint((ulong)length)];

    /// <summary>A length-delimited field holding a UTF-8 string.</summary>
    public static byte[] StringField(int field, string value)
    {
        var utf8 = Encoding.UTF8.GetBytes(value);
        return [.. LengthPrefix(field, utf8.Length), .. utf8];
    }
}
