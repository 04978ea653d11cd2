using Google.Protobuf;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Protobuf;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Testing;

namespace ModelShrink.Onnx.Tests;

[TestClass]
public sealed class SparseInitializerTests
{
    [TestMethod]
    public void DenseToSparseAndBackIsExactAndKeepsNegativeZero()
    {
        float[] values = [0f, 1.5f, 0f, -0f, 0f, -2f, 0f, 0f, 3f, 0f, 0f, 0f];
        var dense = Tensor.FromArray<float>("w", [3, 4], values);

        var sparse = SparseTensor.FromDense(dense, DataType.Int8);
        var back = sparse.ToDense().ToArray<float>();

        Assert.AreEqual(4, sparse.StoredCount, "1.5, -0, -2 and 3 are stored");
        Assert.AreEqual(DataType.Int8, sparse.Indices.DataType);
        CollectionAssert.AreEqual(values.Select(BitConverter.SingleToInt32Bits).ToArray(), back.Select(BitConverter.SingleToInt32Bits).ToArray());
        CollectionAssert.AreEqual(new long[] { 3, 4 }, sparse.Dims.ToArray());
    }

    [TestMethod]
    [DataRow(128L, DataType.Int8)]
    [DataRow(129L, DataType.Int16)]
    [DataRow(32768L, DataType.Int16)]
    [DataRow(32769L, DataType.Int32)]
    [DataRow(1L << 31, DataType.Int32)]
    [DataRow((1L << 31) + 1, DataType.Int64)]
    public void NarrowestIndexTypeAddressesEveryElement(long elements, DataType expected) =>
        Assert.AreEqual(expected, SparseTensor.NarrowestIndexType(elements));

    [TestMethod]
    public void IndicesTooNarrowForTheTensorAreRefused()
    {
        var dense = Tensor.FromArray<float>("w", [200], new float[200]);

        Assert.ThrowsExactly<ArgumentException>(() => SparseTensor.FromDense(dense, DataType.Int8));
    }

    [TestMethod]
    [DataRow(DataType.Int16)]
    [DataRow(DataType.Int32)]
    [DataRow(DataType.Int64)]
    public void SparseWeightRunsInOrtLikeTheDenseOneAndReadsBack(DataType indexType)
    {
        using var temp = new TempDirectory();
        var model = ModelReader.Load(Fixtures.Model("digits-mlp"));
        var fc1 = model.Graph.FindValue("fc1.weight")!;
        var pruned = ZeroSmallest(fc1.Initializer!, 0.8);
        model.Graph.ReplaceInitializer(fc1, pruned);
        var densePath = temp.File("dense.onnx");
        ModelWriter.Save(model, densePath);

        model.Graph.StoreSparse(fc1, SparseTensor.FromDense(pruned, indexType));
        var sparsePath = temp.File("sparse.onnx");
        ModelWriter.Save(model, sparsePath);

        var inputs = Fixtures.Inputs(Fixtures.DataSets("digits-mlp")[0]);
        CollectionAssert.AreEqual(OrtRunner.Run(densePath, inputs)["logits"], OrtRunner.Run(sparsePath, inputs)["logits"]);
        Assert.IsLessThan(new FileInfo(densePath).Length, new FileInfo(sparsePath).Length);
        var reloaded = ModelReader.Load(sparsePath).Graph.FindValue("fc1.weight")!;
        Assert.IsNull(reloaded.Initializer);
        Assert.IsNotNull(reloaded.SparseInitializer);
        CollectionAssert.AreEqual(pruned.ToArray<float>(), reloaded.SparseInitializer.ToDense().ToArray<float>());
        Assert.HasCount(1, reloaded.Uses);
    }

