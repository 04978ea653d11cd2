using ModelShrink.Core.Passes.Cleanup;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Cleanup;

[TestClass]
public sealed class DeduplicateInitializersTests
{
    [TestMethod]
    public void AByteForByteCopyOfAWeightIsMergedAndANearCopyIsNot()
    {
        using var temp = new TempDirectory();
        var model = ModelReader.Load(Fixtures.Model("digits-mlp"));
        var graph = model.Graph;
        var gemm = graph.Nodes.Where(n => n.Is("Gemm")).ElementAt(1);
        var original = gemm.Inputs[1]!;
        var tensor = original.Initializer!;

        // A separate copy of the bytes under another name, read by the Gemm instead of the original...
        var copy = graph.AddInitializer(Tensor.FromRawData("fc2.weight_copy", tensor.DataType, tensor.Dims.ToArray(), tensor.GetRawData().ToArray()));
        gemm.SetInput(1, copy);

        // ...and one that differs in a single element (same type and shape), read by nobody.
        var values = tensor.ToArray<float>();
        values[^1] += 1f;
        var nearCopy = graph.AddInitializer(Tensor.FromArray("fc2.weight_near", tensor.Dims.ToArray(), values));
        Assert.HasCount(8, graph.Initializers);
        Assert.IsEmpty(original.Uses);

        var result = new DeduplicateInitializersPass().Run(model, OrtCompare.Context());

        Assert.AreEqual(1L, result.Counters["duplicates merged"]);
        Assert.HasCount(7, graph.Initializers);
        Assert.AreSame(original, gemm.Inputs[1], "the reader is rewired to the first copy");
        Assert.IsNull(graph.FindValue("fc2.weight_copy"));
        Assert.AreSame(nearCopy, graph.FindValue("fc2.weight_near"));
        OrtCompare.SameAsFixture("digits-mlp", OrtCompare.Save(model, temp));
    }

    [TestMethod]
    public void LargeWeightsThatDifferOnlyAfterTheirFirstBytesAreKept()
    {
        // 1 MB each: the pass groups by the first 64 KB and must still tell these apart by the rest.
        var model = ModelReader.Load(Fixtures.Model("digits-mlp"));
        var graph = model.Graph;
        var values = Enumerable.Range(0, 256 * 1024).Select(i => MathF.Sin(i)).ToArray();
        var first = graph.AddInitializer(Tensor.FromArray<float>("large", [512, 512], values));
        graph.AddInitializer(Tensor.FromArray<float>("large_copy", [512, 512], values));
        values[^1] += 1f;
        var near = graph.AddInitializer(Tensor.FromArray<float>("large_near", [512, 512], values));

        var result = new DeduplicateInitializersPass().Run(model, OrtCompare.Context());

        Assert.AreEqual(1L, result.Counters["duplicates merged"]);
        Assert.AreSame(first, graph.FindValue("large"));
        Assert.IsNull(graph.FindValue("large_copy"));
        Assert.AreSame(near, graph.FindValue("large_near"));
    }

    [TestMethod]
    public void ABranchCopyOfAnOuterWeightMergesOutwardButSiblingBranchesKeepTheirOwn()
    {
        using var temp = new TempDirectory();
        var model = ModelReader.Load(Fixtures.Model("digits-cnn-if"));
        var branches = model.Graph.Nodes.Single(n => n.Is("If")).Subgraphs.ToArray();
        var conv = branches[0].Nodes.First(n => n.Is("Conv"));
        var outer = conv.Inputs[1]!;
        var tensor = outer.Initializer!;

        // The then-branch gets its own copy of the outer Conv weight.
        var inner = branches[0].AddInitializer(Tensor.FromRawData("branch_conv_weight", tensor.DataType, tensor.Dims.ToArray(), tensor.GetRawData().ToArray()));
        conv.SetInput(1, inner);

        // Both branches get an identical tensor that the main graph does not have.
        var siblings = branches.Select((b, i) => b.AddInitializer(Tensor.FromArray($"branch_{i}_table", [4], [0.5f, 1.5f, 2.5f, 3.5f]))).ToArray();

        var result = new DeduplicateInitializersPass().Run(model, OrtCompare.Context());

        Assert.AreEqual(1L, result.Counters["duplicates merged"]);
        Assert.AreSame(outer, conv.Inputs[1], "merged into the copy of the enclosing graph");
        Assert.HasCount(1, branches[0].Initializers);
        Assert.HasCount(1, branches[1].Initializers);
        CollectionAssert.AreEqual(siblings, branches.Select(b => b.Initializers[0]).ToArray(), "a sibling branch cannot see the other's value");
        OrtCompare.SameAsFixture("digits-cnn-if", OrtCompare.Save(model, temp));
    }

    [TestMethod]
    public void InitializersListedAsGraphInputsAreNeverMerged()
    {
        var model = ModelReader.Load(Fixtures.Model("digits-mlp-inputs"));
        var graph = model.Graph;
        var weight = graph.Inputs.First(v => v.Initializer is not null);
        var tensor = weight.Initializer!;
        var copy = graph.AddInitializer(Tensor.FromRawData("copy_of_input", tensor.DataType, tensor.Dims.ToArray(), tensor.GetRawData().ToArray()));
        var reader = weight.Uses[0].Node;
        reader.SetInput(weight.Uses[0].InputIndex, copy);

        var result = new DeduplicateInitializersPass().Run(model, OrtCompare.Context());

        Assert.AreEqual(0L, result.Counters["duplicates merged"], "a caller may feed the input another value");
        Assert.AreSame(copy, reader.Inputs.First(v => v == copy));
    }
}
