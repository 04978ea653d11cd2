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
            if (!WireField.TryRead(message, ref position, out var field))
            {
                return -1;
            }

            if (field.Type != WireField.LengthType)
            {
                if (!field.Fits(message.Length))
                {
                    return -1;
                }

                continue;
            }

            if (field.Length > uint.MaxValue)
            {
                return baseOffset + field.LengthStart;
            }

            if (!field.Fits(message.Length))
            {
                // Within 32 bits: Google.Protobuf sees this one itself and reports it.
                return -1;
            }

            if (depth > 0 && descriptor?.FindFieldByNumber(field.Number) is { FieldType: FieldType.Message } nested)
            {
                var found = Walk(message[field.Payload], baseOffset + field.PayloadStart, nested.MessageType, depth - 1);
                if (found >= 0)
                {
                    return found;
                }
            }
        }

        return -1;
    }
}
