namespace ModelShrink.Onnx.IO;

/// <summary>
/// One field of a serialized protobuf message, read straight from its bytes: what the schema-free walks over
/// a model file (<see cref="WireLengths"/>, <see cref="LargeRawData"/>) need to know of it. Offsets are
/// relative to the message. A length-delimited field's length is read as its full 64-bit value and may
/// claim more than the message holds (<see cref="Fits"/>): telling that apart is what the callers are for.
/// </summary>
internal readonly record struct WireField(int Number, int Type, int Start, int TagLength, ulong Length, int PayloadStart)
{
    public const int VarintType = 0;
    public const int Fixed64Type = 1;
    public const int LengthType = 2;
    public const int Fixed32Type = 5;

    /// <summary>Where a length-delimited field's length prefix begins (right after its key, which begins at <see cref="Start"/>).</summary>
    public int LengthStart => Start + TagLength;

    /// <summary>Whether the field ends inside a message of <paramref name="messageLength"/> bytes.</summary>
    public bool Fits(int messageLength) => Length <= (ulong)(messageLength - PayloadStart);

    /// <summary>The field's bytes, key included (only for a field that <see cref="Fits"/>).</summary>
    public Range Whole => Start..(PayloadStart + (int)Length);

    /// <summary>The field's value; a length-delimited one's without its length (only for a field that <see cref="Fits"/>).</summary>
    public Range Payload => PayloadStart..(PayloadStart + (int)Length);

    /// <summary>
    /// Reads the field at <paramref name="position"/> and moves past it; false on a bad varint, a field
    /// number past 32 bits, a group or an unknown wire type. A length-delimited field that does not fit is returned with
    /// <paramref name="position"/> at the end of its length prefix.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> message, ref int position, out WireField field)
    {
        field = default;
        var start = position;
        if (!Varint.TryRead(message, ref position, out var key) || key >> 3 > int.MaxValue)
        {
            return false;
        }

        var type = (int)(key & 7);
        var tagLength = position - start;
        ulong length;
        switch (type)
        {
            case VarintType:
                var valueStart = position;
                if (!Varint.TryRead(message, ref position, out _))
                {
                    return false;
                }

                length = (ulong)(position - valueStart);
                position = valueStart;
                break;
            case Fixed64Type:
                length = 8;
                break;
            case Fixed32Type:
                length = 4;
                break;
            case LengthType:
                if (!Varint.TryRead(message, ref position, out length))
                {
                    return false;
                }

                break;
            default:
                return false;
        }

        field = new WireField((int)(key >> 3), type, start, tagLength, length, position);
        if (field.Fits(message.Length))
        {
            position += (int)length;
        }

        return true;
    }
}
