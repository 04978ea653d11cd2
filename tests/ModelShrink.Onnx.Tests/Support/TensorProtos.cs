using System.Runtime.InteropServices;
using Google.Protobuf;
using ModelShrink.Onnx.Protobuf;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Onnx.Tests.Support;

/// <summary>Serializes tensors to TensorProto bytes and back, the way a model file carries them.</summary>
internal static class TensorProtos
{
    public const string FileName = "tensor.pb";

    /// <summary>The proto <see cref="TensorProtoCodec.WriteInline"/> makes for <paramref name="tensor"/>, after a trip through bytes.</summary>
    public static TensorProto Write(Tensor tensor, TensorEncoding encoding)
    {
        var proto = new TensorProto { Name = tensor.Name, DataType = (int)tensor.DataType };
        proto.Dims.AddRange(tensor.Dims);
        TensorProtoCodec.WriteInline(tensor, proto, encoding);
        return TensorProto.Parser.ParseFrom(proto.ToByteArray());
    }

    /// <summary>Reads a proto as the model reader does.</summary>
    public static Tensor Read(TensorProto proto) => Tensor.FromProto(proto, null, FileName);

    /// <summary>
    /// FromArray, write in <paramref name="encoding"/>, serialize, parse, FromProto, ToArray: the
    /// values must come back bit for bit (so -0, NaN payloads and int4 sign bits count).
    /// </summary>
    public static TensorProto AssertRoundTrip<T>(DataType type, TensorEncoding encoding, long[] dims, T[] values) where T : unmanaged
    {
        var proto = Write(Tensor.FromArray<T>("t", dims, values, type), encoding);
        AssertEncoding(proto, encoding);
        var back = Read(proto);
        Assert.AreEqual(type, back.DataType);
        CollectionAssert.AreEqual(dims, back.Dims.ToArray());
        CollectionAssert.AreEqual(Bytes(values), Bytes(back.ToArray<T>()), $"{type} via {encoding}");
        return proto;
    }

    public static byte[] Bytes<T>(T[] values) where T : unmanaged => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    private static void AssertEncoding(TensorProto proto, TensorEncoding encoding)
    {
        var typedEntries = proto.FloatData.Count + proto.Int32Data.Count + proto.Int64Data.Count + proto.DoubleData.Count + proto.Uint64Data.Count;
        if (encoding == TensorEncoding.Raw)
        {
            Assert.IsTrue(proto.HasRawData, "raw encoding must write raw_data");
            Assert.AreEqual(0, typedEntries, "raw encoding must leave the typed fields empty");
        }
        else
        {
            Assert.IsFalse(proto.HasRawData, "typed encoding must not write raw_data");
        }
    }
}
