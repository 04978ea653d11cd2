using ModelShrink.Core.Compression;
using ModelShrink.Core.Passes.Pruning;
using ModelShrink.Core.Passes.Pruning.Channels;
using ModelShrink.Core.Passes.Reconstruction;
using ModelShrink.Core.Plans;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Testing;
using static ModelShrink.Core.Tests.Reconstruction.ReconstructionHarness;

namespace ModelShrink.Core.Tests.Pruning;

/// <summary>
/// Channel pruning with <c>Reconstruct=Layerwise</c>: the channels are chosen on the data and the layers reading
/// them refit by least squares, so those layers' outputs stay closer to the original's than with weight norms alone.
/// </summary>
[TestClass]
public sealed class ChannelRefitTests
{
    public TestContext TestContext { get; set; } = null!;

    // One group pruned at a time, so every reader's output keeps its shape and can be compared with the original's.
    [TestMethod]
    [DataRow("digits-cnn")]
    [DataRow("digits-mlp")]
    public void RefitLowersEachReadersHeldOutErrorAgainstNormsAlone(string fixture)
    {
        using var temp = new TempDirectory();
        var (calibration, heldOut) = Split(fixture, temp);
        var source = Fixtures.Model(fixture);
        var original = ModelReader.Load(source);
        var layers = original.Graph.Nodes.Where(n => n.OpType is "Conv" or "Gemm").Select(n => n.Name).ToList();
        var compared = 0;
        foreach (var producer in layers.SkipLast(1))
        {
            var prune = new PruneOptions
            {
                Method = PruneMethod.Channels,
                Sparsity = 0.5,
                KeepFirstAndLast = false,
                MinLayerSize = 0,
                SkipNodes = layers.Where(l => l != producer).ToList(),
            };
            var byNorm = temp.File($"{producer}.norm.onnx");
            var refit = temp.File($"{producer}.refit.onnx");
            Compressor.Run(source, byNorm, new CompressionOptions { Prune = prune });
            var result = Compressor.Run(source, refit, new CompressionOptions { Prune = prune, Reconstruct = ReconstructMode.Layerwise, ReconstructData = calibration });

            var readers = Readers(original, ModelReader.Load(refit));
            var counters = result.Passes.Single(p => p.Pass == "prune").Result.Counters;
            Assert.AreEqual(readers.Count, counters[ChannelPruner.LayersRefit], $"{producer}: every layer reading the removed channels is refit");
            Assert.AreEqual(1, counters[ChannelPruner.GroupsChosenOnData], $"{producer}: the channels are chosen on the data");

            // Each reader's output against the original's, on data the refit never saw, from ONNX Runtime.
            var outputs = readers.Select(r => r.Outputs[0]!.Name).ToList();
            var teacher = Outputs(original, outputs, heldOut);
            var before = Errors(teacher, Outputs(ModelReader.Load(byNorm), outputs, heldOut));
            var after = Errors(teacher, Outputs(ModelReader.Load(refit), outputs, heldOut));
            foreach (var output in outputs)
            {
                TestContext.WriteLine($"{fixture} {producer} -> {output}: rmse by norm {before[output].Rmse:G4}, chosen on data and refit {after[output].Rmse:G4}");
                Assert.IsLessThan(before[output].Rmse, after[output].Rmse, $"{producer} -> {output}: refit lowers the held-out error");
            }

            compared += outputs.Count;
        }

        Assert.IsGreaterThanOrEqualTo(2, compared);
    }

    // The heads of block 0 alone, so the output projection's input at the kept heads is the original's.
    [TestMethod]
    public void AttentionHeadsAreChosenOnTheDataAndTheOutputProjectionIsRefit()
    {
        using var temp = new TempDirectory();
        const string fixture = "digits-transformer";
        var (calibration, heldOut) = Split(fixture, temp);
        var source = Fixtures.Model(fixture);
        var original = ModelReader.Load(source);
        var group = new[] { "/blocks.0/q/MatMul", "/blocks.0/k/MatMul", "/blocks.0/v/MatMul" };
        var prune = new PruneOptions
        {
            Method = PruneMethod.Channels,
            Sparsity = 0.5,
            SkipNodes = original.Graph.Nodes.Where(n => n.OpType is "MatMul" or "Gemm" && !group.Contains(n.Name)).Select(n => n.Name).ToList(),
        };
        var byNorm = temp.File("norm.onnx");
        var refit = temp.File("refit.onnx");
        Compressor.Run(source, byNorm, new CompressionOptions { Prune = prune });
        var result = Compressor.Run(source, refit, new CompressionOptions { Prune = prune, Reconstruct = ReconstructMode.Layerwise, ReconstructData = calibration });

        var counters = result.Passes.Single(p => p.Pass == "prune").Result.Counters;
        Assert.AreEqual(2, counters[ChannelPruner.HeadsRemoved]);
        Assert.AreEqual(1, counters[ChannelPruner.GroupsChosenOnData], "the heads are chosen by what the output projection loses");
        Assert.AreEqual(1, counters[ChannelPruner.LayersRefit], "the output projection is refit");
        const string output = "/blocks.0/o/MatMul_output_0";
        var teacher = Outputs(original, [output], heldOut);
        var before = Errors(teacher, Outputs(ModelReader.Load(byNorm), [output], heldOut))[output];
        var after = Errors(teacher, Outputs(ModelReader.Load(refit), [output], heldOut))[output];
        var normScore = PruningHarness.Score(fixture, byNorm);
        var refitScore = PruningHarness.Score(fixture, refit);
        TestContext.WriteLine($"{fixture}, half the heads of block 0: output projection rmse by norm {before.Rmse:G4}, chosen on data and refit {after.Rmse:G4}; "
            + $"by norm {normScore}; refit {refitScore}; {string.Join(", ", counters.Where(c => c.Key.StartsWith(ChannelPruner.HeadsRemovedAt, StringComparison.Ordinal)).Select(c => c.Key))}");
        Assert.IsLessThan(before.Rmse, after.Rmse, "refit lowers the output projection's held-out error");
    }

    [TestMethod]
    public void WithoutLayerwiseReconstructionNothingIsRefit()
    {
        using var temp = new TempDirectory();
        var result = Compressor.Run(Fixtures.Model("digits-cnn"), temp.File("pruned.onnx"), new CompressionOptions { Prune = new PruneOptions { Method = PruneMethod.Channels, Sparsity = 0.3 } });
        var counters = result.Passes.Single(p => p.Pass == "prune").Result.Counters;
        Assert.AreEqual(0, counters[ChannelPruner.LayersRefit]);
        Assert.AreEqual(0, counters[ChannelPruner.GroupsChosenOnData]);
        Assert.IsGreaterThan(0, counters["channels removed"]);
    }

    // The layers whose weight lost input columns (axis 1) and kept their output channels (axis 0).
    private static List<Node> Readers(Model original, Model pruned)
    {
        var before = original.Graph.Nodes.ToDictionary(n => n.Name);
        return pruned.Graph.Nodes.Where(n => n.OpType is "Conv" or "Gemm" && before.ContainsKey(n.Name)).Where(n =>
        {
            var was = Dims(before[n.Name]);
            var now = Dims(n);
            return now[0] == was[0] && now[1] < was[1];
        }).ToList();
    }

    // Gemm weights of these fixtures are [out, in] (transB=1), like Conv's [out, in, kH, kW].
    private static long[] Dims(Node node) => node.Inputs[1]!.ConstantTensor!.Dims.ToArray();
}
