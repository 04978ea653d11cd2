using ModelShrink.Shared.Contracts;
using ModelShrink.Core.Settings;
using ModelShrink.Core.Passes.Pruning;
using ModelShrink.Core.Requests;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.IO;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Pruning;

/// <summary>The Prune and PruneMode metadata of &lt;CompressModel&gt;, and a build that prunes.</summary>
[TestClass]
public sealed class PruningSettingsTests
{
    [TestMethod]
    public void PruneAndPruneModeMetadataBecomePruneOptions()
    {
        var magnitude = Parse(new() { ["Prune"] = "0.6" }).Job.Compression.Prune!;
        var channels = Parse(new() { ["prune"] = " 0.25 ", ["PRUNEMODE"] = "Channels" }).Job.Compression.Prune!;
        var nm = Parse(new() { ["PruneMode"] = "nm:1:4" }).Job.Compression.Prune!;

        Assert.AreEqual((PruneMethod.Magnitude, 0.6), (magnitude.Method, magnitude.Sparsity));
        Assert.AreEqual((PruneMethod.Channels, 0.25), (channels.Method, channels.Sparsity));
        Assert.AreEqual((PruneMethod.NM, 1, 4, 0.75), (nm.Method, nm.N, nm.M, nm.Sparsity));
        Assert.IsNull(Parse(new() { ["Prune"] = "", ["PruneMode"] = " " }).Job.Compression.Prune, "empty project-wide defaults mean no pruning");
    }

    [TestMethod]
    [DataRow("Prune", "1", "Prune")]
    [DataRow("Prune", "half", "Prune")]
    [DataRow("PruneMode", "nm:2:2", "PruneMode")]
    [DataRow("PruneMode", "channels", "Prune")]
    public void InvalidPruneMetadataIsMsh3002NamingTheSetting(string name, string value, string setting)
    {
        var error = Assert.ThrowsExactly<ModelShrinkException>(() => Parse(new() { [name] = value }));

        Assert.AreEqual(ErrorCodes.InvalidMetadata, error.Diagnostic.Code);
        Assert.AreEqual(setting, error.Diagnostic.Setting);
    }

    [TestMethod]
    public void ABuildItemWithPruneWritesAPrunedModel()
    {
        using var temp = new TempDirectory();
        var request = new BuildRequest
        {
            ProjectFile = temp.File("App.csproj"),
            OnnxRuntimeVersion = "1.31.1",
            OnnxRuntimePackages = ["Microsoft.ML.OnnxRuntime"],
            Items =
            [
                new BuildRequestItem
                {
                    ItemSpec = "Models/digits.onnx",
                    Source = Fixtures.Model("digits-mlp"),
                    OutputDirectory = temp.File("out"),
                    Metadata = new Dictionary<string, string> { ["Prune"] = "0.9", ["Holdout"] = Fixtures.Root + "/digits-mlp", ["MinAgreement"] = "0.9", ["OutputName"] = "digits" },
                },
            ],
        };

        var response = BuildRunner.Run(request);

        var item = response.Items.Single();
        Assert.IsTrue(item.Succeeded, string.Join("; ", response.Diagnostics.Select(d => d.Message)));
        Assert.IsLessThan(0.5 * item.OriginalBytes, item.CompressedBytes);
        Assert.Contains(ErrorCodes.PruneEndsKept, response.Diagnostics.Select(d => d.Code).ToList());
        var weight = ModelReader.Load(temp.File("out/digits.onnx")).Graph.FindValue("fc2.weight")!;
        Assert.AreEqual(29491, PruningHarness.Zeros(weight.SparseInitializer!.ToDense().ToArray<float>()));
    }

    private static ItemSettings Parse(Dictionary<string, string> metadata) =>
        ItemSettings.Parse(metadata, "/models/digits.onnx", "Models/digits.onnx", "/project");
}
