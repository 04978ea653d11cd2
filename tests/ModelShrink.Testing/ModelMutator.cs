using Google.Protobuf;
using ModelShrink.Onnx.Protobuf;

namespace ModelShrink.Testing;

/// <summary>One mutated model: what it came from, what was done, and its bytes.</summary>
/// <param name="Index">The case number; with the seed it regenerates the same bytes.</param>
/// <param name="Fixture">The fixture mutated.</param>
/// <param name="Mutation">What was done, in words, for a failure message.</param>
/// <param name="Bytes">The mutated file.</param>
public sealed record MutatedModel(int Index, string Fixture, string Mutation, byte[] Bytes);

/// <summary>
/// A seeded generator of hostile model files for fuzz tests: byte flips, truncations, inserted and
/// duplicated chunks, absurd varint and length fields at field boundaries, and structural edits
/// that still parse (op types, attribute types, ir_version, opsets, dims). Case <c>i</c> of a seed
/// is always the same file, so a failure is replayed with <see cref="Case"/>; grow the corpus by
/// raising the count or adding a mutation to <see cref="Mutations"/>.
/// </summary>
public sealed class ModelMutator(int seed, IReadOnlyList<string> fixtures)
{
    private static readonly (string Name, Func<Random, byte[], ModelProto, byte[]> Apply)[] Mutations =
    [
        ("flip bytes", FlipBytes),
        ("truncate", Truncate),
        ("insert random chunk", InsertChunk),
        ("duplicate chunk", DuplicateChunk),
        ("absurd length or varint", AbsurdVarint),
        ("op type", (r, _, p) => Edit(p, r, m => Node(m, r).OpType = Pick(r, ["Conv*\u0012", "", "MatMulNBits", "Gemm", "Loop", "If", "\u001b[31m", "Relu"]))),
        ("attribute type", (r, _, p) => Edit(p, r, m => { if (Node(m, r).Attribute is { Count: > 0 } a) { a[r.Next(a.Count)].Type = (AttributeProto.Types.AttributeType)r.Next(0, 16); } })),
        ("ir_version", (r, _, p) => Edit(p, r, m => m.IrVersion = Pick(r, [0L, 1L, 3L, 99L, 1L << 40, long.MaxValue, -1L]))),
        ("opset", (r, _, p) => Edit(p, r, m => m.OpsetImport[0].Version = Pick(r, [0L, 1L, 6L, 99L, 1L << 40, -5L]))),
        ("initializer dims", (r, _, p) => Edit(p, r, m => { if (m.Graph.Initializer is { Count: > 0 } t) { var d = t[r.Next(t.Count)].Dims; if (d.Count > 0) { d[r.Next(d.Count)] = Pick(r, [0L, 1L, -1L, 3L, 1L << 31, 1L << 40]); } } })),
        ("node input renamed", (r, _, p) => Edit(p, r, m => { var n = Node(m, r); if (n.Input.Count > 0) { n.Input[r.Next(n.Input.Count)] = Pick(r, ["", "ghost", m.Graph.Output[0].Name]); } })),
        ("data type", (r, _, p) => Edit(p, r, m => { if (m.Graph.Initializer is { Count: > 0 } t) { t[r.Next(t.Count)].DataType = r.Next(0, 30); } })),
    ];

    private readonly Dictionary<string, (byte[] Bytes, ModelProto Proto)> sources = new(StringComparer.Ordinal);

    /// <summary>The number of mutation kinds (a count that is a multiple of it covers each kind evenly).</summary>
    public static int MutationCount => Mutations.Length;

    /// <summary>Cases 0 to <paramref name="count"/> - 1.</summary>
    public IEnumerable<MutatedModel> Cases(int count) => Enumerable.Range(0, count).Select(Case);

    /// <summary>Case <paramref name="index"/>: the same bytes for the same seed, fixtures and index.</summary>
    public MutatedModel Case(int index)
    {
        var random = new Random(HashCode.Combine(seed, index));
        var fixture = fixtures[index % fixtures.Count];
        var (name, apply) = Mutations[index / fixtures.Count % Mutations.Length];
        var (bytes, proto) = Source(fixture);
        return new MutatedModel(index, fixture, name, apply(random, bytes, proto));
    }

