using System.Runtime.InteropServices;
using ModelShrink.Onnx.Protobuf;

namespace ModelShrink.Onnx.Tensors;

/// <summary>
/// A sparse tensor in ONNX's COO form (<c>SparseTensorProto</c>): the dense shape, the values that
/// are not zero, and where they sit (linear indices <c>[NNZ]</c> or coordinates <c>[NNZ, rank]</c>).
/// Every other element is zero. The sparse tensor's name is its values' name.
/// </summary>
public sealed class SparseTensor
{
    private SparseTensor(Tensor values, Tensor indices, long[] dims, SparseTensorProto? source)
    {
        Values = values;
        Indices = indices;
        Dims = dims;
        Source = source;
    }

    /// <summary>The name of the value it defines (its values' name).</summary>
    public string Name => Values.Name;

    /// <summary>The element type of the values.</summary>
    public DataType DataType => Values.DataType;

    /// <summary>The dense shape.</summary>
    public IReadOnlyList<long> Dims { get; }

    /// <summary>The stored values, a 1-D tensor of NNZ elements.</summary>
    public Tensor Values { get; }

    /// <summary>The positions of <see cref="Values"/>: linear indices <c>[NNZ]</c> or coordinates <c>[NNZ, rank]</c>.</summary>
    public Tensor Indices { get; }

    /// <summary>The number of stored values.</summary>
    public long StoredCount => Values.ElementCount;

    /// <summary>The number of elements of the dense tensor.</summary>
    public long ElementCount => Tensor.Product(Dims.ToArray());

    /// <summary>Bytes of values and indices in raw form: what the sparse form stores.</summary>
    public long ByteCount => Values.ByteCount + Indices.ByteCount;

    /// <summary>The proto it was read from, written back as it is while the tensor is unchanged.</summary>
    internal SparseTensorProto? Source { get; }

    /// <summary>
    /// The smallest signed index type that can hold every linear index of a tensor of
    /// <paramref name="elementCount"/> elements (int8, int16, int32, int64). ONNX Runtime (1.31)
    /// loads all four; the ONNX checker accepts only int64.
    /// </summary>
    public static DataType NarrowestIndexType(long elementCount) => elementCount switch
    {
        <= 1L << 7 => DataType.Int8,
        <= 1L << 15 => DataType.Int16,
        <= 1L << 31 => DataType.Int32,
        _ => DataType.Int64,
    };

    /// <summary>Bytes a sparse form with <paramref name="stored"/> values would take (values plus linear indices).</summary>
    public static long ByteCountFor(long stored, DataType valueType, DataType indexType) =>
        valueType.RawByteCount(stored) + indexType.RawByteCount(stored);

    /// <summary>
    /// The sparse form of <paramref name="dense"/> under the same name, with linear indices of
    /// <paramref name="indexType"/>: every element whose bytes are not all zero is stored (so -0.0
    /// stays), which makes the conversion exact.
    /// </summary>
    public static SparseTensor FromDense(Tensor dense, DataType indexType)
    {
        var size = ElementSize(dense.DataType)
            ?? throw new ArgumentException($"tensor '{dense.Name}' of type {dense.DataType.DisplayName()} has no whole-byte elements to store sparsely");
        if (!IsIndexType(indexType) || !Fits(indexType, dense.ElementCount))
        {
            throw new ArgumentException($"{indexType.DisplayName()} indices cannot address the {dense.ElementCount} elements of '{dense.Name}'");
        }

        var raw = dense.GetRawData().Span;
        var stored = StoredCountOf(dense);
        var values = new byte[checked(stored * size)];
        var indexBytes = new byte[checked(stored * (indexType.BitWidth() / 8))];
        switch (size)
        {
            case 1:
                Gather(raw, values, indexBytes, indexType);
                break;
            case 2:
                Gather<ushort>(MemoryMarshal.Cast<byte, ushort>(raw), MemoryMarshal.Cast<byte, ushort>(values.AsSpan()), indexBytes, indexType);
                break;
            case 4:
                Gather<uint>(MemoryMarshal.Cast<byte, uint>(raw), MemoryMarshal.Cast<byte, uint>(values.AsSpan()), indexBytes, indexType);
                break;
            default:
                Gather<ulong>(MemoryMarshal.Cast<byte, ulong>(raw), MemoryMarshal.Cast<byte, ulong>(values.AsSpan()), indexBytes, indexType);
                break;
        }

        var indices = Tensor.FromRawData(dense.Name + "_indices", indexType, [stored], indexBytes);
        return new SparseTensor(Tensor.FromRawData(dense.Name, dense.DataType, [stored], values), indices, dense.Dims.ToArray(), null);
    }

    /// <summary>How many elements of <paramref name="dense"/> a sparse form stores: those whose bytes are not all zero.</summary>
    public static long StoredCountOf(Tensor dense)
    {
        var size = ElementSize(dense.DataType)
            ?? throw new ArgumentException($"tensor '{dense.Name}' of type {dense.DataType.DisplayName()} has no whole-byte elements to store sparsely");
        var raw = dense.GetRawData().Span;
        return size switch
        {
            1 => Count(raw),
            2 => Count(MemoryMarshal.Cast<byte, ushort>(raw)),
            4 => Count(MemoryMarshal.Cast<byte, uint>(raw)),
            _ => Count(MemoryMarshal.Cast<byte, ulong>(raw)),
        };
    }

