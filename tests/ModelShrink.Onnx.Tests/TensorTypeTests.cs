using Google.Protobuf;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Protobuf;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Onnx.Tests.Support;
using ModelShrink.Testing;
using static ModelShrink.Onnx.Tests.Support.TensorProtos;

namespace ModelShrink.Onnx.Tests;

[TestClass]
public sealed class TensorTypeTests
{
    private static readonly DataType[] NumericTypes =
    [
        DataType.Float, DataType.Double, DataType.Float16, DataType.BFloat16, DataType.Int8, DataType.UInt8,
        DataType.Int4, DataType.UInt4, DataType.Int16, DataType.UInt16, DataType.Int32, DataType.UInt32,
        DataType.Int64, DataType.UInt64, DataType.Bool,
    ];

    public static IEnumerable<object[]> NumericTypesInBothEncodings =>
        from type in NumericTypes
        from encoding in new[] { TensorEncoding.Raw, TensorEncoding.Typed }
        select new object[] { type, encoding };

    public static IEnumerable<object[]> BothEncodings => [[TensorEncoding.Raw], [TensorEncoding.Typed]];

    [TestMethod]
    [DynamicData(nameof(NumericTypesInBothEncodings))]
    public void EveryNumericTypeRoundTripsBitForBitThroughASerializedProto(DataType type, TensorEncoding encoding)
    {
        _ = type switch
        {
            DataType.Float => AssertRoundTrip(type, encoding, [2, 4], [0f, -0f, 1.5f, -3.25e-3f, float.MaxValue, float.Epsilon, float.NegativeInfinity, BitConverter.UInt32BitsToSingle(0x7FC0_1234)]),
            DataType.Double => AssertRoundTrip(type, encoding, [5], [0d, -0d, Math.PI, double.MinValue, double.Epsilon]),
            DataType.Float16 => AssertRoundTrip(type, encoding, [2, 3], [(Half)0, Half.NegativeZero, (Half)1, (Half)(-2), Half.MaxValue, Half.Epsilon]),
            DataType.BFloat16 => AssertRoundTrip(type, encoding, [4], [BFloat16.FromBits(0x0000), BFloat16.FromBits(0x8000), BFloat16.FromBits(0x3F80), BFloat16.FromBits(0xFF7F)]),
            DataType.Int8 => AssertRoundTrip<sbyte>(type, encoding, [4], [sbyte.MinValue, -1, 0, sbyte.MaxValue]),
            DataType.UInt8 => AssertRoundTrip<byte>(type, encoding, [3], [0, 128, byte.MaxValue]),
            DataType.Int4 => AssertRoundTrip<sbyte>(type, encoding, [5], [-8, 7, -1, 0, 3]),
            DataType.UInt4 => AssertRoundTrip<byte>(type, encoding, [5], [15, 0, 1, 9, 4]),
            DataType.Int16 => AssertRoundTrip<short>(type, encoding, [4], [short.MinValue, -2, 0, short.MaxValue]),
            DataType.UInt16 => AssertRoundTrip<ushort>(type, encoding, [3], [0, 0x8000, ushort.MaxValue]),
            DataType.Int32 => AssertRoundTrip(type, encoding, [4], [int.MinValue, -1, 0, int.MaxValue]),
            DataType.UInt32 => AssertRoundTrip(type, encoding, [3], [0u, 0x8000_0000u, uint.MaxValue]),
            DataType.Int64 => AssertRoundTrip(type, encoding, [3], [long.MinValue, -1L, long.MaxValue]),
            DataType.UInt64 => AssertRoundTrip(type, encoding, [3], [0ul, 0x8000_0000_0000_0000ul, ulong.MaxValue]),
            DataType.Bool => AssertRoundTrip(type, encoding, [3], [true, false, true]),
            _ => throw new AssertFailedException($"no sample for {type}"),
        };
    }

