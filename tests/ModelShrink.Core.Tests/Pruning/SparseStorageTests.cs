using ModelShrink.Core.Plans;
using System.IO.Compression;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Passes.Pruning;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Protobuf;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Pruning;

/// <summary>How pruned weights are stored: sparse initializers ONNX Runtime loads, sizes measured on disk.</summary>
[TestClass]
public sealed class SparseStorageTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void SparseStorageShrinksTheFileAndOrtComputesBitIdenticalOutputs()
    {
        using var temp = new TempDirectory();

        var dense = Compress("digits-mlp", new PruneOptions { Sparsity = 0.8, Storage = PruneStorage.Dense }, temp);
        var sparse = Compress("digits-mlp", new PruneOptions { Sparsity = 0.8 }, temp);

        var storage = sparse.Passes.Single(p => p.Pass == "sparse-storage").Result.Counters;
        TestContext.WriteLine($"dense {dense.CompressedBytes} B, sparse {sparse.CompressedBytes} B; {string.Join(", ", storage.Select(c => $"{c.Key} {c.Value}"))}");
        Assert.IsLessThan(0.6 * dense.CompressedBytes, sparse.CompressedBytes);
        Assert.AreEqual(1, storage["sparse initializers"]);
        Assert.AreEqual(32768 * 4, storage["bytes as dense"]);
        Assert.AreEqual(6554 * (4 + 2), storage["bytes as sparse"], "6554 float32 values with int16 indices");
        Assert.AreEqual(storage["weight bytes if dense"] - storage["bytes as dense"] + storage["bytes as sparse"], storage["weight bytes on disk"]);
        Assert.DoesNotContain("sparse-storage", dense.Passes.Select(p => p.Pass).ToList());
        foreach (var set in Fixtures.DataSets("digits-mlp"))
        {
            var inputs = Fixtures.Inputs(set);
            CollectionAssert.AreEqual(OrtRunner.Run(dense.Output, inputs)["logits"], OrtRunner.Run(sparse.Output, inputs)["logits"]);
        }

        var weight = ModelReader.Load(sparse.Output).Graph.FindValue("fc2.weight")!;
        Assert.IsNull(weight.Initializer);
        Assert.AreEqual(DataType.Int16, weight.SparseInitializer!.Indices.DataType);
        Assert.AreEqual(26214, PruningHarness.Zeros(weight.SparseInitializer.ToDense().ToArray<float>()));
    }

    [TestMethod]
    public void SparseInt64WritesIndicesTheOnnxCheckerAccepts()
    {
        using var temp = new TempDirectory();

        var result = Compress("digits-mlp", new PruneOptions { Sparsity = 0.9, Storage = PruneStorage.SparseInt64 }, temp);

        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(result.Output));
        var sparse = proto.Graph.SparseInitializer.Single();
        Assert.AreEqual((int)DataType.Int64, sparse.Indices.DataType);
        Assert.AreEqual("fc2.weight", sparse.Values.Name);
        Assert.HasCount(320, OrtRunner.Run(result.Output, Fixtures.Inputs(Fixtures.DataSets("digits-mlp")[0]))["logits"]);
    }

    [TestMethod]
    public void AWeightWhoseSparseFormIsNotSmallerStaysDense()
    {
        using var temp = new TempDirectory();

        // 30% zeros: 70% of the values at 4 + 2 bytes each is more than 4 bytes per weight.
        var result = Compress("digits-mlp", new PruneOptions { Sparsity = 0.3 }, temp);

        var counters = result.Passes.Single(p => p.Pass == "sparse-storage").Result.Counters;
        Assert.AreEqual(0, counters["sparse initializers"]);
        Assert.IsEmpty(ModelReader.Load(result.Output).Graph.SparseInitializers);
    }

    [TestMethod]
    public void PruneThenFp16InOneRunStoresHalfValuesSparselyAndRunsInOrt()
    {
        using var temp = new TempDirectory();

        var result = Compress("digits-mlp", new PruneOptions { Sparsity = 0.9 }, temp, QuantizeMode.Fp16);

        CollectionAssert.AreEqual(new[] { "cleanup", "prune", "fp16", "sparse-storage" }, result.Passes.Select(p => p.Pass).ToArray());
        var weight = ModelReader.Load(result.Output).Graph.FindValue("fc2.weight")!.SparseInitializer!;
        Assert.AreEqual(DataType.Float16, weight.DataType);
        Assert.AreEqual(3277, weight.StoredCount);
        var score = PruningHarness.Score("digits-mlp", result.Output);
        TestContext.WriteLine($"prune 0.9 + fp16: {result.OriginalBytes} -> {result.CompressedBytes} B; {score}");
        Assert.IsGreaterThanOrEqualTo(0.9, score.Agreement);
    }

    // What each storage costs on disk and zipped (a nupkg, an app bundle): the sizes the report quotes.
    [TestMethod]
    [DataRow(0.5)]
    [DataRow(0.75)]
    [DataRow(0.9)]
    public void SparseFilesAreSmallerOnDiskAtHighSparsity(double sparsity)
    {
        using var temp = new TempDirectory();

        var dense = Compress("digits-mlp", new PruneOptions { Sparsity = sparsity, Storage = PruneStorage.Dense }, temp);
        var sparse = Compress("digits-mlp", new PruneOptions { Sparsity = sparsity }, temp);
        var int64 = Compress("digits-mlp", new PruneOptions { Sparsity = sparsity, Storage = PruneStorage.SparseInt64 }, temp);

        TestContext.WriteLine($"digits-mlp {sparsity}: original {dense.OriginalBytes} B (zip {Zipped(Fixtures.Model("digits-mlp"))}); "
            + $"dense {dense.CompressedBytes} (zip {Zipped(dense.Output)}); sparse {sparse.CompressedBytes} (zip {Zipped(sparse.Output)}); "
            + $"sparse int64 {int64.CompressedBytes} (zip {Zipped(int64.Output)})");
        Assert.IsLessThanOrEqualTo(dense.CompressedBytes, sparse.CompressedBytes);
        Assert.IsLessThanOrEqualTo(dense.CompressedBytes, int64.CompressedBytes);
        if (sparsity >= 0.75)
        {
            Assert.IsLessThan(dense.CompressedBytes, sparse.CompressedBytes);
            Assert.IsLessThan(int64.CompressedBytes, sparse.CompressedBytes);
        }
    }

    [TestMethod]
    public void PruningComesAfterTheCleanUpAndBeforeQuantizationAndStorageComesLast()
    {
        var names = PipelineFactory.Create(new CompressionOptions { Quantize = QuantizeMode.Fp16, Prune = new PruneOptions(), Cleanup = new() { UseOrtOptimizer = true } })
            .Passes.Select(p => p.Name).ToArray();
        var dense = PipelineFactory.Create(new CompressionOptions { Prune = new PruneOptions { Storage = PruneStorage.Dense } }).Passes.Select(p => p.Name).ToArray();
        var none = PipelineFactory.Create(new CompressionOptions()).Passes.Select(p => p.Name).ToArray();

        CollectionAssert.AreEqual(new[] { "cleanup", "ort-optimize", "prune", "fp16", "sparse-storage" }, names);
        CollectionAssert.AreEqual(new[] { "cleanup", "prune" }, dense);
        CollectionAssert.AreEqual(new[] { "cleanup" }, none);
    }

    private static CompressionResult Compress(string fixture, PruneOptions prune, TempDirectory temp, QuantizeMode quantize = QuantizeMode.None) =>
        Compressor.Run(Fixtures.Model(fixture), temp.File($"{fixture}.{Guid.NewGuid().ToString("N")[..6]}.onnx"), new CompressionOptions { Prune = prune, Quantize = quantize });

    private static long Zipped(string path)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            using var entry = zip.CreateEntry("model.onnx", CompressionLevel.Optimal).Open();
            using var file = File.OpenRead(path);
            file.CopyTo(entry);
        }

        return buffer.Length;
    }
}
