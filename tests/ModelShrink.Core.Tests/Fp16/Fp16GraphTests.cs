using ModelShrink.Core.Passes.Types;
using ModelShrink.Core.Passes.Fp16;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Testing;
using static ModelShrink.Core.Tests.Fp16.ProtoModels;

namespace ModelShrink.Core.Tests.Fp16;

/// <summary>What the converted graphs look like: weights in every form, subgraphs, attributes, Casts.</summary>
[TestClass]
public sealed class Fp16GraphTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void IfBranchesReadTheOuterWeightsConvertedOnceAndShareOneInputCast()
    {
        using var temp = new TempDirectory();

        var converted = Fp16Harness.Convert("digits-cnn-if", temp);

        var graph = converted.Model.Graph;
        Assert.IsTrue(graph.Initializers.All(v => v.Initializer!.DataType == DataType.Float16));
        var branches = graph.Nodes.Single(n => n.Is("If")).Subgraphs.ToList();
        Assert.HasCount(2, branches);
        Assert.IsTrue(branches.All(b => b.Nodes.All(n => !n.Is("Cast"))), "a branch holds a Cast");
        Assert.IsTrue(graph.Initializers.All(w => w.Uses.All(u => !u.Node.Is("Cast"))), "a weight is read through a Cast");
        var inputCasts = graph.FindValue("input")!.Uses.Select(u => u.Node).Distinct().ToList();
        Assert.HasCount(1, inputCasts);
        Assert.IsTrue(inputCasts[0].Is("Cast") && inputCasts[0].Graph == graph);

        // Both branches run: flip use_cnn.
        var flipped = Fp16Harness.Compare("digits-cnn-if", converted.Path,
            t => t.DataType == DataType.Bool ? Tensor.FromArray(t.Name, t.Dims.ToArray(), t.ToArray<bool>().Select(b => !b).ToArray()) : t);
        TestContext.WriteLine($"other branch: {flipped}");
        Assert.IsGreaterThanOrEqualTo(0.99, flipped.Agreement);
    }

    [TestMethod]
    public void ConstantNodesHoldFloat16Tensors()
    {
        using var temp = new TempDirectory();

        var converted = Fp16Harness.Convert("digits-mlp-constants", temp);

        var constants = converted.Model.Graph.Nodes.Where(n => n.IsConstant).ToList();
        Assert.HasCount(6, constants);
        Assert.IsTrue(constants.All(c => c.ConstantValue()!.DataType == DataType.Float16));
        Assert.IsEmpty(converted.Model.Graph.Initializers);
        Assert.AreEqual(6L, converted.Result.Counters[Fp16Pass.WeightsConverted]);
    }

    [TestMethod]
    public void LstmLayerNormalizationAndSoftmaxReadFloat16()
    {
        using var temp = new TempDirectory();

        var lstm = Fp16Harness.Convert("digits-lstm", temp).Model;
        var transformer = Fp16Harness.Convert("digits-transformer", temp).Model;

        var lstmTypes = ElementTypeInference.Infer(lstm);
        var node = lstm.Graph.Nodes.Single(n => n.Is("LSTM"));
        var floatInputs = node.Inputs.Where((v, i) => v is not null && i != 4).ToList(); // 4: sequence_lens (int32)
        Assert.IsTrue(floatInputs.All(v => lstmTypes[v!] == DataType.Float16), string.Join(", ", floatInputs.Select(v => $"{v}:{lstmTypes[v!]}")));
        Assert.IsTrue(node.Outputs.OfType<Value>().All(v => lstmTypes[v] == DataType.Float16));

        var types = ElementTypeInference.Infer(transformer);
        var norms = transformer.Graph.Nodes.Where(n => n.Is("LayerNormalization")).ToList();
        var softmaxes = transformer.Graph.Nodes.Where(n => n.Is("Softmax")).ToList();
        Assert.IsNotEmpty(norms);
        Assert.IsNotEmpty(softmaxes);
        Assert.IsTrue(norms.All(n => n.Inputs.All(v => types[v!] == DataType.Float16) && types[n.Outputs[0]!] == DataType.Float16));
        Assert.IsTrue(softmaxes.All(n => types[n.Inputs[0]!] == DataType.Float16));
    }

    [TestMethod]
    public void AttributesThatNameFloat32AreRetyped()
    {
        using var temp = new TempDirectory();
        var source = Save(temp, "attributes", Graph("attributes",
        [
            Node("Cast", ["n"], ["a"], Int("to", (long)DataType.Float)),
            Node("Shape", ["x"], ["s"]),
            Node("ConstantOfShape", ["s"], ["c"], TensorAttribute("value", Floats("value", [1], 1.5f))),
            Node("ConstantOfShape", ["s"], ["zeros"]),
            Node("EyeLike", ["x"], ["e"], Int("dtype", (long)DataType.Float)),
            Node("Add", ["x", "a"], ["t1"]), Node("Add", ["t1", "c"], ["t2"]), Node("Add", ["t2", "zeros"], ["t3"]), Node("Add", ["t3", "e"], ["y"]),
        ],
        [Info("x", DataType.Float, 3, 3), Info("n", DataType.Int64, 3, 3)], [Info("y", DataType.Float, 3, 3)]));

        var converted = Fp16Harness.ConvertFile(source, temp);

        var nodes = converted.Model.Graph.Nodes;
        Assert.AreEqual((long)DataType.Float16, nodes.Single(n => n.Is("Cast") && n.Outputs[0]!.Name == "a").GetInt("to", 0));
        Assert.IsTrue(nodes.Where(n => n.Is("ConstantOfShape")).All(n => n.FindAttribute("value")!.Tensor!.DataType == DataType.Float16));
        Assert.AreEqual((long)DataType.Float16, nodes.Single(n => n.Is("EyeLike")).GetInt("dtype", 0));
        Assert.AreEqual(4L, converted.Result.Counters[Fp16Pass.AttributesRetyped]);
        var x = Tensor.FromArray("x", [3, 3], Enumerable.Range(0, 9).Select(i => i * 0.25f).ToArray());
        var n = Tensor.FromArray("n", [3, 3], Enumerable.Range(0, 9).Select(i => (long)i).ToArray());
        Assert.AreEqual(0, Fp16Harness.MaxAbsDiff(source, converted.Path, [x, n]));
    }

    [TestMethod]
    public void RandomGeneratorsStayFloat32ByDefaultAndGetAFloat16DtypeWhenUnblocked()
    {
        // ONNX Runtime's CPU provider has no float16 RandomUniform/RandomNormal, and with no float16
        // input it cannot put its own Casts in front: unblocked, the model does not load on CPU.
        using var temp = new TempDirectory();
        var shape = new Onnx.Protobuf.AttributeProto { Name = "shape", Type = Onnx.Protobuf.AttributeProto.Types.AttributeType.Ints, Ints = { 2, 2 } };
        var source = Save(temp, "random", Graph("random",
        [
            Node("RandomUniform", [], ["u"], shape),
            Node("RandomNormal", [], ["g"], Int("dtype", (long)DataType.Float), shape),
            Node("Add", ["u", "g"], ["t"]), Node("Add", ["t", "x"], ["y"]),
        ],
        [Info("x", DataType.Float, 2, 2)], [Info("y", DataType.Float, 2, 2)]));
        var x = Tensor.FromArray("x", [2, 2], new float[4]);

        var byDefault = Fp16Harness.ConvertFile(source, temp);
        var unblocked = Fp16Harness.ConvertFile(source, temp, new Fp16Options { OpBlockList = [] });

        var nodes = byDefault.Model.Graph.Nodes;
        Assert.AreEqual(-1L, nodes.Single(n => n.Is("RandomUniform")).GetInt("dtype", -1));
        Assert.AreEqual((long)DataType.Float, nodes.Single(n => n.Is("RandomNormal")).GetInt("dtype", 0));
        Assert.HasCount(4, OrtRunner.Run(byDefault.Path, [x])["y"]);
        nodes = unblocked.Model.Graph.Nodes;
        Assert.AreEqual((long)DataType.Float16, nodes.Single(n => n.Is("RandomUniform")).GetInt("dtype", 0));
        Assert.AreEqual((long)DataType.Float16, nodes.Single(n => n.Is("RandomNormal")).GetInt("dtype", 0));
        Assert.AreEqual(DataType.Float16, Fp16Harness.TypeOf(unblocked.Model, nodes.Single(n => n.Outputs[0]!.Name == "t").Outputs[0]!));
        var error = Assert.ThrowsExactly<Microsoft.ML.OnnxRuntime.OnnxRuntimeException>(() => OrtRunner.Run(unblocked.Path, [x]));
        StringAssert.Contains(error.Message, "Could not find an implementation for Random");
    }

    [TestMethod]
    public void CastsOfTheSameValueAreShared()
    {
        using var temp = new TempDirectory();
        var source = Save(temp, "shared", Graph("shared",
        [
            Node("Add", ["x", "k"], ["a"]), Node("Mul", ["x", "k"], ["m"]), Node("Sub", ["x", "k"], ["s"]),
            Node("Neg", ["a"], ["na"]), Node("Abs", ["a"], ["aa"]),
            Node("Concat", ["m", "s", "na", "aa"], ["y"], Int("axis", 0)),
        ],
        [Info("x", DataType.Float, 4)], [Info("y", DataType.Float, 16)], [Floats("k", [], 0.5f)]));

        var converted = Fp16Harness.ConvertFile(source, temp, new Fp16Options { OpBlockList = ["Neg", "Abs"] });

        var graph = converted.Model.Graph;
        var xReaders = graph.FindValue("x")!.Uses.Select(u => u.Node).Distinct().ToList();
        Assert.HasCount(1, xReaders, "x is cast once for its three float16 readers");
        var neg = graph.Nodes.Single(n => n.Is("Neg"));
        var abs = graph.Nodes.Single(n => n.Is("Abs"));
        Assert.AreSame(neg.Inputs[0], abs.Inputs[0], "the blocked readers of 'a' share one Cast to float32");
        Assert.IsTrue(neg.Inputs[0]!.Producer!.Is("Cast"));
        Assert.AreEqual(5, graph.Nodes.Count(n => n.Is("Cast"))); // x, a, na, aa, y
        var x = Tensor.FromArray("x", [4], [1f, -2f, 3.5f, 0.25f]);
        Assert.AreEqual(0, Fp16Harness.MaxAbsDiff(source, converted.Path, [x]));
    }

    [TestMethod]
    public void CastRoundTripsAndIdentityCastsInTheModelAreRemoved()
    {
        using var temp = new TempDirectory();
        var source = Save(temp, "casts", Graph("casts",
        [
            // float32 -> float16 -> float32 in front of a blocked Relu: the round trip goes.
            Node("Cast", ["x"], ["h"], Int("to", (long)DataType.Float16)), Node("Cast", ["h"], ["f"], Int("to", (long)DataType.Float)),
            Node("Relu", ["f"], ["a"]),

            // A mixed-precision stretch: float16 Sigmoid, then Casts that become float16 -> float16.
            Node("Cast", ["a"], ["a16"], Int("to", (long)DataType.Float16)), Node("Sigmoid", ["a16"], ["g16"]),
            Node("Cast", ["g16"], ["g"], Int("to", (long)DataType.Float)), Node("Cast", ["g"], ["g1"], Int("to", (long)DataType.Float)),
            Node("Add", ["a", "g1"], ["y"]),
        ],
        [Info("x", DataType.Float, 4)], [Info("y", DataType.Float, 4)]));

        var converted = Fp16Harness.ConvertFile(source, temp, new Fp16Options { NodeBlockList = ["a_node"] });

        var graph = converted.Model.Graph;
        Assert.AreEqual(0, Fp16Harness.CastPairs(converted.Model));
        Assert.AreEqual("x", graph.Nodes.Single(n => n.Is("Relu")).Inputs[0]!.Name);
        var types = ElementTypeInference.Infer(converted.Model);
        Assert.IsFalse(graph.Nodes.Any(n => n.Is("Cast") && (long)types[n.Inputs[0]!] == n.GetInt("to", 0)), "an identity Cast is left");
        Assert.IsGreaterThanOrEqualTo(3L, converted.Result.Counters[Fp16Pass.CastsRemoved]);
        var x = Tensor.FromArray("x", [4], [1f, -2f, 3.5f, 0.1f]);
        Assert.IsLessThanOrEqualTo(0.01, Fp16Harness.MaxAbsDiff(source, converted.Path, [x]));
    }

    [TestMethod]
    public void LoopBodyCarriesFloat16StateAndReadsOuterWeights()
    {
        using var temp = new TempDirectory();
        var body = Graph("body",
            [Node("Mul", ["acc", "w"], ["m"]), Node("Add", ["m", "x"], ["acc_out"]), Node("Identity", ["cond_in"], ["cond_out"])],
            [Info("i", DataType.Int64), Info("cond_in", DataType.Bool), Info("acc", DataType.Float, 2)],
            [Info("cond_out", DataType.Bool), Info("acc_out", DataType.Float, 2)]);
        var source = Save(temp, "loop", Graph("loop",
            [Node("Loop", ["trips", "", "x"], ["y"], GraphAttribute("body", body))],
            [Info("x", DataType.Float, 2), Info("trips", DataType.Int64)], [Info("y", DataType.Float, 2)],
            [Floats("w", [2], 0.5f, 0.25f)]));

        var converted = Fp16Harness.ConvertFile(source, temp);

        var loop = converted.Model.Graph.Nodes.Single(n => n.Is("Loop"));
        var convertedBody = loop.Subgraphs.Single();
        Assert.AreEqual(DataType.Float16, convertedBody.Inputs[2].ElementType);
        Assert.AreEqual(DataType.Float16, convertedBody.Outputs[1].ElementType);
        Assert.IsFalse(convertedBody.Nodes.Any(n => n.Is("Cast")));
        Assert.AreEqual(DataType.Float16, converted.Model.Graph.FindValue("w")!.Initializer!.DataType);
        var x = Tensor.FromArray("x", [2], [1f, 3f]);
        var trips = Tensor.FromArray("trips", [], [5L]);
        var diff = Fp16Harness.MaxAbsDiff(source, converted.Path, [x, trips]);
        TestContext.WriteLine($"loop max|diff| {diff}");
        Assert.IsLessThanOrEqualTo(0.01, diff);
    }

    [TestMethod]
    public void ScanBodyRunsInFloat16()
    {
        using var temp = new TempDirectory();
        var body = Graph("body",
            [Node("Add", ["sum", "row"], ["sum_out"]), Node("Mul", ["sum_out", "k"], ["scaled"])],
            [Info("sum", DataType.Float, 2), Info("row", DataType.Float, 2)],
            [Info("sum_out", DataType.Float, 2), Info("scaled", DataType.Float, 2)]);
        var source = Save(temp, "scan", Graph("scan",
            [Node("Scan", ["init", "xs"], ["total", "ys"], GraphAttribute("body", body), Int("num_scan_inputs", 1))],
            [Info("init", DataType.Float, 2), Info("xs", DataType.Float, 3, 2)], [Info("total", DataType.Float, 2), Info("ys", DataType.Float, 3, 2)],
            [Floats("k", [], 0.5f)]));

        var converted = Fp16Harness.ConvertFile(source, temp);

        var convertedBody = converted.Model.Graph.Nodes.Single(n => n.Is("Scan")).Subgraphs.Single();
        Assert.IsTrue(convertedBody.Inputs.Concat(convertedBody.Outputs).All(v => v.ElementType == DataType.Float16));
        var init = Tensor.FromArray("init", [2], [0.5f, -1f]);
        var xs = Tensor.FromArray("xs", [3, 2], [1f, 2f, 3f, 4f, 5f, 6f]);
        var expected = OrtRunner.Run(source, [init, xs]);
        var actual = OrtRunner.Run(converted.Path, [init, xs]);
        foreach (var name in new[] { "total", "ys" })
        {
            CollectionAssert.AreEqual(expected[name], actual[name], name); // small integers and halves: exact in float16
        }
    }

    [TestMethod]
    public void SequencesOfFloat32TensorsConvertLikeTensors()
    {
        using var temp = new TempDirectory();
        var source = Save(temp, "sequence", Graph("sequence",
        [
            Node("SplitToSequence", ["x"], ["s"], Int("axis", 0), Int("keepdims", 0)),
            Node("SequenceAt", ["s", "zero"], ["a"]),
            Node("SequenceLength", ["s"], ["n"]), Node("Cast", ["n"], ["nf"], Int("to", (long)DataType.Float)),
            Node("Add", ["a", "nf"], ["t"]), Node("Relu", ["t"], ["y"]),
        ],
        [Info("x", DataType.Float, 2, 3)], [Info("y", DataType.Float, 3)], [Int64s("zero", [], 0)]));

        var converted = Fp16Harness.ConvertFile(source, temp);

        Assert.IsEmpty(converted.Context.Diagnostics);
        Assert.AreEqual((long)DataType.Float16, converted.Model.Graph.Nodes.Single(n => n.Is("Cast") && n.Inputs[0]!.Name == "n").GetInt("to", 0));
        var x = Tensor.FromArray("x", [2, 3], [-1f, 0.5f, 2f, 3f, 4f, 5f]);
        Assert.AreEqual(0, Fp16Harness.MaxAbsDiff(source, converted.Path, [x]));
    }

    [TestMethod]
    public void ABlockedIfKeepsFloat32BranchOutputsWithCastsInsideTheBranches()
    {
        // Both branches read the outer float16 'a'; the If itself is kept float32.
        using var temp = new TempDirectory();
        var thenBranch = Graph("then", [Node("Identity", ["a"], ["same"])], [], [Info("same", DataType.Float, 4)]);
        var elseBranch = Graph("else", [Node("Neg", ["a"], ["n"])], [], [Info("n", DataType.Float, 4)]);
        var source = Save(temp, "if", Graph("if",
        [
            Node("Relu", ["x"], ["a"]),
            Node("If", ["cond"], ["branch"], GraphAttribute("then_branch", thenBranch), GraphAttribute("else_branch", elseBranch)),
            Node("Mul", ["branch", "k"], ["y"]),
        ],
        [Info("x", DataType.Float, 4), Info("cond", DataType.Bool)], [Info("y", DataType.Float, 4)], [Floats("k", [], 2f)]));

        var converted = Fp16Harness.ConvertFile(source, temp, new Fp16Options { NodeBlockList = ["branch_node"] });

        var node = converted.Model.Graph.Nodes.Single(n => n.Is("If"));
        foreach (var branch in node.Subgraphs)
        {
            var output = branch.Outputs.Single();
            Assert.AreEqual(branch, output.Graph, "a branch returns an outer value (ONNX Runtime refuses that)");
            Assert.IsTrue(output.Producer!.Is("Cast") && output.Producer.GetInt("to", 0) == (long)DataType.Float);
        }

        var x = Tensor.FromArray("x", [4], [-1f, 0.5f, 1.25f, 3f]);
        foreach (var cond in new[] { true, false })
        {
            var c = Tensor.FromArray("cond", [], [cond]);
            Assert.AreEqual(0, Fp16Harness.MaxAbsDiff(source, converted.Path, [x, c]));
        }
    }
}