    [TestMethod]
    [DynamicData(nameof(BothEncodings))]
    public void StringsRoundTripInStringDataWhateverTheEncoding(TensorEncoding encoding)
    {
        string[] values = ["", "digits", "ünïcödé ✓"];
        var proto = Write(Tensor.FromStrings("s", [3], values), encoding);

        Assert.IsFalse(proto.HasRawData);
        CollectionAssert.AreEqual(new[] { 0, 6, 15 }, proto.StringData.Select(s => s.Length).ToArray());
        CollectionAssert.AreEqual(values, Read(proto).ToStringArray());
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(3)]
    [DataRow(16)]
    [DataRow(17)]
    public void Int4SignExtendsEveryValueFromMinus8To7AtOddAndEvenCounts(int count)
    {
        var values = Enumerable.Range(0, count).Select(i => (sbyte)((i % 16) - 8)).ToArray();
        foreach (var encoding in new[] { TensorEncoding.Raw, TensorEncoding.Typed })
        {
            var proto = AssertRoundTrip(DataType.Int4, encoding, [count], values);
            var packedBytes = encoding == TensorEncoding.Raw ? proto.RawData.Length : proto.Int32Data.Count;
            Assert.AreEqual((count + 1) / 2, packedBytes, $"{count} int4 values take {(count + 1) / 2} bytes");
        }
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(15)]
    [DataRow(16)]
    public void UInt4KeepsEveryValueFrom0To15AtOddAndEvenCounts(int count)
    {
        var values = Enumerable.Range(0, count).Select(i => (byte)(15 - i % 16)).ToArray();
        AssertRoundTrip(DataType.UInt4, TensorEncoding.Raw, [count], values);
        AssertRoundTrip(DataType.UInt4, TensorEncoding.Typed, [count], values);
    }

    [TestMethod]
    public void Int4AndUInt4ArePackedLowNibbleFirstOneByteToAnInt32DataEntry()
    {
        var int4 = Write(Tensor.FromArray<sbyte>("i4", [5], [-8, 7, -1, 0, 3], DataType.Int4), TensorEncoding.Typed);
        CollectionAssert.AreEqual(new[] { 0x78, 0x0F, 0x03 }, int4.Int32Data.ToArray());

        var uint4 = Write(Tensor.FromArray<byte>("u4", [5], [15, 0, 1, 9, 4], DataType.UInt4), TensorEncoding.Typed);
        CollectionAssert.AreEqual(new[] { 0x0F, 0x91, 0x04 }, uint4.Int32Data.ToArray());

        var raw = Write(Tensor.FromArray<sbyte>("i4", [5], [-8, 7, -1, 0, 3], DataType.Int4), TensorEncoding.Raw);
        CollectionAssert.AreEqual(new byte[] { 0x78, 0x0F, 0x03 }, raw.RawData.ToByteArray());
    }

    [TestMethod]
    public void Float16AndBFloat16AreWrittenToInt32DataAsUnsignedBits()
    {
        var half = Write(Tensor.FromArray<Half>("h", [3], [(Half)1, (Half)(-2), Half.PositiveInfinity]), TensorEncoding.Typed);
        CollectionAssert.AreEqual(new[] { 0x3C00, 0xC000, 0x7C00 }, half.Int32Data.ToArray());

        var bf16 = Write(Tensor.FromArray<BFloat16>("b", [2], [(BFloat16)1f, (BFloat16)(-2f)]), TensorEncoding.Typed);
        CollectionAssert.AreEqual(new[] { 0x3F80, 0xC000 }, bf16.Int32Data.ToArray());
    }

    [TestMethod]
    public void EightAndSixteenBitIntegersAndBoolTakeOneInt32DataEntryEachSignExtendedOnlyWhenSigned()
    {
        CollectionAssert.AreEqual(new[] { -128, -1, 127 }, Typed<sbyte>([-128, -1, 127]).Int32Data.ToArray());
        CollectionAssert.AreEqual(new[] { 0, 128, 255 }, Typed<byte>([0, 128, 255]).Int32Data.ToArray());
        CollectionAssert.AreEqual(new[] { -32768, -2, 32767 }, Typed<short>([-32768, -2, 32767]).Int32Data.ToArray());
        CollectionAssert.AreEqual(new[] { 0, 32768, 65535 }, Typed<ushort>([0, 32768, 65535]).Int32Data.ToArray());
        CollectionAssert.AreEqual(new[] { 1, 0, 1 }, Typed([true, false, true]).Int32Data.ToArray());
        CollectionAssert.AreEqual(new[] { int.MinValue, 7 }, Typed([int.MinValue, 7]).Int32Data.ToArray());
    }

    [TestMethod]
    public void WideTypesUseTheirOwnFieldAndUInt32GoesToUInt64Data()
    {
        CollectionAssert.AreEqual(new ulong[] { 0, 4_294_967_295 }, Typed([0u, uint.MaxValue]).Uint64Data.ToArray());
        CollectionAssert.AreEqual(new[] { ulong.MaxValue }, Typed([ulong.MaxValue]).Uint64Data.ToArray());
        CollectionAssert.AreEqual(new[] { long.MinValue, 5L }, Typed([long.MinValue, 5L]).Int64Data.ToArray());
        CollectionAssert.AreEqual(new[] { 1.5f, -0.25f }, Typed([1.5f, -0.25f]).FloatData.ToArray());
        CollectionAssert.AreEqual(new[] { Math.E }, Typed([Math.E]).DoubleData.ToArray());

        var uint32 = Typed([uint.MaxValue]);
        Assert.IsEmpty(uint32.Int32Data);
        Assert.IsEmpty(uint32.Int64Data);
    }

