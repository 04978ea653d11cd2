using ModelShrink.Core.Passes.Int8Dynamic;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Quantization;

[TestClass]
public sealed class Int8DynamicFixtureTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow("digits-cnn", false)]
    [DataRow("digits-cnn", true)]
    [DataRow("digits-mlp", false)]
    [DataRow("digits-mlp", true)]
    [DataRow("digits-lstm", false)]
    [DataRow("digits-lstm", true)]
    [DataRow("digits-transformer", false)]
    [DataRow("digits-transformer", true)]
    [DataRow("digits-mlp-constants", false)]
    [DataRow("digits-mlp-constants", true)]
    [DataRow("digits-mlp-inputs", false)]
    [DataRow("digits-cnn-if", false)]
    [DataRow("digits-cnn-if", true)]
    public void Int8ModelRunsInOrtAndAgreesWithTheOriginalOnAtLeast99PercentOfTheHoldout(string fixture, bool perChannel)
    {
        using var folder = new TempDirectory();
        var (path, _, _, _) = QuantizedModels.Apply(Fixtures.Model(fixture), new Int8DynamicPass(new Int8DynamicOptions { PerChannel = perChannel }), folder);

        var original = QuantizedModels.Logits(Fixtures.Model(fixture), fixture);
        var quantized = QuantizedModels.Logits(path, fixture);

        var agreement = QuantizedModels.Agreement(original, quantized);
        var before = QuantizedModels.Accuracy(original, fixture);
        var after = QuantizedModels.Accuracy(quantized, fixture);
        var ratio = new FileInfo(path).Length / (double)new FileInfo(Fixtures.Model(fixture)).Length;
        TestContext.WriteLine($"{fixture} per-channel={perChannel}: agreement {agreement:P2}, accuracy {before:P2} -> {after:P2}, size {ratio:P1}");
        Assert.IsGreaterThanOrEqualTo(0.99, agreement, $"top-1 agreement {agreement:P2}");
    }
}
