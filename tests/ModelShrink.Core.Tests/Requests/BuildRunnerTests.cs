using ModelShrink.Shared.Contracts;
using ModelShrink.Core.Requests;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Requests;

[TestClass]
public sealed class BuildRunnerTests
{
    [TestMethod]
    public void ASucceededItemListsItsModelAndRuntimeConfigAndItsSizes()
    {
        using var temp = new TempDirectory();

        var response = BuildRunner.Run(Request(temp, new() { ["Providers"] = "CPU" }));

        var item = response.Items.Single();
        Assert.IsTrue(item.Succeeded);
        CollectionAssert.AreEqual(new[] { temp.File("out/digits.onnx"), temp.File("out/digits.runtime.json") }, item.Files.ToArray());
        Assert.AreEqual(new FileInfo(Fixtures.Model("digits-mlp")).Length, item.OriginalBytes);
        Assert.AreEqual(new FileInfo(temp.File("out/digits.onnx")).Length, item.CompressedBytes);
        Assert.IsEmpty(response.Diagnostics);
    }

    [TestMethod]
    public void AWarningThresholdWarnsAndPlacesTheOutputWhileTheBudgetAboveItHolds()
    {
        using var temp = new TempDirectory();
        var holdout = Path.Combine(Fixtures.Root, "digits-mlp");

        // digits-mlp in int8 comes out near 55 KB: over the warning threshold, within the budget.
        var response = BuildRunner.Run(Request(temp, new()
        {
            ["Quantize"] = "Int8", ["MaxSize"] = "100KB", ["MaxSizeWarning"] = "20KB", ["Holdout"] = holdout,
            ["MaxAccuracyDrop"] = "0.5", ["MaxAccuracyDropWarning"] = "0",
        }));

        Assert.IsTrue(response.Items.Single().Succeeded, string.Join("; ", response.Diagnostics.Select(d => d.Message)));
        Assert.IsTrue(File.Exists(temp.File("out/digits.onnx")));
        var size = response.Diagnostics.Single(d => d.Code == ErrorCodes.MaxSizeExceeded);
        Assert.AreEqual("warning", size.Severity);
        Assert.AreEqual("MaxSizeWarning", size.Setting);
        StringAssert.Contains(size.Message, "over the MaxSizeWarning threshold of 20KB");

        // A GPU variant is held to the accuracy budgets only: its size warns about nothing either.
        var withGpu = BuildRunner.Run(Request(temp, new() { ["Quantize"] = "Int8", ["MaxSizeWarning"] = "20KB", ["Providers"] = "CPU;CUDA" }));
        Assert.IsTrue(withGpu.Items.Single().Succeeded);
        Assert.AreEqual(1, withGpu.Diagnostics.Count(d => d.Code == ErrorCodes.MaxSizeExceeded), string.Join("; ", withGpu.Diagnostics.Select(d => d.Message)));

        // Over the budget too: one error, no second line from the threshold.
        var broken = BuildRunner.Run(Request(temp, new() { ["Quantize"] = "Int8", ["MaxSize"] = "30KB", ["MaxSizeWarning"] = "20KB" }));
        Assert.AreEqual(ErrorCodes.MaxSizeExceeded, broken.Diagnostics.Single().Code);
        Assert.AreEqual("error", broken.Diagnostics.Single().Severity);
    }

    [TestMethod]
    public void ABrokenAccuracyBudgetSaysTheGapAndTheWaysOut()
    {
        using var temp = new TempDirectory();

        var response = BuildRunner.Run(Request(temp, new() { ["Quantize"] = "Int8", ["Holdout"] = Fixtures.DataSets("digits-mlp")[0], ["MinCosine"] = "1" }));

        var diagnostic = response.Diagnostics.Single(d => d.Code == ErrorCodes.CosineBelowMinimum);
        Assert.AreEqual("MinCosine", diagnostic.Setting);
        StringAssert.Matches(diagnostic.Message, new System.Text.RegularExpressions.Regex(
            @"^Models/digits\.onnx: cosine similarity with the original is 0\.\d+, under the MinCosine budget of 1 by 0\.\d+ \(output '[^']+'\); ways out: MinCosine=0\.\d+, "));
        StringAssert.EndsWith(diagnostic.Message, ", Quantize=Auto (the sensitive layers stay float), or Int8Static with Calibration data, or BudgetSeverity=Warning to place it anyway");
    }