    /// <summary>The dense tensor: zeros with the stored values at their positions.</summary>
    public Tensor ToDense()
    {
        var size = ElementSize(DataType)
            ?? throw new InvalidOperationException($"sparse tensor '{Name}' of type {DataType.DisplayName()} has no whole-byte elements");
        var dense = new byte[checked(ElementCount * size)];
        var values = Values.GetRawData().Span;
        var positions = LinearPositions();
        for (var i = 0; i < positions.Length; i++)
        {
            values.Slice(i * size, size).CopyTo(dense.AsSpan((int)(positions[i] * size), size));
        }

        return Tensor.FromRawData(Name, DataType, Dims.ToArray(), dense);
    }

    /// <summary>The same sparse tensor under another name.</summary>
    public SparseTensor WithName(string name) => new(Values.WithName(name), Indices, Dims.ToArray(), null);

    /// <summary>Wraps a parsed proto, checking the values and indices against the dense shape.</summary>
    internal static SparseTensor FromProto(SparseTensorProto proto, Tensor values, Tensor indices, string file)
    {
        var dims = proto.Dims.ToArray();
        var name = values.Name;
        if (dims.Any(d => d < 0))
        {
            throw TensorProtoCodec.Invalid(file, name, "is a sparse tensor with a negative dimension");
        }

        var stored = values.ElementCount;
        var linear = indices.Dims.Count == 1 && indices.Dims[0] == stored;
        var coordinates = indices.Dims.Count == 2 && indices.Dims[0] == stored && indices.Dims[1] == dims.Length;
        if (values.Dims.Count != 1 || !(linear || coordinates)
            || !IsIndexType(indices.DataType))
        {
            throw TensorProtoCodec.Invalid(file, name,
                $"is a sparse tensor whose values [{string.Join(",", values.Dims)}] and {indices.DataType.DisplayName()} indices [{string.Join(",", indices.Dims)}] do not match its shape [{string.Join(",", dims)}]");
        }

        return new SparseTensor(values, indices, dims, proto);
    }

    // Linear positions of the stored values, from either index form.
    private long[] LinearPositions()
    {
        var raw = Indices.DataType switch
        {
            DataType.Int8 => Array.ConvertAll(Indices.ToArray<sbyte>(), v => (long)v),
            DataType.Int16 => Array.ConvertAll(Indices.ToArray<short>(), v => (long)v),
            DataType.Int32 => Array.ConvertAll(Indices.ToArray<int>(), v => (long)v),
            _ => Indices.ToArray<long>(),
        };
        var count = ElementCount;
        if (Indices.Dims.Count == 1)
        {
            return raw.All(p => p >= 0 && p < count) ? raw : throw OutOfShape();
        }

        var rank = Dims.Count;
        var result = new long[StoredCount];
        for (var i = 0; i < result.Length; i++)
        {
            long position = 0;
            for (var d = 0; d < rank; d++)
            {
                var coordinate = raw[i * rank + d];
                position = coordinate >= 0 && coordinate < Dims[d] ? position * Dims[d] + coordinate : throw OutOfShape();
            }

            result[i] = position;
        }

        return result;
    }

    private InvalidOperationException OutOfShape() =>
        new($"sparse tensor '{Name}' has an index outside its shape [{string.Join(",", Dims)}]");

    private static bool IsIndexType(DataType type) => type is DataType.Int8 or DataType.Int16 or DataType.Int32 or DataType.Int64;

    private static bool Fits(DataType indexType, long elementCount) => elementCount <= indexType switch
    {
        DataType.Int8 => 1L << 7,
        DataType.Int16 => 1L << 15,
        DataType.Int32 => 1L << 31,
        _ => long.MaxValue,
    };

    private static int? ElementSize(DataType type) => type.BitWidth() is var bits and >= 8 and <= 64 && type != DataType.String ? bits / 8 : null;

    private static long Count<T>(ReadOnlySpan<T> elements) where T : unmanaged, IEquatable<T>
    {
        long count = 0;
        for (var i = 0; i < elements.Length; i++)
        {
            count += elements[i].Equals(default) ? 0 : 1;
        }

        return count;
    }

    // Copies the elements that are not zero into values, and their linear positions into indices.
    private static void Gather<T>(ReadOnlySpan<T> elements, Span<T> values, Span<byte> indices, DataType indexType) where T : unmanaged, IEquatable<T>
    {
        var at = 0;
        for (var i = 0; i < elements.Length; i++)
        {
            if (elements[i].Equals(default))
            {
                continue;
            }

            values[at] = elements[i];
            switch (indexType)
            {
                case DataType.Int8:
                    indices[at] = (byte)(sbyte)i;
                    break;
                case DataType.Int16:
                    MemoryMarshal.Cast<byte, short>(indices)[at] = (short)i;
                    break;
                case DataType.Int32:
                    MemoryMarshal.Cast<byte, int>(indices)[at] = i;
                    break;
                default:
                    MemoryMarshal.Cast<byte, long>(indices)[at] = i;
                    break;
            }

            at++;
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name}: sparse {DataType.DisplayName()}[{string.Join(",", Dims)}] ({StoredCount} stored)";
}