    private (byte[] Bytes, ModelProto Proto) Source(string fixture)
    {
        if (!sources.TryGetValue(fixture, out var source))
        {
            var bytes = File.ReadAllBytes(Fixtures.Model(fixture));
            source = (bytes, ModelProto.Parser.ParseFrom(bytes));
            sources[fixture] = source;
        }

        return source;
    }

    private static byte[] FlipBytes(Random random, byte[] source, ModelProto proto)
    {
        var bytes = (byte[])source.Clone();
        for (var i = random.Next(1, 9); i > 0; i--)
        {
            bytes[random.Next(bytes.Length)] ^= (byte)random.Next(1, 256);
        }

        return bytes;
    }

    private static byte[] Truncate(Random random, byte[] source, ModelProto proto) => source[..random.Next(source.Length)];

    private static byte[] InsertChunk(Random random, byte[] source, ModelProto proto)
    {
        var chunk = new byte[random.Next(1, 64)];
        random.NextBytes(chunk);
        var at = random.Next(source.Length);
        return [.. source[..at], .. chunk, .. source[at..]];
    }

    private static byte[] DuplicateChunk(Random random, byte[] source, ModelProto proto)
    {
        var start = random.Next(source.Length);
        var chunk = source[start..Math.Min(source.Length, start + random.Next(1, 4096))];
        var at = random.Next(source.Length);
        return [.. source[..at], .. chunk, .. source[at..]];
    }

    // A varint at a field boundary replaced by an absurd value: a length of 2 GB, 4 GB (0 in 32
    // bits), 2^63, or ten 0xFF bytes. Boundaries are found by walking the top-level fields.
    private static byte[] AbsurdVarint(Random random, byte[] source, ModelProto proto)
    {
        var boundaries = TopLevelLengthFields(source);
        var at = boundaries.Count > 0 ? boundaries[random.Next(boundaries.Count)] : random.Next(source.Length);
        var end = at;
        while (end < source.Length && source[end] >= 0x80)
        {
            end++;
        }

        byte[] absurd = Pick(random, new[]
        {
            Varint(0x8000_0000UL), Varint(0x1_0000_0000UL), Varint(0x1_0000_0003UL), Varint(ulong.MaxValue >> 1),
            [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
        });
        return [.. source[..at], .. absurd, .. source[Math.Min(source.Length, end + 1)..]];
    }

    // Offsets of the length varints of the top-level length-delimited fields (graph, opsets, strings).
    private static List<int> TopLevelLengthFields(byte[] bytes)
    {
        var found = new List<int>();
        var position = 0;
        while (position < bytes.Length)
        {
            var key = ReadVarint(bytes, ref position);
            switch (key & 7)
            {
                case 0:
                    ReadVarint(bytes, ref position);
                    break;
                case 2:
                    found.Add(position);
                    position += (int)Math.Min(ReadVarint(bytes, ref position), (ulong)bytes.Length);
                    break;
                default:
                    return found;
            }
        }

        return found;
    }

    private static ulong ReadVarint(byte[] bytes, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; position < bytes.Length && shift < 64; shift += 7)
        {
            var b = bytes[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                break;
            }
        }

        return value;
    }

    private static byte[] Varint(ulong value)
    {
        var bytes = new List<byte>();
        do
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            bytes.Add(value == 0 ? b : (byte)(b | 0x80));
        }
        while (value != 0);
        return bytes.ToArray();
    }

    private static byte[] Edit(ModelProto source, Random random, Action<ModelProto> edit)
    {
        var copy = source.Clone();
        edit(copy);
        return copy.ToByteArray();
    }

    private static NodeProto Node(ModelProto model, Random random) => model.Graph.Node[random.Next(model.Graph.Node.Count)];

    private static T Pick<T>(Random random, IReadOnlyList<T> choices) => choices[random.Next(choices.Count)];
}
