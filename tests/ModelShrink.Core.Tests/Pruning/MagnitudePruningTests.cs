using ModelShrink.Core.Passes.Pruning;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Pruning;

/// <summary>Magnitude pruning: exact sparsity per layer and globally, which layers are pruned, every graph shape.</summary>
[TestClass]
public sealed class MagnitudePruningTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow("digits-mlp", 0.3, new[] { "/fc2/Gemm" })]
    [DataRow("digits-mlp", 0.9, new[] { "/fc2/Gemm" })]
    [DataRow("digits-cnn", 0.5, new[] { "/conv2/Conv", "/conv3/Conv", "/fc1/Gemm" })]
    [DataRow("digits-cnn", 0.75, new[] { "/conv2/Conv", "/conv3/Conv", "/fc1/Gemm" })]
    [DataRow("digits-transformer", 0.6, new[] { "/blocks.0/fc1/MatMul", "/blocks.1/fc2/MatMul" })]
    public void EachPrunedLayerHasExactlyTheRequestedShareOfZeros(string fixture, double sparsity, string[] layers)
    {
        using var temp = new TempDirectory();

        var pruned = PruningHarness.Prune(fixture, new PruneOptions { Sparsity = sparsity }, temp);

        foreach (var layer in layers)
        {
            var weight = PruningHarness.Weight(pruned.Model, PruningHarness.WeightOf(pruned.Model, layer));
            var zeros = PruningHarness.Zeros(weight);
            TestContext.WriteLine($"{fixture} {layer}: {zeros}/{weight.Length} zeros = {zeros / (double)weight.Length:P3}");
            Assert.AreEqual((long)Math.Round(sparsity * weight.Length, MidpointRounding.AwayFromZero), zeros, layer);
        }

        Assert.AreEqual(pruned.Counter("weights zeroed"), pruned.Counter("zeros in pruned layers"), "the fixtures have no zeros of their own");
    }

    [TestMethod]
    public void PrunedWeightsAreTheSmallestOfTheirLayerAndTheRestAreUnchanged()
    {
        using var temp = new TempDirectory();
        var original = ModelReader.Load(Fixtures.Model("digits-mlp"));

        var pruned = PruningHarness.Prune("digits-mlp", new PruneOptions { Sparsity = 0.4 }, temp);

        var before = PruningHarness.Weight(original, "fc2.weight");
        var after = PruningHarness.Weight(pruned.Model, "fc2.weight");
        var largestZeroed = before.Where((_, i) => after[i] == 0).Max(Math.Abs);
        var smallestKept = before.Where((_, i) => after[i] != 0).Min(Math.Abs);
        Assert.IsLessThanOrEqualTo(smallestKept, largestZeroed);
        Assert.IsTrue(before.Zip(after).All(p => p.Second == 0 || p.First == p.Second), "a kept weight changed");
    }

    [TestMethod]
    [DataRow(0.5)]
    [DataRow(0.8)]
    public void GlobalScopeReachesTheSparsityAcrossLayersWithOneThreshold(double sparsity)
    {
        using var temp = new TempDirectory();
        var original = ModelReader.Load(Fixtures.Model("digits-cnn"));
        string[] layers = ["/conv2/Conv", "/conv3/Conv", "/fc1/Gemm"];

        var pruned = PruningHarness.Prune("digits-cnn", new PruneOptions { Sparsity = sparsity, Scope = PruneScope.Global }, temp);

        var pairs = layers.Select(l => PruningHarness.WeightOf(original, l))
            .Select(w => (Before: PruningHarness.Weight(original, w), After: PruningHarness.Weight(pruned.Model, w))).ToList();
        var total = pairs.Sum(p => p.After.Length);
        var zeros = pairs.Sum(p => PruningHarness.Zeros(p.After));
        var largestZeroed = pairs.SelectMany(p => p.Before.Where((_, i) => p.After[i] == 0)).Max(Math.Abs);
        var smallestKept = pairs.SelectMany(p => p.Before.Where((_, i) => p.After[i] != 0)).Min(Math.Abs);
        TestContext.WriteLine(string.Join(", ", pairs.Select((p, i) => $"{layers[i]} {PruningHarness.Zeros(p.After) / (double)p.After.Length:P1}")) + $"; all {zeros / (double)total:P3}");
        Assert.AreEqual((long)Math.Round(sparsity * total, MidpointRounding.AwayFromZero), zeros);
        Assert.IsLessThanOrEqualTo(smallestKept, largestZeroed, "one threshold across the layers");
        Assert.AreNotEqual(PruningHarness.Zeros(pairs[0].After) / (double)pairs[0].After.Length, PruningHarness.Zeros(pairs[2].After) / (double)pairs[2].After.Length, 1e-3,
            "layers of different scales end up with different sparsities");
    }

    [TestMethod]
    public void FirstAndLastLayersAreKeptByDefaultAndNamedInAWarning()
    {
        using var temp = new TempDirectory();

        var pruned = PruningHarness.Prune("digits-cnn", new PruneOptions { Sparsity = 0.5 }, temp);

        Assert.AreEqual(0, PruningHarness.Zeros(PruningHarness.Weight(pruned.Model, "onnx::Conv_35")), "conv1 (first)");
        Assert.AreEqual(0, PruningHarness.Zeros(PruningHarness.Weight(pruned.Model, "fc2.weight")), "fc2 (last)");
        Assert.AreEqual(2, pruned.Counter("layers kept (first/last)"));
        Assert.AreEqual(3, pruned.Counter("layers pruned"));
        var warning = pruned.Context.Diagnostics.Single(d => d.Code == ErrorCodes.PruneEndsKept);
        TestContext.WriteLine(warning.ToString());
        StringAssert.Contains(warning.Message, "/conv1/Conv (first)");
        StringAssert.Contains(warning.Message, "/fc2/Gemm (last)");
        Assert.AreEqual(DiagnosticSeverity.Warning, warning.Severity);
    }

    [TestMethod]
    public void WithoutKeepingTheEndsAndWithoutAMinimumEveryLayerIsPruned()
    {
        using var temp = new TempDirectory();

        var pruned = PruningHarness.Prune("digits-cnn", new PruneOptions { Sparsity = 0.5, KeepFirstAndLast = false, MinLayerSize = 0 }, temp);

        Assert.AreEqual(5, pruned.Counter("layers pruned"));
        Assert.AreEqual(72, PruningHarness.Zeros(PruningHarness.Weight(pruned.Model, "onnx::Conv_35")));
        Assert.AreEqual(320, PruningHarness.Zeros(PruningHarness.Weight(pruned.Model, "fc2.weight")));
        Assert.DoesNotContain(ErrorCodes.PruneEndsKept, pruned.Codes.ToList());
    }

    [TestMethod]
    public void SkippedNodesAndLayersBelowTheMinimumSizeStayDense()
    {
        using var temp = new TempDirectory();

        var pruned = PruningHarness.Prune("digits-cnn", new PruneOptions { Sparsity = 0.5, SkipNodes = ["/conv3/Conv", "/no/such/node"], MinLayerSize = 5000 }, temp);

        Assert.AreEqual(0, PruningHarness.Zeros(PruningHarness.Weight(pruned.Model, "conv3.weight")), "skipped by name");
        Assert.AreEqual(0, PruningHarness.Zeros(PruningHarness.Weight(pruned.Model, "onnx::Conv_38")), "4608 weights < 5000");
        Assert.AreEqual(16384, PruningHarness.Zeros(PruningHarness.Weight(pruned.Model, "fc1.weight")));
        Assert.AreEqual(1, pruned.Counter("layers skipped (by name)"));
        Assert.AreEqual(1, pruned.Counter("layers below min size"));
        var unknown = pruned.Context.Diagnostics.Single(d => d.Code == ErrorCodes.PruneNodeNotFound);
        StringAssert.Contains(unknown.Message, "'/no/such/node'");
    }

    [TestMethod]
    public void APerLayerSparsityOverridesTheCommonOneAndPrunesEvenAnEndLayer()
    {
        using var temp = new TempDirectory();
        var options = new PruneOptions
        {
            Sparsity = 0.5,
            LayerSparsity = new Dictionary<string, double> { ["/fc1/Gemm"] = 0.9, ["/fc3/Gemm"] = 0.25 },
        };

        var pruned = PruningHarness.Prune("digits-mlp", options, temp);

        Assert.AreEqual(14746, PruningHarness.Zeros(PruningHarness.Weight(pruned.Model, "fc1.weight")), "round(0.9 * 16384) = 14746");
        Assert.AreEqual(16384, PruningHarness.Zeros(PruningHarness.Weight(pruned.Model, "fc2.weight")));
        Assert.AreEqual(320, PruningHarness.Zeros(PruningHarness.Weight(pruned.Model, "fc3.weight")));
        Assert.AreEqual(3, pruned.Counter("layers pruned"));
    }

    [TestMethod]
    [DataRow("digits-mlp", 0.3)]
    [DataRow("digits-cnn", 0.3)]
    [DataRow("digits-transformer", 0.3)]
    [DataRow("digits-lstm", 0.3)]
    public void LowSparsityModelsRunInOrtAndKeepAgreementAbove99Percent(string fixture, double sparsity)
    {
        using var temp = new TempDirectory();

        var pruned = PruningHarness.Prune(fixture, new PruneOptions { Sparsity = sparsity }, temp);
        var score = PruningHarness.Score(fixture, pruned.Path);

        TestContext.WriteLine($"{fixture} at {sparsity}: {score}; {string.Join(", ", pruned.Result.Counters.Select(c => $"{c.Key} {c.Value}"))}");
        Assert.IsGreaterThanOrEqualTo(0.99, score.Agreement);
    }

    [TestMethod]
    public void IfBranchesSharingOuterWeightsArePrunedOnceAndBothBranchesRun()
    {
        using var temp = new TempDirectory();

        var pruned = PruningHarness.Prune("digits-cnn-if", new PruneOptions { Sparsity = 0.5 }, temp);

        Assert.AreEqual(3, pruned.Counter("layers pruned"), "conv2, conv3, fc1: each weight once for both branches");
        Assert.AreEqual(2, pruned.Counter("layers kept (first/last)"));
        Assert.AreEqual(16384, PruningHarness.Zeros(PruningHarness.Weight(pruned.Model, "fc1.weight")));
        foreach (var useCnn in new[] { true, false })
        {
            var set = Fixtures.DataSets("digits-cnn-if")[0];
            var inputs = Fixtures.Inputs(set).Select(t => t.DataType == DataType.Bool ? Tensor.FromArray<bool>(t.Name, [], [useCnn]) : t).ToArray();
            var expected = OrtRunner.Run(Fixtures.Model("digits-cnn-if"), inputs)["logits"];
            var actual = OrtRunner.Run(pruned.Path, inputs)["logits"];
            Assert.HasCount(expected.Length, actual);
            Assert.IsGreaterThanOrEqualTo(0.9, OrtRunner.ArgMax(expected, 10).Zip(OrtRunner.ArgMax(actual, 10)).Count(p => p.First == p.Second) / 32.0, $"branch {useCnn}");
        }
    }

    [TestMethod]
    public void WeightsInConstantNodesArePruned()
    {
        using var temp = new TempDirectory();

        var pruned = PruningHarness.Prune("digits-mlp-constants", new PruneOptions { Sparsity = 0.5 }, temp);

        Assert.AreEqual(1, pruned.Counter("layers pruned"));
        Assert.AreEqual(16384, PruningHarness.Zeros(PruningHarness.Weight(pruned.Model, "fc2.weight")));
        Assert.IsTrue(pruned.Model.Graph.FindValue("fc2.weight")!.Producer!.IsConstant, "still a Constant node");
        Assert.IsGreaterThanOrEqualTo(0.95, PruningHarness.Score("digits-mlp-constants", pruned.Path).Agreement);
    }

    [TestMethod]
    public void WeightsListedAsGraphInputsStayDenseWithAWarning()
    {
        using var temp = new TempDirectory();

        var pruned = PruningHarness.Prune("digits-mlp-inputs", new PruneOptions { Sparsity = 0.5 }, temp);

        Assert.AreEqual(0, pruned.Counter("layers pruned"));
        Assert.AreEqual(0, PruningHarness.Zeros(PruningHarness.Weight(pruned.Model, "fc2.weight")));
        CollectionAssert.IsSubsetOf(new[] { ErrorCodes.PruneWeightIsGraphInput, ErrorCodes.PruneNothingPruned }, pruned.Codes.ToList());
        Assert.IsFalse(pruned.Result.Modified);
    }

    [TestMethod]
    public void TiesAtTheThresholdAreBrokenByPositionSoTheCountIsExact()
    {
        using var temp = new TempDirectory();
        // 4096 weights of only 4 magnitudes: any threshold cuts through a run of equal values.
        var values = Enumerable.Range(0, 4096).Select(i => (i % 4 + 1) * (i % 2 == 0 ? 0.5f : -0.5f)).ToArray();
        var model = PruningHarness.SingleLayer("MatMul", Tensor.FromArray<float>("w", [64, 64], values), 64);

        var pruned = PruningHarness.PruneModel(model, "ties", new PruneOptions { Sparsity = 0.3, KeepFirstAndLast = false }, temp);

        var after = PruningHarness.Weight(pruned.Model, "w");
        Assert.AreEqual(1229, PruningHarness.Zeros(after), "round(0.3 * 4096)");
        Assert.IsTrue(after.Where((v, i) => v == 0).Count() == after.Where((v, i) => v == 0 && Math.Abs(values[i]) <= 1f).Count());
        var zeroedTies = Enumerable.Range(0, 4096).Where(i => Math.Abs(values[i]) == 1f && after[i] == 0).ToArray();
        CollectionAssert.AreEqual(Enumerable.Range(0, 4096).Where(i => Math.Abs(values[i]) == 1f).Take(zeroedTies.Length).ToArray(), zeroedTies, "the earliest ties go");
    }

    [TestMethod]
    public void GlobalSelectionIsExactAcrossChunksAndLayersWithTiesGoingInLayerThenIndexOrder()
    {
        // Two layers of 3.1M and 1M weights (several 1M-element chunks) over five magnitudes: the
        // threshold falls inside a run of equal values spread over every chunk of both layers.
        var model = Onnx.Ir.Model.Create("two", 8, ("", 17));
        var g = model.Graph;
        var x = g.AddInput("x", Onnx.Ir.TensorType.Of(DataType.Float, "N", 1536));
        float Level(int i) => ((i * 7919) % 5 + 1) * 0.1f * (i % 3 == 0 ? -1 : 1);
        var w1 = Enumerable.Range(0, 1536 * 2048).Select(Level).ToArray();
        var w2 = Enumerable.Range(0, 2048 * 512).Select(i => Level(i + 1)).ToArray();
        var h = g.AddNode("MatMul", [x, g.AddInitializer(Tensor.FromArray<float>("w1", [1536, 2048], w1))], ["h"], name: "mm1").Outputs[0]!;
        g.Outputs.Add(g.AddNode("MatMul", [h, g.AddInitializer(Tensor.FromArray<float>("w2", [2048, 512], w2))], ["y"], name: "mm2").Outputs[0]!);
        var context = new Passes.PassContext("two");

        new PrunePass(new PruneOptions { Sparsity = 0.5, Scope = PruneScope.Global, KeepFirstAndLast = false }).Run(model, context);

        var a1 = g.FindValue("w1")!.Initializer!.ToArray<float>();
        var a2 = g.FindValue("w2")!.Initializer!.ToArray<float>();
        var before = w1.Concat(w2).ToArray();
        var after = a1.Concat(a2).ToArray();
        Assert.AreEqual((long)Math.Round(0.5 * before.Length, MidpointRounding.AwayFromZero), after.LongCount(v => v == 0));
        var tieLevel = before.Where((v, i) => after[i] == 0).Max(Math.Abs);
        var ties = Enumerable.Range(0, before.Length).Where(i => Math.Abs(before[i]) == tieLevel).ToArray();
        var zeroedTies = ties.Count(i => after[i] == 0);
        Assert.IsTrue(zeroedTies > 0 && zeroedTies < ties.Length, "the threshold splits a run of equal values");
        Assert.IsTrue(ties.Take(zeroedTies).All(i => after[i] == 0) && ties.Skip(zeroedTies).All(i => after[i] != 0), "the earliest ties go");
        Assert.IsTrue(Enumerable.Range(0, before.Length).All(i => Math.Abs(before[i]) < tieLevel ? after[i] == 0 : Math.Abs(before[i]) > tieLevel ? after[i] == before[i] : true));
    }

    [TestMethod]
    public void LargeGatherTablesArePrunedOnlyOnRequest()
    {
        using var temp = new TempDirectory();
        var table = Tensor.FromArray<float>("table", [256, 32], PruningHarness.RandomValues(256 * 32, 5));

        var plain = PruningHarness.PruneModel(PruningHarness.SingleLayer("Gather", table, 4), "gather", new PruneOptions { Sparsity = 0.5 }, temp);
        var asked = PruningHarness.PruneModel(PruningHarness.SingleLayer("Gather", table, 4), "gather", new PruneOptions { Sparsity = 0.5, IncludeGather = true }, temp);

        Assert.AreEqual(0, PruningHarness.Zeros(PruningHarness.Weight(plain.Model, "table")));
        Assert.AreEqual(4096, PruningHarness.Zeros(PruningHarness.Weight(asked.Model, "table")), "a table is never a first or last layer");
    }

    [TestMethod]
    public void Float16WeightsArePrunedInTheirOwnType()
    {
        using var temp = new TempDirectory();
        var values = PruningHarness.RandomValues(128 * 64, 9).Select(v => (Half)v).ToArray();
        var model = PruningHarness.SingleLayer("MatMul", Tensor.FromArray<Half>("w", [128, 64], values), 128);

        var pruned = PruningHarness.PruneModel(model, "half", new PruneOptions { Sparsity = 0.75, KeepFirstAndLast = false }, temp);

        var tensor = pruned.Model.Graph.FindValue("w")!.Initializer!;
        Assert.AreEqual(DataType.Float16, tensor.DataType);
        Assert.AreEqual(6144, tensor.ToArray<Half>().Count(h => h == Half.Zero));
    }

    [TestMethod]
    [DataRow(1.0, "Sparsity")]
    [DataRow(-0.1, "Sparsity")]
    public void OutOfRangeOptionsAreRefusedWithMsh2400(double sparsity, string setting)
    {
        var error = Assert.ThrowsExactly<ModelShrinkException>(() => new PrunePass(new PruneOptions { Sparsity = sparsity }));

        Assert.AreEqual(ErrorCodes.PruneInvalidOption, error.Diagnostic.Code);
        Assert.AreEqual(setting, error.Diagnostic.Setting);
    }

    [TestMethod]
    public void InvalidCombinationsAreRefusedWithMsh2400()
    {
        Assert.AreEqual(ErrorCodes.PruneInvalidOption, Assert.ThrowsExactly<ModelShrinkException>(() => new PrunePass(new PruneOptions { Method = PruneMethod.NM, N = 4, M = 4 })).Diagnostic.Code);
        Assert.AreEqual(ErrorCodes.PruneInvalidOption, Assert.ThrowsExactly<ModelShrinkException>(() => new PrunePass(new PruneOptions { Method = PruneMethod.Channels, Scope = PruneScope.Global })).Diagnostic.Code);
        Assert.AreEqual(ErrorCodes.PruneInvalidOption, Assert.ThrowsExactly<ModelShrinkException>(() => new PrunePass(new PruneOptions { LayerSparsity = new Dictionary<string, double> { ["a"] = 2 } })).Diagnostic.Code);
    }
}