    [TestMethod]
    public void AnUntouchedSparseInitializerIsWrittenBackByteForByte()
    {
        using var temp = new TempDirectory();
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Fixtures.Model("digits-mlp")));
        var weight = proto.Graph.Initializer.First(t => t.Name == "fc3.weight");
        proto.Graph.Initializer.Remove(weight);
        var sparse = CoordinateSparse(weight);
        proto.Graph.SparseInitializer.Add(sparse);
        var source = temp.File("coo.onnx");
        File.WriteAllBytes(source, proto.ToByteArray());

        var model = ModelReader.Load(source);
        var saved = temp.File("saved.onnx");
        ModelWriter.Save(model, saved);

        var written = ModelProto.Parser.ParseFrom(File.ReadAllBytes(saved)).Graph.SparseInitializer.Single();
        Assert.AreEqual(sparse, written);
        var dense = model.Graph.FindValue("fc3.weight")!.SparseInitializer!.ToDense().ToArray<float>();
        CollectionAssert.AreEqual(weight.RawData.ToByteArray(), System.Runtime.InteropServices.MemoryMarshal.AsBytes(dense.AsSpan()).ToArray());
        var inputs = Fixtures.Inputs(Fixtures.DataSets("digits-mlp")[0]);
        CollectionAssert.AreEqual(OrtRunner.Run(Fixtures.Model("digits-mlp"), inputs)["logits"], OrtRunner.Run(saved, inputs)["logits"]);
    }

    [TestMethod]
    public void SparseValuesAndIndicesGoToExternalDataAboveTheThresholdAndOrtLoadsThem()
    {
        using var temp = new TempDirectory();
        var model = ModelReader.Load(Fixtures.Model("digits-mlp"));
        var fc2 = model.Graph.FindValue("fc2.weight")!;
        var pruned = ZeroSmallest(fc2.Initializer!, 0.9);
        model.Graph.ReplaceInitializer(fc2, pruned);
        var dense = temp.File("dense.onnx");
        ModelWriter.Save(model, dense);
        model.Graph.StoreSparse(fc2, SparseTensor.FromDense(pruned, DataType.Int32));
        var path = temp.File("external.onnx");

        var result = ModelWriter.Save(model, path, new ModelSaveOptions { ExternalDataThreshold = 1024 });

        Assert.IsGreaterThan(0, result.ExternalDataBytes);
        var written = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph.SparseInitializer.Single();
        Assert.AreEqual(TensorProto.Types.DataLocation.External, written.Values.DataLocation);
        Assert.AreEqual(TensorProto.Types.DataLocation.External, written.Indices.DataLocation);
        var reloaded = ModelReader.Load(path).Graph.FindValue("fc2.weight")!.SparseInitializer!;
        CollectionAssert.AreEqual(pruned.ToArray<float>(), reloaded.ToDense().ToArray<float>());
        var inputs = Fixtures.Inputs(Fixtures.DataSets("digits-mlp")[0]);
        CollectionAssert.AreEqual(OrtRunner.Run(dense, inputs)["logits"], OrtRunner.Run(path, inputs)["logits"]);
    }

    [TestMethod]
    public void RenamingASparseInitializerRenamesItsValues()
    {
        var model = ModelReader.Load(Fixtures.Model("digits-mlp"));
        var fc3 = model.Graph.FindValue("fc3.weight")!;
        model.Graph.StoreSparse(fc3, SparseTensor.FromDense(fc3.Initializer!, DataType.Int16));

        model.Graph.RenameValue(fc3, "head");

        Assert.AreEqual("head", fc3.SparseInitializer!.Name);
        Assert.IsFalse(model.Graph.Initializers.Contains(fc3));
        Assert.Contains(fc3, model.Graph.SparseInitializers);
    }

    private static Tensor ZeroSmallest(Tensor tensor, double fraction)
    {
        var values = tensor.ToArray<float>();
        var order = Enumerable.Range(0, values.Length).OrderBy(i => Math.Abs(values[i])).Take((int)(fraction * values.Length));
        foreach (var i in order)
        {
            values[i] = 0;
        }

        return Tensor.FromArray<float>(tensor.Name, tensor.Dims.ToArray(), values);
    }

    // The COO coordinate form ([NNZ, rank] int64), as the ONNX checker wants it.
    private static SparseTensorProto CoordinateSparse(TensorProto weight)
    {
        var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(weight.RawData.Span).ToArray();
        var columns = (int)weight.Dims[1];
        var nonZero = Enumerable.Range(0, values.Length).Where(i => values[i] != 0).ToArray();
        var valuesProto = new TensorProto { Name = weight.Name, DataType = (int)DataType.Float };
        valuesProto.Dims.Add(nonZero.Length);
        valuesProto.FloatData.AddRange(nonZero.Select(i => values[i]));
        var indicesProto = new TensorProto { DataType = (int)DataType.Int64 };
        indicesProto.Dims.Add(nonZero.Length);
        indicesProto.Dims.Add(2);
        indicesProto.Int64Data.AddRange(nonZero.SelectMany(i => new long[] { i / columns, i % columns }));
        var sparse = new SparseTensorProto { Values = valuesProto, Indices = indicesProto };
        sparse.Dims.AddRange(weight.Dims);
        return sparse;
    }
}