    [TestMethod]
    public void EveryBadSettingOfAnItemIsReportedInOneRun()
    {
        using var temp = new TempDirectory();

        var response = BuildRunner.Run(Request(temp, new() { ["Quantise"] = "Int8", ["Quantize"] = "Int9", ["MaxSize"] = "big", ["MinCosine"] = "2" }));

        Assert.IsFalse(response.Items.Single().Succeeded);
        CollectionAssert.AreEqual(new[] { "Quantise", "Quantize", "MaxSize", "MinCosine" }, response.Diagnostics.Select(d => d.Setting).ToArray(),
            string.Join("\n", response.Diagnostics.Select(d => d.Message)));
        CollectionAssert.AreEqual(new[] { ErrorCodes.UnknownMetadata, ErrorCodes.InvalidMetadata, ErrorCodes.InvalidMetadata, ErrorCodes.InvalidMetadata }, response.Diagnostics.Select(d => d.Code).ToArray());
        StringAssert.Contains(response.Diagnostics[1].Message, "Quantize: 'Int9' is not one of");
        Assert.IsFalse(Directory.Exists(temp.File("out")) && Directory.GetFiles(temp.File("out")).Length > 0, "nothing written");
    }

    [TestMethod]
    public void ABrokenBudgetFailsTheItemAndLeavesNoOutput()
    {
        using var temp = new TempDirectory();

        var response = BuildRunner.Run(Request(temp, new() { ["MaxSize"] = "50KB" }));

        Assert.IsFalse(response.Items.Single().Succeeded);
        var diagnostic = response.Diagnostics.Single();
        Assert.AreEqual(ErrorCodes.MaxSizeExceeded, diagnostic.Code);
        // The budget, the size reached, the gap, and the ways out: the budget that would hold (parsed back, it
        // holds the 199.22KB), the mode that would reach it, pruning, and a warning instead.
        Assert.AreEqual("Models/digits.onnx: compressed model is 199.22KB, over the MaxSize budget of 50KB by 149.22KB; ways out: MaxSize=199.22KB, "
            + "Quantize=Int8 would reach about 50.31KB, Prune=0.5 with PruneMode=channels (whole channels go), or BudgetSeverity=Warning to place it anyway", diagnostic.Message);
        Assert.AreEqual("MaxSize", diagnostic.Setting);
        // Only the report, which the targets never copy to the app.
        CollectionAssert.AreEquivalent(new[] { temp.File("out/digits.report.html"), temp.File("out/digits.report.json") }, Directory.GetFileSystemEntries(temp.File("out")));
    }

    [TestMethod]
    public void AWarningSeverityBudgetPlacesTheOutputAndWarns()
    {
        using var temp = new TempDirectory();

        var response = BuildRunner.Run(Request(temp, new() { ["MaxSizeRatio"] = "0.5", ["BudgetSeverity"] = "warning" }));

        Assert.IsTrue(response.Items.Single().Succeeded);
        Assert.AreEqual("warning", response.Diagnostics.Single().Severity);
        Assert.AreEqual(ErrorCodes.MaxSizeRatioExceeded, response.Diagnostics.Single().Code);
        Assert.IsTrue(File.Exists(temp.File("out/digits.onnx")));
    }

    [TestMethod]
    public void AProviderWithoutItsRuntimePackageIsAWarningNamingThePackage()
    {
        using var temp = new TempDirectory();

        var response = BuildRunner.Run(Request(temp, new() { ["Providers"] = "DirectML;CPU" }));

        Assert.IsTrue(response.Items.Single().Succeeded);
        var warning = response.Diagnostics.Single();
        Assert.AreEqual(ErrorCodes.ProviderPackageMissing, warning.Code);
        Assert.AreEqual("Models/digits.onnx: provider DirectML is requested but the app does not reference Microsoft.ML.OnnxRuntime.DirectML; at run time it will fall back to the next provider", warning.Message);
    }

    [TestMethod]
    [DataRow("Quantise", "Int8", ErrorCodes.UnknownMetadata, "unknown metadata 'Quantise' on <CompressModel>; did you mean 'Quantize'?")]
    [DataRow("MaxSize", "20 MB", ErrorCodes.InvalidMetadata, "MaxSize: '20 MB' is not a size such as 20MB")]
    [DataRow("Providers", "CPU;TPU", ErrorCodes.InvalidMetadata, "Providers: 'TPU' is not one of CPU, CUDA, DirectML")]
    [DataRow("OutputName", "../escape", ErrorCodes.InvalidMetadata, "OutputName: '../escape' is not a plain file name")]
    public void BadMetadataIsRefusedWithItsCodeAndSetting(string name, string value, string code, string message)
    {
        using var temp = new TempDirectory();

        var response = BuildRunner.Run(Request(temp, new() { [name] = value }));

        Assert.IsFalse(response.Items.Single().Succeeded);
        var diagnostic = response.Diagnostics.Single();
        Assert.AreEqual(code, diagnostic.Code);
        Assert.AreEqual(name, diagnostic.Setting);
        StringAssert.StartsWith(diagnostic.Message, "Models/digits.onnx: " + message);
        Assert.IsFalse(File.Exists(temp.File("out/digits.onnx")));
    }

