using Google.Protobuf;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Protobuf;
using ModelShrink.Testing;

namespace ModelShrink.Onnx.Tests;

/// <summary>
/// A large model file is parsed without copying its big inline weights: they are cut out before the
/// parse and viewed in the mapped file. The result must be the very message protobuf parses.
/// </summary>
[TestClass]
public sealed class LargeRawDataTests
{
    [TestMethod]
    public void AModelParsedWithItsLargeWeightsViewedInTheFileIsTheMessageProtobufParses()
    {
        // Five 1024x1024 weights (20 MB, inline) and the doc strings, metadata and small tensors around them.
        using var temp = new TempDirectory();
        var model = GeneratedModels.MatMulChain(1024, 5);
        model.Graph.AddInitializer(Onnx.Tensors.Tensor.FromArray<float>("small", [3], [1f, 2f, 3f]));
        var path = temp.File("model.onnx");
        ModelWriter.Save(model, path);
        var bytes = File.ReadAllBytes(path);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var loaded = ModelReader.Load(path);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.AreEqual(ModelProto.Parser.ParseFrom(bytes), loaded.Proto, "the same message, field for field and byte for byte");
        Assert.IsLessThan(bytes.Length / 10, allocated, $"{allocated} bytes allocated to load a {bytes.Length}-byte model: its weights were copied");
        CollectionAssert.AreEqual(model.Graph.Initializers.Select(v => v.Initializer!.ToArray<float>()[^1]).ToArray(),
            loaded.Graph.Initializers.Select(v => v.Initializer!.ToArray<float>()[^1]).ToArray());
    }

    [TestMethod]
    public void ASavedCopyOfAModelWhoseWeightsWereViewedRunsIdentically()
    {
        using var temp = new TempDirectory();
        var source = GeneratedModels.WriteMatMulChain(temp.File("model.onnx"), 1024, 5);
        var copy = temp.File("copy.onnx");

        ModelWriter.Save(ModelReader.Load(source), copy);

        CollectionAssert.AreEqual(File.ReadAllBytes(source), File.ReadAllBytes(copy), "untouched weights are written back as they were read");
    }

    [TestMethod]
    public void ATensorWithItsRawDataTwiceIsLeftToProtobufWhereTheLastOneWins()
    {
        // Protobuf keeps the last of a singular field that appears twice: the split must not pick the first.
        var first = new byte[9 << 20];
        var last = new byte[9 << 20];
        last[^1] = 7;
        var tensor = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Uint8, Dims = { last.Length }, RawData = ByteString.CopyFrom(first) };
        var tensorBytes = tensor.ToByteArray().Concat(Field(TensorProto.RawDataFieldNumber, last)).ToArray();
        var bytes = Model(Field(GraphProto.InitializerFieldNumber, tensorBytes));

        Assert.IsNull(LargeRawData.Split(bytes, 1 << 20));
        Assert.AreEqual(7, Loaded(bytes).Graph.Initializers.Single().Initializer!.GetRawData().Span[^1]);
    }

    [TestMethod]
    public void AModelWithTwoGraphFieldsIsLeftToProtobufWhichMergesThem()
    {
        var one = new TensorProto { Name = "a", DataType = (int)TensorProto.Types.DataType.Uint8, Dims = { 9 << 20 }, RawData = ByteString.CopyFrom(new byte[9 << 20]) };
        var two = new TensorProto { Name = "b", DataType = (int)TensorProto.Types.DataType.Uint8, Dims = { 9 << 20 }, RawData = ByteString.CopyFrom(new byte[9 << 20]) };
        var bytes = Model(Field(GraphProto.InitializerFieldNumber, one.ToByteArray()))
            .Concat(Field(ModelProto.GraphFieldNumber, Field(GraphProto.InitializerFieldNumber, two.ToByteArray()))).ToArray();

        Assert.IsNull(LargeRawData.Split(bytes, 1 << 20));
        CollectionAssert.AreEqual(new[] { "a", "b" }, Loaded(bytes).Graph.Initializers.Select(v => v.Name).ToArray());
    }

    // A model (ir_version 8, opset 17) whose graph holds `graphFields` besides its name.
    private static byte[] Model(byte[] graphFields)
    {
        var model = new ModelProto { IrVersion = 8 };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        var graph = new GraphProto { Name = "g" }.ToByteArray().Concat(graphFields).ToArray();
        return model.ToByteArray().Concat(Field(ModelProto.GraphFieldNumber, graph)).ToArray();
    }

    // One length-delimited field, as protobuf writes it.
    private static byte[] Field(int number, byte[] payload)
    {
        using var stream = new MemoryStream();
        using (var output = new CodedOutputStream(stream, leaveOpen: true))
        {
            output.WriteTag(number, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(payload));
        }

        return stream.ToArray();
    }

    private static Onnx.Ir.Model Loaded(byte[] bytes)
    {
        using var temp = new TempDirectory();
        var path = temp.File("model.onnx");
        File.WriteAllBytes(path, bytes);
        return ModelReader.Load(path);
    }
}
