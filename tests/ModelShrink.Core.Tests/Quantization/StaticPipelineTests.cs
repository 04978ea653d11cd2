using ModelShrink.Shared.Contracts;
using ModelShrink.Core.Plans;
using ModelShrink.Core.Settings;
using ModelShrink.Core.Budgets;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Passes.Int8Static;
using ModelShrink.Core.Requests;
using ModelShrink.Core.Validation;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Quantization;

/// <summary>Int8Static from the outside: the pipeline, item metadata, the build request and Auto.</summary>
[TestClass]
public sealed class StaticPipelineTests
{
    [TestMethod]
    public void Int8StaticIsASupportedModeThatRunsCleanupThenTheStaticPass()
    {
        var pipeline = PipelineFactory.Create(new CompressionOptions { Quantize = QuantizeMode.Int8Static });

        Assert.Contains(QuantizeMode.Int8Static, PipelineFactory.SupportedModes);
        CollectionAssert.AreEqual(new[] { "cleanup", "int8-static" }, pipeline.Passes.Select(p => p.Name).ToArray());
    }

    [TestMethod]
    public void CalibrationMetadataResolvesAgainstTheProjectAndDefaultsToTheHoldout()
    {
        var project = Path.Combine(Path.GetTempPath(), "app");
        var named = ItemSettings.Parse(new Dictionary<string, string> { ["Quantize"] = "int8static", ["calibration"] = "Data/cal", ["Holdout"] = "Data/holdout" },
            "Models/m.onnx", "Models/m.onnx", project);
        var fromHoldout = ItemSettings.Parse(new Dictionary<string, string> { ["Quantize"] = "Int8Static", ["Holdout"] = "Data/holdout" },
            "Models/m.onnx", "Models/m.onnx", project);
        var none = ItemSettings.Parse(new Dictionary<string, string> { ["Quantize"] = "Int8Static" }, "Models/m.onnx", "Models/m.onnx", project);

        Assert.AreEqual(QuantizeMode.Int8Static, named.Job.Compression.Quantize);
        Assert.AreEqual(Path.Combine(project, "Data", "cal"), named.Job.Compression.Int8Static.CalibrationData);
        Assert.IsFalse(named.Job.Compression.Int8Static.CalibrationFromHoldout);
        Assert.AreEqual(Path.Combine(project, "Data", "holdout"), fromHoldout.Job.Compression.Int8Static.CalibrationData);
        Assert.IsTrue(fromHoldout.Job.Compression.Int8Static.CalibrationFromHoldout);
        Assert.IsNull(none.Job.Compression.Int8Static.CalibrationData);
    }

    [TestMethod]
    public void ABuildItemWithCalibrationDataIsQuantizedStaticallyAndValidated()
    {
        using var temp = new TempDirectory();
        var calibration = StaticQuantization.CalibrationData("digits-cnn", temp);
        var request = Request(temp, "digits-cnn", new()
        {
            ["Quantize"] = "Int8Static",
            ["Calibration"] = Path.GetRelativePath(temp.Path, calibration),
            ["Holdout"] = Path.Combine(Fixtures.Root, "digits-cnn"),
            ["MinAgreement"] = "0.99",
        });

        var response = BuildRunner.Run(request);

        var item = response.Items.Single();
        Assert.IsTrue(item.Succeeded, string.Join("; ", response.Diagnostics.Select(d => d.Message)));
        Assert.IsEmpty(response.Diagnostics);
        StringAssert.Contains(item.Summary, "int8");
        Assert.IsLessThan(0.35, item.CompressedBytes / (double)item.OriginalBytes);
    }

    [TestMethod]
    public void ABuildItemWithoutAnyDataIsRefusedWithMSH2500()
    {
        using var temp = new TempDirectory();

        var response = BuildRunner.Run(Request(temp, "digits-cnn", new() { ["Quantize"] = "Int8Static" }));

        Assert.IsFalse(response.Items.Single().Succeeded);
        Assert.AreEqual(ErrorCodes.StaticCalibrationMissing, response.Diagnostics.Single().Code);
        Assert.AreEqual("Calibration", response.Diagnostics.Single().Setting);
    }

    [TestMethod]
    public void AutoTriesInt8StaticAfterInt8OnlyWithCalibrationDataOfItsOwn()
    {
        using var temp = new TempDirectory();
        var calibration = StaticQuantization.CalibrationData("digits-mlp", temp);
        var holdout = Path.Combine(Fixtures.Root, "digits-mlp");
        JobSettings Settings(Int8StaticOptions options) => new(
            new CompressionOptions { Quantize = QuantizeMode.Auto, Int8Static = options },
            new SizeBudget(null, null),
            new AccuracyBudget(null, null, 1.0),
            holdout,
            new ValidationOptions());

        var own = ModelShrink.Core.Search.CompressionRun.Run(Fixtures.Model("digits-mlp"), temp.File("own.onnx"), Settings(new Int8StaticOptions { CalibrationData = calibration }), "digits-mlp");
        var fromHoldout = ModelShrink.Core.Search.CompressionRun.Run(Fixtures.Model("digits-mlp"), temp.File("holdout.onnx"),
            Settings(new Int8StaticOptions { CalibrationData = holdout, CalibrationFromHoldout = true }), "digits-mlp");

        // A cosine of exactly 1 only the float model reaches: every mode is tried (and mixed plans between them; digits-mlp has no MatMul for int4).
        static string[] Modes(JobResult job) => job.Candidates.Select(c => c.Name).Where(n => !n.Contains('(')).ToArray();
        CollectionAssert.AreEqual(new[] { "int8 per-channel", "int8 static per-channel", "fp16", "float32" }, Modes(own));
        CollectionAssert.AreEqual(new[] { "int8 per-channel", "fp16", "float32" }, Modes(fromHoldout));
        Assert.IsTrue(own.Candidates.Single(c => c.Name == "int8 static per-channel").Applies);
    }

    private static BuildRequest Request(TempDirectory temp, string fixture, Dictionary<string, string> metadata) => new()
    {
        ProjectFile = temp.File("App.csproj"),
        OnnxRuntimeVersion = "1.31.1",
        OnnxRuntimePackages = ["Microsoft.ML.OnnxRuntime"],
        Items =
        [
            new BuildRequestItem
            {
                ItemSpec = "Models/digits.onnx",
                Source = Fixtures.Model(fixture),
                OutputDirectory = temp.File("out"),
                Metadata = metadata,
            },
        ],
    };
}