    [TestMethod]
    public void RawDataIsLittleEndian()
    {
        CollectionAssert.AreEqual(new byte[] { 0x00, 0x00, 0x80, 0x3F }, Raw([1f]));
        CollectionAssert.AreEqual(new byte[] { 0xFE, 0xFF }, Raw<short>([-2]));
        CollectionAssert.AreEqual(new byte[] { 0x00, 0x3C }, Raw([(Half)1]));
        CollectionAssert.AreEqual(new byte[] { 0x80, 0x3F }, Raw([(BFloat16)1f]));
        CollectionAssert.AreEqual(new byte[] { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 }, Raw([0x0807060504030201L]));
        CollectionAssert.AreEqual(new byte[] { 0x01, 0x00 }, Raw([true, false]));
    }

    [TestMethod]
    public void TypedFieldsWrittenByAnotherExporterReadAsTheSameNumbers()
    {
        CollectionAssert.AreEqual(new[] { (Half)1, (Half)(-2), Half.PositiveInfinity },
            Read(Proto(DataType.Float16, [3], p => p.Int32Data.AddRange([0x3C00, 0xC000, 0x7C00]))).ToArray<Half>());
        CollectionAssert.AreEqual(new[] { 1f, -2f },
            Read(Proto(DataType.BFloat16, [2], p => p.Int32Data.AddRange([0x3F80, 0xC000]))).ToFloatArray());
        CollectionAssert.AreEqual(new sbyte[] { -8, 7, -1, 0, 3 },
            Read(Proto(DataType.Int4, [5], p => p.Int32Data.AddRange([0x78, 0x0F, 0x03]))).ToArray<sbyte>());
        CollectionAssert.AreEqual(new sbyte[] { -128, 127 },
            Read(Proto(DataType.Int8, [2], p => p.Int32Data.AddRange([-128, 127]))).ToArray<sbyte>());
        CollectionAssert.AreEqual(new[] { uint.MaxValue, 1u },
            Read(Proto(DataType.UInt32, [2], p => p.Uint64Data.AddRange([4_294_967_295, 1]))).ToArray<uint>());
        CollectionAssert.AreEqual(new[] { true, false },
            Read(Proto(DataType.Bool, [2], p => p.Int32Data.AddRange([1, 0]))).ToArray<bool>());
    }

    [TestMethod]
    [DataRow(DataType.Float, 3L, 11, 12L)]
    [DataRow(DataType.Double, 4L, 33, 32L)]
    [DataRow(DataType.Int4, 3L, 1, 2L)]
    [DataRow(DataType.UInt4, 4L, 3, 2L)]
    [DataRow(DataType.Bool, 2L, 0, 2L)]
    public void RawDataWhoseLengthDoesNotMatchTheShapeFailsWithMsh1010(DataType type, long elements, int rawBytes, long expectedBytes)
    {
        var proto = Proto(type, [elements], p => p.RawData = ByteString.CopyFrom(new byte[rawBytes]));

        var e = DiagnosticAssert.Fails(ErrorCodes.InvalidTensor, FileName, () => Read(proto));
        Assert.AreEqual($"tensor 't' has {rawBytes} bytes of raw_data but its shape and type need {expectedBytes}", e.Diagnostic.Message);
    }

    [TestMethod]
    public void TypedDataWithTooFewValuesForTheShapeFailsWithMsh1010()
    {
        var proto = Proto(DataType.Float, [2, 2], p => p.FloatData.AddRange([1f, 2f, 3f]));

        var e = DiagnosticAssert.Fails(ErrorCodes.InvalidTensor, FileName, () => Read(proto));
        Assert.AreEqual("tensor 't' holds 12 bytes of typed data but its shape and type need 16", e.Diagnostic.Message);
    }

    [TestMethod]
    [DataRow(99)]
    [DataRow(0)]
    [DataRow(27)]
    [DataRow(-1)]
    public void UnknownDataTypeFailsWithMsh1011(int dataType)
    {
        var proto = new TensorProto { Name = "t", DataType = dataType, RawData = ByteString.CopyFrom(1, 2, 3, 4) };
        proto.Dims.Add(1);

        var e = DiagnosticAssert.Fails(ErrorCodes.UnsupportedDataType, FileName, () => Read(proto));
        Assert.AreEqual($"tensor 't' has unknown data type {dataType}", e.Diagnostic.Message);
    }

