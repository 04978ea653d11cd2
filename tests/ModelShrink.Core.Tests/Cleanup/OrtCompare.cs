using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Cleanup;

/// <summary>Runs a rewritten model and a reference in ONNX Runtime and compares what they compute.</summary>
internal static class OrtCompare
{
    /// <summary>Saves <paramref name="model"/> into <paramref name="temp"/> and returns the path.</summary>
    public static string Save(Model model, TempDirectory temp, string name = "rewritten.onnx")
    {
        var path = temp.File(name);
        ModelWriter.Save(model, path);
        return path;
    }

    /// <summary>
    /// Asserts that <paramref name="candidate"/> computes what the fixture's own model computes on
    /// every holdout set: the same output names and, per value, a difference of at most
    /// <paramref name="tolerance"/> (0: bit-identical).
    /// </summary>
    public static void SameAsFixture(string fixture, string candidate, float tolerance = 0f)
    {
        foreach (var set in Fixtures.DataSets(fixture))
        {
            var inputs = Fixtures.Inputs(set);
            SameOutputs(Fixtures.Model(fixture), candidate, inputs, tolerance, Path.GetFileName(set));
            if (fixture == "digits-cnn-if")
            {
                // The holdout sets all take the then-branch; run the else-branch too.
                Tensor[] otherBranch = [inputs[0], Tensor.FromArray("use_cnn", [], [!inputs[1].ToArray<bool>()[0]])];
                SameOutputs(Fixtures.Model(fixture), candidate, otherBranch, tolerance, Path.GetFileName(set) + " (other branch)");
            }
        }
    }

    /// <summary>Asserts that two models compute the same outputs (names and values) on <paramref name="inputs"/>.</summary>
    public static void SameOutputs(string reference, string candidate, IReadOnlyList<Tensor> inputs, float tolerance = 0f, string what = "")
    {
        var expected = OrtRunner.Run(reference, inputs);
        var actual = OrtRunner.Run(candidate, inputs);
        CollectionAssert.AreEquivalent(expected.Keys.ToArray(), actual.Keys.ToArray(), $"output names {what}");
        Assert.IsNotEmpty(expected);
        foreach (var (name, values) in expected)
        {
            var other = actual[name];
            Assert.HasCount(values.Length, other, $"{name} {what}");
            for (var i = 0; i < values.Length; i++)
            {
                if (tolerance == 0f)
                {
                    Assert.AreEqual(BitConverter.SingleToInt32Bits(values[i]), BitConverter.SingleToInt32Bits(other[i]),
                        $"{name}[{i}] {what}: {values[i]} vs {other[i]}");
                }
                else
                {
                    Assert.AreEqual(values[i], other[i], tolerance, $"{name}[{i}] {what}");
                }
            }
        }
    }

    /// <summary>The number of nodes of an op type in the model, subgraphs included.</summary>
    public static int Count(Model model, string opType) => model.Graph.EnumerateNodes().Count(n => n.OpType == opType);

    /// <summary>A pass context for tests.</summary>
    public static Passes.PassContext Context(string file = "model.onnx") => new(file);
}
