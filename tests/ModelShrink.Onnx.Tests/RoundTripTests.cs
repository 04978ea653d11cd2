using Google.Protobuf;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Protobuf;
using ModelShrink.Testing;

namespace ModelShrink.Onnx.Tests;

[TestClass]
public sealed class RoundTripTests
{
    [TestMethod]
    [DynamicData(nameof(Fixtures.AllRows), typeof(Fixtures))]
    public void LoadThenSaveGivesBitIdenticalOrtOutputs(string fixture)
    {
        using var temp = new TempDirectory();
        var saved = temp.File("model.onnx");
        ModelWriter.Save(ModelReader.Load(Fixtures.Model(fixture)), saved);

        foreach (var set in Fixtures.DataSets(fixture))
        {
            var inputs = Fixtures.Inputs(set);
            var expected = OrtRunner.Run(Fixtures.Model(fixture), inputs);
            var actual = OrtRunner.Run(saved, inputs);
            CollectionAssert.AreEquivalent(expected.Keys.ToArray(), actual.Keys.ToArray());
            foreach (var (name, values) in expected)
            {
                CollectionAssert.AreEqual(Bits(values), Bits(actual[name]), $"output '{name}' of {Path.GetFileName(set)} differs");
            }
        }
    }

    [TestMethod]
    [DynamicData(nameof(Fixtures.AllRows), typeof(Fixtures))]
    public void LoadThenSaveKeepsTheProtoEqual(string fixture)
    {
        using var temp = new TempDirectory();
        var saved = temp.File("model.onnx");
        ModelWriter.Save(ModelReader.Load(Fixtures.Model(fixture)), saved);

        Assert.AreEqual(Parse(Fixtures.Model(fixture)), Parse(saved));
    }

    [TestMethod]
    public void FieldsTheIrDoesNotModelSurviveARoundTrip()
    {
        using var temp = new TempDirectory();
        var original = Parse(Fixtures.Model("digits-mlp"));
        original.DocString = "model doc";
        original.MetadataProps.Add(new StringStringEntryProto { Key = "author", Value = "tests" });
        original.Graph.DocString = "graph doc";
        original.Graph.Node[0].DocString = "node doc";
        original.Graph.Node[0].MetadataProps.Add(new StringStringEntryProto { Key = "k", Value = "v" });
        original.Graph.Initializer[0].DocString = "weight doc";
        original.Graph.ValueInfo.Add(new ValueInfoProto { Name = original.Graph.Node[0].Output[0], DocString = "value doc", Type = original.Graph.Output[0].Type });
        original.Graph.QuantizationAnnotation.Add(new TensorAnnotation { TensorName = original.Graph.Input[0].Name });
        original.Functions.Add(new FunctionProto { Name = "MyRelu", Domain = "custom", Input = { "x" }, Output = { "y" }, Node = { new NodeProto { OpType = "Relu", Input = { "x" }, Output = { "y" } } } });
        original.TrainingInfo.Add(new TrainingInfoProto { Algorithm = new GraphProto { Name = "training" } });
        var source = temp.File("source.onnx");
        File.WriteAllBytes(source, original.ToByteArray());

        var saved = temp.File("saved.onnx");
        ModelWriter.Save(ModelReader.Load(source), saved);

        Assert.AreEqual(original, Parse(saved));
    }

    [TestMethod]
    public void ExternalDataRoundTripRunsIdenticallyAndReadsBack()
    {
        using var temp = new TempDirectory();
        var external = temp.File("external.onnx");
        var result = ModelWriter.Save(ModelReader.Load(Fixtures.Model("digits-cnn")), external, new ModelSaveOptions { ExternalDataThreshold = 1024 });

        Assert.IsTrue(File.Exists(external + ".data"));
        Assert.AreEqual(new FileInfo(external + ".data").Length, result.ExternalDataBytes);
        var proto = Parse(external);
        Assert.IsTrue(proto.Graph.Initializer.Any(t => t.DataLocation == TensorProto.Types.DataLocation.External));
        Assert.IsTrue(proto.Graph.Initializer.Where(t => t.DataLocation == TensorProto.Types.DataLocation.External)
            .All(t => t.ExternalData.Single(e => e.Key == "location").Value == "external.onnx.data"));

        var inputs = Fixtures.Inputs(Fixtures.DataSets("digits-cnn")[0]);
        var expected = OrtRunner.Run(Fixtures.Model("digits-cnn"), inputs)["logits"];
        CollectionAssert.AreEqual(Bits(expected), Bits(OrtRunner.Run(external, inputs)["logits"]));

        var inline = temp.File("inline.onnx");
        ModelWriter.Save(ModelReader.Load(external), inline);
        Assert.AreEqual(Parse(Fixtures.Model("digits-cnn")).Graph.Initializer.Count, Parse(inline).Graph.Initializer.Count);
        CollectionAssert.AreEqual(Bits(expected), Bits(OrtRunner.Run(inline, inputs)["logits"]));
    }

    [TestMethod]
    public void ANonSeekableStreamLoadsTheSameGraph()
    {
        using var stream = new NonSeekableStream(File.ReadAllBytes(Fixtures.Model("digits-mlp")));

        var model = ModelReader.Load(stream, "digits-mlp (stream)");

        Assert.AreEqual(ModelReader.Load(Fixtures.Model("digits-mlp")).Graph.Nodes.Count, model.Graph.Nodes.Count);
        Assert.HasCount(6, model.Graph.Initializers);
    }

    private sealed class NonSeekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();
    }

    internal static ModelProto Parse(string path) => ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));

    internal static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();
}