    [TestMethod]
    public void FixtureWeightsReadAsFloatsEqualTheirRawBytesAndTheFloatView()
    {
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Fixtures.Model("digits-mlp")));
        var initializers = ModelReader.Load(Fixtures.Model("digits-mlp")).Graph.Initializers.Select(v => v.Initializer!).ToArray();

        CollectionAssert.AreEqual(new[] { "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias" }, initializers.Select(t => t.Name).ToArray());
        CollectionAssert.AreEqual(new long[] { 256, 64 }, initializers[0].Dims.ToArray());
        Assert.AreEqual(50_826, initializers.Sum(t => t.ToArray<float>().Length));
        foreach (var tensor in initializers)
        {
            var floats = tensor.ToArray<float>();
            var raw = proto.Graph.Initializer.Single(t => t.Name == tensor.Name).RawData.ToByteArray();
            var decoded = Enumerable.Range(0, raw.Length / 4).Select(i => BitConverter.ToSingle(raw, i * 4)).ToArray();
            CollectionAssert.AreEqual(decoded, floats, tensor.Name);
            CollectionAssert.AreEqual(floats, tensor.ToFloatArray(), tensor.Name);
            Assert.IsTrue(floats.All(float.IsFinite) && floats.Any(f => f != 0), $"{tensor.Name} holds real weights");
        }
    }

    [TestMethod]
    [DataRow(0x3F80_0000u, (ushort)0x3F80, DisplayName = "1.0 is exact")]
    [DataRow(0x3F80_7FFFu, (ushort)0x3F80, DisplayName = "just below half rounds down")]
    [DataRow(0x3F80_8000u, (ushort)0x3F80, DisplayName = "tie rounds to even (down)")]
    [DataRow(0x3F80_8001u, (ushort)0x3F81, DisplayName = "just above half rounds up")]
    [DataRow(0x3F81_8000u, (ushort)0x3F82, DisplayName = "tie rounds to even (up)")]
    [DataRow(0x4049_0FDBu, (ushort)0x4049, DisplayName = "pi rounds to 3.140625")]
    [DataRow(0xBFC0_0000u, (ushort)0xBFC0, DisplayName = "-1.5 is exact")]
    [DataRow(0x7F7F_FFFFu, (ushort)0x7F80, DisplayName = "float.MaxValue overflows to +inf")]
    [DataRow(0x7F80_0000u, (ushort)0x7F80, DisplayName = "+inf stays +inf")]
    [DataRow(0x7F80_0001u, (ushort)0x7FC0, DisplayName = "signalling NaN stays NaN, not inf")]
    [DataRow(0xFFC0_0000u, (ushort)0xFFC0, DisplayName = "quiet NaN keeps its sign")]
    [DataRow(0x0001_8000u, (ushort)0x0002, DisplayName = "subnormal tie rounds to even")]
    public void BFloat16RoundsToNearestTiesToEven(uint floatBits, ushort expectedBits)
    {
        var rounded = (BFloat16)BitConverter.UInt32BitsToSingle(floatBits);

        Assert.AreEqual(expectedBits, rounded.Bits, $"0x{floatBits:X8} -> 0x{rounded.Bits:X4}");
        Assert.AreEqual((uint)expectedBits << 16, BitConverter.SingleToUInt32Bits((float)rounded), "widening is exact");
    }

    [TestMethod]
    public void BFloat16WidensToTheHandComputedValues()
    {
        Assert.AreEqual(3.140625f, (float)BFloat16.FromBits(0x4049));
        Assert.AreEqual(1.0078125f, (float)BFloat16.FromBits(0x3F81));
        Assert.AreEqual(-1.5f, (float)BFloat16.FromBits(0xBFC0));
        Assert.AreEqual("3.140625", BFloat16.FromBits(0x4049).ToString());
    }

    private static TensorProto Typed<T>(T[] values) where T : unmanaged => Write(Tensor.FromArray<T>("t", [values.Length], values), TensorEncoding.Typed);

    private static byte[] Raw<T>(T[] values) where T : unmanaged => Write(Tensor.FromArray<T>("t", [values.Length], values), TensorEncoding.Raw).RawData.ToByteArray();

    private static TensorProto Proto(DataType type, long[] dims, Action<TensorProto> fill)
    {
        var proto = new TensorProto { Name = "t", DataType = (int)type };
        proto.Dims.AddRange(dims);
        fill(proto);
        return TensorProto.Parser.ParseFrom(proto.ToByteArray());
    }
}
