using System.Text.Json;
using ModelShrink.Onnx.Protobuf;
using ModelShrink.Testing;

namespace ModelShrink.Cli.Tests;

/// <summary><c>modelshrink inspect</c> on the fixtures, in-process: the numbers the fixtures are known to have.</summary>
[TestClass]
public sealed class InspectCommandTests
{
    [TestMethod]
    public void TextNamesIrVersionOpsetInputOperatorsAndParameterCount()
    {
        var lines = Succeed("inspect", Fixtures.Model("digits-mlp")).Stdout.Split(Environment.NewLine);

        CollectionAssert.Contains(lines, "  IR version   7");
        CollectionAssert.Contains(lines, "  opsets       ai.onnx 13");
        CollectionAssert.AreEqual(new[] { "inputs", "  input: float32[N,64]", "outputs", "  logits: float32[N,10]" }, Section(lines, "inputs", "nodes:"));
        CollectionAssert.Contains(lines, "nodes: 5 in 1 graph(s)");
        Assert.ContainsSingle(lines.Where(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["Gemm", "3"]));
        Assert.ContainsSingle(lines.Where(l => l.StartsWith("parameters: 50,826 (", StringComparison.Ordinal)));
    }

    [TestMethod]
    public void JsonHasTheSameNumbersAndLargestWeightsByBytesDescending()
    {
        using var json = Json("digits-mlp");
        var root = json.RootElement;

        Assert.AreEqual(7, root.GetProperty("irVersion").GetInt64());
        var opset = root.GetProperty("opsets").EnumerateArray().Single();
        Assert.AreEqual("ai.onnx", opset.GetProperty("domain").GetString());
        Assert.AreEqual(13, opset.GetProperty("version").GetInt64());
        var input = root.GetProperty("inputs").EnumerateArray().Single();
        Assert.AreEqual("input", input.GetProperty("name").GetString());
        Assert.AreEqual("float32", input.GetProperty("type").GetString());
        CollectionAssert.AreEqual(new[] { "N", "64" }, input.GetProperty("shape").EnumerateArray().Select(d => d.GetString()).ToArray());
        Assert.AreEqual(3, Operators(root)["Gemm"]);
        Assert.AreEqual(2, Operators(root)["Relu"]);
        Assert.AreEqual(50_826, root.GetProperty("parameterCount").GetInt64());
        Assert.AreEqual(203_304, root.GetProperty("parameterBytes").GetInt64());

        var largest = root.GetProperty("largestWeights").EnumerateArray().ToArray();
        Assert.IsLessThanOrEqualTo(10, largest.Length);
        var bytes = largest.Select(w => w.GetProperty("bytes").GetInt64()).ToArray();
        CollectionAssert.AreEqual(new long[] { 131_072, 65_536, 5_120, 1_024, 512, 40 }, bytes);
        CollectionAssert.AreEqual(bytes.OrderByDescending(b => b).ToArray(), bytes);
        Assert.AreEqual("fc2.weight", largest[0].GetProperty("name").GetString());
    }

    [TestMethod]
    public void WeightsInConstantNodesCountAsParameters()
    {
        using var json = Json("digits-mlp-constants");
        var root = json.RootElement;

        Assert.AreEqual(50_826, root.GetProperty("parameterCount").GetInt64());
        Assert.AreEqual(6, Operators(root)["Constant"]);
        var storage = root.GetProperty("largestWeights").EnumerateArray().Select(w => w.GetProperty("storage").GetString()).ToArray();
        Assert.HasCount(6, storage);
        Assert.IsTrue(storage.All(s => s == "Constant node"), string.Join(", ", storage));
    }

    [TestMethod]
    public void InitializersListedAsGraphInputsAreWeightsNotInputs()
    {
        Assert.AreEqual(7, ModelProto.Parser.ParseFrom(File.ReadAllBytes(Fixtures.Model("digits-mlp-inputs"))).Graph.Input.Count, "the fixture lists 7 graph inputs");
        using var json = Json("digits-mlp-inputs");
        var root = json.RootElement;

        CollectionAssert.AreEqual(new[] { "input" }, root.GetProperty("inputs").EnumerateArray().Select(i => i.GetProperty("name").GetString()).ToArray());
        Assert.AreEqual(50_826, root.GetProperty("parameterCount").GetInt64());
        Assert.AreEqual("initializer (also a graph input)", root.GetProperty("largestWeights")[0].GetProperty("storage").GetString());

        var lines = Succeed("inspect", Fixtures.Model("digits-mlp-inputs")).Stdout.Split(Environment.NewLine);
        CollectionAssert.AreEqual(new[] { "inputs", "  input: float32[N,64]" }, Section(lines, "inputs", "outputs"));
    }

    [TestMethod]
    public void NodeCountIncludesTheNodesOfSubgraphs()
    {
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Fixtures.Model("digits-cnn-if")));
        Assert.AreEqual(1, proto.Graph.Node.Count, "the main graph is one If node");
        Assert.AreEqual(23, CountNodes(proto.Graph), "1 If + 11 nodes in each branch");
        using var json = Json("digits-cnn-if");
        var root = json.RootElement;

        Assert.AreEqual(23, root.GetProperty("nodeCount").GetInt32());
        Assert.AreEqual(2, root.GetProperty("subgraphCount").GetInt32());
        var operators = Operators(root);
        Assert.AreEqual(1, operators["If"]);
        Assert.AreEqual(6, operators["Conv"]);
        Assert.AreEqual(4, operators["Gemm"]);
        Assert.AreEqual(47_530, root.GetProperty("parameterCount").GetInt64());
        CollectionAssert.Contains(Succeed("inspect", Fixtures.Model("digits-cnn-if")).Stdout.Split(Environment.NewLine), "nodes: 23 in 3 graph(s)");
    }

    private static CliResult Succeed(params string[] args)
    {
        var result = CliRunner.InProcess(args);
        Assert.AreEqual(0, result.ExitCode, result.Stderr);
        Assert.AreEqual("", result.Stderr);
        return result;
    }

    private static JsonDocument Json(string fixture) => JsonDocument.Parse(Succeed("inspect", Fixtures.Model(fixture), "--json").Stdout);

    private static Dictionary<string, int> Operators(JsonElement root) =>
        root.GetProperty("operators").EnumerateArray().ToDictionary(o => o.GetProperty("opType").GetString()!, o => o.GetProperty("count").GetInt32());

    // The lines from the one equal to `first` up to (not including) the first that starts with `end`.
    private static string[] Section(string[] lines, string first, string end) =>
        lines.SkipWhile(l => l != first).TakeWhile(l => !l.StartsWith(end, StringComparison.Ordinal)).ToArray();

    private static int CountNodes(GraphProto graph) =>
        graph.Node.Sum(n => 1 + n.Attribute.Where(a => a.G is not null).Sum(a => CountNodes(a.G)) + n.Attribute.SelectMany(a => a.Graphs).Sum(CountNodes));
}
