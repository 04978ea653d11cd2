using Google.Protobuf.Reflection;

namespace ModelShrink.Onnx.IO;

/// <summary>
/// Walks a serialized message's wire format, following the schema into nested messages, and finds
/// the first length prefix that does not fit its enclosing message. Google.Protobuf reads a length
/// as a 32-bit varint and drops the bits of a fifth byte beyond 32, so a length of 4 GB reads as 0
/// and 4 GB + 5 as 5: the parse then goes on through the bytes that length claimed, as if they were
/// fields. This check reads the whole 64-bit value; the reader runs it on every model file.
/// </summary>
internal static class WireLengths
{
    private const int VarintWire = 0;
    private const int Fixed64Wire = 1;
    private const int LengthWire = 2;
    private const int Fixed32Wire = 5;

    /// <summary>
    /// The byte offset of the first length-delimited field whose length does not fit in 32 bits, or
    /// -1 when there is none. What Google.Protobuf rejects on its own (a 32-bit length past the end,
    /// groups, unknown wire types, bad varints) ends the walk: the parse reports it.
    /// </summary>
    public static long FindOverflow(ReadOnlySpan<byte> bytes, MessageDescriptor descriptor, int maxDepth) =>
        Walk(bytes, 0, descriptor, maxDepth);

    private static long Walk(ReadOnlySpan<byte> message, long baseOffset, MessageDescriptor? descriptor, int depth)
    {
        var position = 0;
        while (position < message.Length)
        {
            if (!Varint.TryRead(message, ref position, out var key))
            {
                return -1;
            }

            var wireType = (int)(key & 7);
            switch (wireType)
            {
                case VarintWire:
                    if (!Varint.TryRead(message, ref position, out _))
                    {
                        return -1;
                    }

                    break;
                case Fixed64Wire:
                    position += 8;
                    break;
                case Fixed32Wire:
                    position += 4;
                    break;
                case LengthWire:
                    var fieldStart = position;
                    if (!Varint.TryRead(message, ref position, out var length))
                    {
                        return -1;
                    }

                    if (length > uint.MaxValue)
                    {
                        return baseOffset + fieldStart;
                    }

                    if (length > (ulong)(message.Length - position))
                    {
                        // Within 32 bits: Google.Protobuf sees this one itself and reports it.
                        return -1;
                    }

                    var field = descriptor?.FindFieldByNumber((int)(key >> 3));
                    if (depth > 0 && field is { FieldType: FieldType.Message })
                    {
                        var nested = Walk(message.Slice(position, (int)length), baseOffset + position, field.MessageType, depth - 1);
                        if (nested >= 0)
                        {
                            return nested;
                        }
                    }

                    position += (int)length;
                    break;
                default:
                    return -1;
            }
        }

        return -1;
    }
}