    [TestMethod]
    public void Fp16IsOneFileThatCpuAndGpuProvidersShare()
    {
        using var temp = new TempDirectory();

        var request = Request(temp, new() { ["Quantize"] = "fp16", ["Providers"] = "CPU;CUDA;DirectML" });
        request.OnnxRuntimePackages = ["Microsoft.ML.OnnxRuntime.Gpu", "Microsoft.ML.OnnxRuntime.DirectML"];

        var response = BuildRunner.Run(request);

        var item = response.Items.Single();
        Assert.IsTrue(item.Succeeded, string.Join("; ", response.Diagnostics.Select(d => d.Message)));
        CollectionAssert.AreEqual(new[] { temp.File("out/digits.onnx"), temp.File("out/digits.runtime.json") }, item.Files.ToArray());
        using var config = System.Text.Json.JsonDocument.Parse(File.ReadAllText(temp.File("out/digits.runtime.json")));
        var variants = config.RootElement.GetProperty("variants").EnumerateArray()
            .Select(v => $"{v.GetProperty("provider").GetString()}:{v.GetProperty("file").GetString()}:{v.GetProperty("precision").GetString()}").ToArray();
        CollectionAssert.AreEqual(new[] { "CUDA:digits.onnx:float16", "DirectML:digits.onnx:float16", "CPU:digits.onnx:float16" }, variants);
        Assert.IsLessThan(0.55, item.CompressedBytes / (double)item.OriginalBytes);
    }

    [TestMethod]
    public void HoldoutValidationPutsTheMetricInTheResponseAndAnAccuracyBudgetCanFailIt()
    {
        using var temp = new TempDirectory();
        var holdout = Path.Combine(Fixtures.Root, "digits-mlp");

        var passing = BuildRunner.Run(Request(temp, new() { ["Quantize"] = "fp16", ["Holdout"] = holdout, ["MaxAccuracyDrop"] = "0.01" }));
        var failing = BuildRunner.Run(Request(temp, new() { ["Quantize"] = "fp16", ["Holdout"] = holdout, ["MinCosine"] = "1" }));

        var item = passing.Items.Single();
        Assert.IsTrue(item.Succeeded);
        Assert.AreEqual("Accuracy", item.Metric);
        Assert.AreEqual(252 / 256.0, item.MetricValue!.Value, 2 / 256.0);
        StringAssert.Contains(item.Summary, "float16, Accuracy 0.98");
        Assert.IsFalse(failing.Items.Single().Succeeded);
        var error = failing.Diagnostics.Single(d => d.Severity == "error");
        Assert.AreEqual(ErrorCodes.CosineBelowMinimum, error.Code);
        StringAssert.StartsWith(error.Message, "Models/digits.onnx: cosine similarity with the original is 0.9999");
        StringAssert.Contains(failing.Diagnostics.Single(d => d.Code == ErrorCodes.AccuracyLossHint).Message, "Quantize=Auto", "a broken accuracy budget names a better setting");
    }

    [TestMethod]
    public void LayerwiseReconstructionRunsFromMetadataAndWarnsOnlyWhenItFitsOnTheHoldout()
    {
        using var temp = new TempDirectory();
        var (calibration, heldOut) = Fixtures.SplitHoldout("digits-mlp", temp.File("data"));
        var settings = new Dictionary<string, string> { ["Quantize"] = "Int8", ["Prune"] = "0.5", ["Holdout"] = heldOut, ["Reconstruct"] = "Layerwise" };

        var plain = BuildRunner.Run(Request(temp, new(settings) { ["Reconstruct"] = "None" }));
        var plainBytes = File.ReadAllBytes(temp.File("out/digits.onnx"));
        var separate = BuildRunner.Run(Request(temp, new(settings) { ["ReconstructData"] = calibration }));
        var separateBytes = File.ReadAllBytes(temp.File("out/digits.onnx"));
        var onHoldout = BuildRunner.Run(Request(temp, settings));

        Assert.IsTrue(plain.Items.Single().Succeeded && separate.Items.Single().Succeeded && onHoldout.Items.Single().Succeeded);
        CollectionAssert.AreNotEqual(plainBytes, separateBytes, "SparseGPT and GPTQ change the written weights");
        Assert.IsFalse(separate.Diagnostics.Any(d => d.Code == ErrorCodes.ReconstructOnHoldout));
        var warning = onHoldout.Diagnostics.Single(d => d.Code == ErrorCodes.ReconstructOnHoldout);
        Assert.AreEqual("ReconstructData", warning.Setting);
        Assert.AreEqual("warning", warning.Severity);
    }

    [TestMethod]
    public void AnAccuracyBudgetWithoutHoldoutDataIsRefused()
    {
        using var temp = new TempDirectory();

        var response = BuildRunner.Run(Request(temp, new() { ["MaxAccuracyDrop"] = "0.01" }));

        Assert.AreEqual(ErrorCodes.InvalidMetadata, response.Diagnostics.Single().Code);
        Assert.AreEqual("Holdout", response.Diagnostics.Single().Setting);
    }

