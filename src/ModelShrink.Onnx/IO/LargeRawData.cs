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
        if (graphField.Type != WireField.LengthType || Fields(file[graphField.Payload]) is not { } graphFields)
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
            if (field.Number != GraphProto.InitializerFieldNumber || field.Type != WireField.LengthType)
            {
                graph.Write(bytes);
                continue;
            }

            var tensor = graphPayload[field.Payload];
            var raw = Fields(tensor)?.Where(f => f.Number == TensorProto.RawDataFieldNumber).ToList();
            if (raw is null || raw.Any(f => f.Type != WireField.LengthType))
            {
                return null;
            }

            if (raw.Count == 1 && raw[0].Payload.GetOffsetAndLength(tensor.Length) is var (rawStart, rawLength) && rawLength >= minBytes)
            {
                var (skipStart, skipLength) = raw[0].Whole.GetOffsetAndLength(tensor.Length);
                var payloadStart = graphField.PayloadStart + field.PayloadStart;
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

    // The fields of one message, or null at anything this split does not handle (what does not parse, or a field 0).
    private static List<WireField>? Fields(ReadOnlySpan<byte> message)
    {
        var fields = new List<WireField>();
        var position = 0;
        while (position < message.Length)
        {
            if (!WireField.TryRead(message, ref position, out var field) || field.Number == 0 || !field.Fits(message.Length))
            {
                return null;
            }

            fields.Add(field);
        }

        return fields;
    }

    private static void WriteVarint(ArrayBufferWriter<byte> writer, ulong value)
    {
        Span<byte> buffer = stackalloc byte[10];
        writer.Write(buffer[..Varint.Write(buffer, value)]);
    }
}
