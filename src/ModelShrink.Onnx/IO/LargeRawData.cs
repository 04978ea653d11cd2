using System.Buffers;
using ModelShrink.Onnx.Protobuf;

namespace ModelShrink.Onnx.IO;

/// <summary>
/// Splits a model file's large inline weights from the rest before parsing. Google.Protobuf copies
/// every bytes field it parses into a fresh array: for a 400 MB model, 400 MB of new pages to fault in
/// (0.2 s of a 1 s int4 run on 2 cores) holding bytes that already lie in the mapped file. Here the
/// raw_data of each large initializer of the main graph is cut out of the message (the lengths of its
/// tensor and of the graph re-encoded), the small rest is parsed, and the cut bytes are attached to
/// their tensors as views of the file. Anything but the plain layout (one graph field, one raw_data per
/// tensor, no groups, lengths that fit) returns null and the whole file is parsed as before, so its
/// errors are reported the usual way.
/// </summary>
internal static class LargeRawData
{
    private const int VarintWire = 0;
    private const int Fixed64Wire = 1;
    private const int LengthWire = 2;
    private const int Fixed32Wire = 5;

    /// <summary>A cut: the <see cref="Index"/>th initializer of the main graph has its raw_data at <see cref="Offset"/> in the file.</summary>
    public readonly record struct Cut(int Index, long Offset, int Length);

    /// <summary>
    /// The file without the raw_data of main-graph initializers of at least <paramref name="minBytes"/>
    /// bytes, and where those bytes lie; null when there is none or the layout is not the plain one.
    /// </summary>
    public static (byte[] Remainder, List<Cut> Cuts)? Split(ReadOnlySpan<byte> file, int minBytes)
    {
        if (Fields(file) is not { } top || top.Count(f => f.Number == ModelProto.GraphFieldNumber) != 1)
        {
            return null;
        }

        var graphField = top.Single(f => f.Number == ModelProto.GraphFieldNumber);
        if (graphField.Wire != LengthWire || Fields(file[graphField.Payload]) is not { } graphFields)
        {
            return null;
        }

        var cuts = new List<Cut>();
        var graph = new ArrayBufferWriter<byte>();
        var graphPayload = file[graphField.Payload];
        var index = 0;
        foreach (var field in graphFields)
        {
            var bytes = graphPayload[field.Whole];
            if (field.Number != GraphProto.InitializerFieldNumber || field.Wire != LengthWire)
            {
                graph.Write(bytes);
                continue;
            }

            var tensor = graphPayload[field.Payload];
            var raw = Fields(tensor)?.Where(f => f.Number == TensorProto.RawDataFieldNumber).ToList();
            if (raw is null || raw.Any(f => f.Wire != LengthWire))
            {
                return null;
            }

            if (raw.Count == 1 && raw[0].Payload.GetOffsetAndLength(tensor.Length) is var (rawStart, rawLength) && rawLength >= minBytes)
            {
                var (skipStart, skipLength) = raw[0].Whole.GetOffsetAndLength(tensor.Length);
                var payloadStart = graphField.Payload.Start.Value + field.Payload.Start.Value;
                cuts.Add(new Cut(index, payloadStart + rawStart, rawLength));
                graph.Write(bytes[..field.TagLength]);
                WriteVarint(graph, (ulong)(tensor.Length - skipLength));
                graph.Write(tensor[..skipStart]);
                graph.Write(tensor[(skipStart + skipLength)..]);
            }
            else
            {
                graph.Write(bytes);
            }

            index++;
        }

        if (cuts.Count == 0)
        {
            return null;
        }

        var rest = new ArrayBufferWriter<byte>();
        var graphTag = file[graphField.Whole][..graphField.TagLength];
        rest.Write(file[..graphField.Whole.Start.Value]);
        rest.Write(graphTag);
        WriteVarint(rest, (ulong)graph.WrittenCount);
        rest.Write(graph.WrittenSpan);
        rest.Write(file[graphField.Whole.End.Value..]);
        return (rest.WrittenSpan.ToArray(), cuts);
    }

    // A field: its number and wire type, all its bytes, the bytes of its key, and its value (a length-delimited one's without the length).
    private readonly record struct Field(int Number, int Wire, Range Whole, int TagLength, Range Payload);

    // The fields of one message, or null at anything this split does not handle.
    private static List<Field>? Fields(ReadOnlySpan<byte> message)
    {
        var fields = new List<Field>();
        var position = 0;
        while (position < message.Length)
        {
            var start = position;
            if (!Varint.TryRead(message, ref position, out var key) || key >> 3 is 0 or > int.MaxValue)
            {
                return null;
            }

            var wire = (int)(key & 7);
            var tagLength = position - start;
            var payloadStart = position;
            switch (wire)
            {
                case VarintWire:
                    if (!Varint.TryRead(message, ref position, out _))
                    {
                        return null;
                    }

                    break;
                case Fixed64Wire:
                    position += 8;
                    break;
                case Fixed32Wire:
                    position += 4;
                    break;
                case LengthWire:
                    if (!Varint.TryRead(message, ref position, out var length) || length > (ulong)(message.Length - position))
                    {
                        return null;
                    }

                    payloadStart = position;
                    position += (int)length;
                    break;
                default:
                    return null;
            }

            if (position > message.Length)
            {
                return null;
            }

            fields.Add(new Field((int)(key >> 3), wire, start..position, tagLength, payloadStart..position));
        }

        return fields;
    }

    private static void WriteVarint(ArrayBufferWriter<byte> writer, ulong value)
    {
        Span<byte> buffer = stackalloc byte[10];
        writer.Write(buffer[..Varint.Write(buffer, value)]);
    }
}