    [TestMethod]
    public void AnOpsetTheAppsOnnxRuntimeCannotRunIsRefused()
    {
        using var temp = new TempDirectory();
        var request = Request(temp, []);
        request.OnnxRuntimeVersion = "1.11.0";
        request.Items[0].Source = Fixtures.Model("digits-transformer");
        var model = ModelShrink.Onnx.IO.ModelReader.Load(Fixtures.Model("digits-transformer"));

        var response = BuildRunner.Run(request);

        Assert.AreEqual(17L, model.Opsets.Default);
        Assert.IsFalse(response.Items.Single().Succeeded);
        Assert.AreEqual(ErrorCodes.OpsetAboveAppRuntime, response.Diagnostics.Single().Code);
        StringAssert.Contains(response.Diagnostics.Single().Message, "needs ai.onnx opset 17, but the app's ONNX Runtime runs opsets up to 16");
    }

    [TestMethod]
    public void AFileAnEarlierRunMadeAndThisOneDoesNotIsRemoved()
    {
        using var temp = new TempDirectory();
        var withGpu = BuildRunner.Run(Request(temp, new() { ["Quantize"] = "Int8", ["Providers"] = "CPU;CUDA" }));
        Assert.IsTrue(File.Exists(temp.File("out/digits.fp16.onnx")), string.Join("; ", withGpu.Diagnostics.Select(d => d.Message)));

        var cpuOnly = BuildRunner.Run(Request(temp, new() { ["Quantize"] = "Int8", ["Providers"] = "CPU" }));

        Assert.IsTrue(cpuOnly.Items.Single().Succeeded);
        Assert.IsFalse(File.Exists(temp.File("out/digits.fp16.onnx")));
        Assert.IsTrue(File.Exists(temp.File("out/digits.onnx")));
    }

    [TestMethod]
    public void Int4IsRefusedForAnAppOnOnnxRuntimeWithoutMatMulNBitsAndAutoLeavesItOut()
    {
        using var temp = new TempDirectory();
        var request = Request(temp, new() { ["Quantize"] = "Int4" });
        request.OnnxRuntimeVersion = "1.16.3";
        request.Items[0].Source = Fixtures.Model("digits-transformer");

        var int4 = BuildRunner.Run(request);
        request.Items[0].Metadata = new Dictionary<string, string> { ["Quantize"] = "Auto", ["OutputName"] = "digits" };
        var auto = BuildRunner.Run(request);

        Assert.AreEqual(ErrorCodes.ContribOpAboveAppRuntime, int4.Diagnostics.Single().Code);
        Assert.IsTrue(auto.Items.Single().Succeeded, string.Join("; ", auto.Diagnostics.Select(d => d.Message)));
        StringAssert.Contains(auto.Items.Single().Summary, "; Chose int8 per-channel (", "int4 is no candidate, so plain int8 is the pick");
    }

    [TestMethod]
    public void AnUnknownRequestVersionIsRefused()
    {
        using var temp = new TempDirectory();

        var request = Request(temp, []);
        request.Version = 2;

        var error = Assert.ThrowsExactly<ModelShrinkException>(() => BuildRunner.Run(request));

        Assert.AreEqual(ErrorCodes.BadRequest, error.Diagnostic.Code);
    }

    [TestMethod]
    public void AnAutoSearchReportsItsStepsNamedAfterTheItemAndThrottled()
    {
        using var temp = new TempDirectory();
        var holdout = Path.Combine(Fixtures.Root, "digits-mlp");
        var lines = new List<string>();

        var response = BuildRunner.Run(Request(temp, new() { ["Quantize"] = "Auto", ["Holdout"] = holdout, ["MaxAccuracyDrop"] = "0.01" }),
            progress: new SynchronousProgress(lines.Add));

        Assert.IsTrue(response.Items.Single().Succeeded);
        Assert.IsNotEmpty(lines);
        StringAssert.StartsWith(lines[0], "Models/digits.onnx: searching: step 1 of ~");
        Assert.IsTrue(lines.All(l => l.Contains(": searching: ", StringComparison.Ordinal)), "passes and batches are left to the CLI's --progress");
        Assert.IsLessThan(3, lines.Count, "a search of a few seconds shows one line (then one every 10 s)");
    }

    private sealed class SynchronousProgress(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }

    private static BuildRequest Request(TempDirectory temp, Dictionary<string, string> metadata) => new()
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
                Metadata = metadata.Count == 0 ? new() { ["OutputName"] = "digits" } : new Dictionary<string, string>(metadata) { ["OutputName"] = metadata.GetValueOrDefault("OutputName", "digits") },
            },
        ],
    };
}
