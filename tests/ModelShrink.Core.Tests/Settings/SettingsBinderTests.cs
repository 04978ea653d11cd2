using ModelShrink.Core.Plans;
using ModelShrink.Core.Calibration;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Passes.Fp16;
using ModelShrink.Core.Passes.Int4WeightOnly;
using ModelShrink.Core.Passes.Int8Dynamic;
using ModelShrink.Core.Passes.Int8Static;
using ModelShrink.Core.Passes.Pruning;
using ModelShrink.Core.Passes.Reconstruction;
using ModelShrink.Core.Passes.Reconstruction.Layerwise;
using ModelShrink.Core.Providers;
using ModelShrink.Core.Quantization;
using ModelShrink.Core.Settings;
using ModelShrink.Core.Validation.Metrics;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Shared.Settings;

namespace ModelShrink.Core.Tests.Settings;

/// <summary>One binder for metadata and options: defaults from the catalog, one message per rule, named as the user wrote it.</summary>
[TestClass]
public sealed class SettingsBinderTests
{
    [TestMethod]
    public void NothingGivenBindsThePassesOwnDefaults()
    {
        var job = SettingsBinder.Job(Values([]));
        var compression = job.Compression;
        Assert.AreEqual(new Int8DynamicOptions().PerChannel, compression.Int8.PerChannel);
        Assert.AreEqual(new Int8DynamicOptions().Form, compression.Int8.Form);
        Assert.AreEqual(new Int8DynamicOptions().WeightType, compression.Int8.WeightType);
        CollectionAssert.AreEqual(new Int8DynamicOptions().OpTypes.ToArray(), compression.Int8.OpTypes.ToArray());
        var int4 = new Int4WeightOnlyOptions();
        Assert.AreEqual((int4.BlockSize, int4.Format, int4.ZeroPoints, int4.AccuracyLevel), (compression.Int4.BlockSize, compression.Int4.Format, compression.Int4.ZeroPoints, compression.Int4.AccuracyLevel));
        CollectionAssert.AreEqual(int4.OpTypes.ToArray(), compression.Int4.OpTypes.ToArray());
        var expectedStatic = new Int8StaticOptions();
        Assert.AreEqual(expectedStatic.PerChannel, compression.Int8Static.PerChannel);
        Assert.AreEqual(expectedStatic.Method, compression.Int8Static.Method);
        Assert.AreEqual(expectedStatic.Percentile, compression.Int8Static.Percentile);
        Assert.AreEqual(expectedStatic.ActivationType, compression.Int8Static.ActivationType);
        Assert.AreEqual(expectedStatic.ThinConvsFloat, compression.Int8Static.ThinConvsFloat);
        Assert.AreEqual(new Fp16Options().KeepIoTypes, compression.Fp16.KeepIoTypes);
        CollectionAssert.AreEqual(new Fp16Options().OpBlockList.ToArray(), compression.Fp16.OpBlockList.ToArray());
        Assert.AreEqual(new LayerwiseOptions(), compression.Layerwise);
        Assert.AreEqual(QuantizeMode.None, compression.Quantize);
        Assert.IsNull(compression.Prune);
        Assert.AreEqual(0.5, job.Validation.Threshold);
        Assert.AreEqual(Budgets.BudgetSeverity.Error, job.Size.Severity);
    }

    [TestMethod]
    public void ChoicesAreTheEngineEnums()
    {
        CollectionAssert.AreEquivalent(PipelineFactory.RequestableModes.Select(m => m.ToString()).ToArray(), SettingCatalog.Quantize.Choices);
        AssertChoices<ReconstructMode>(SettingCatalog.Reconstruct);
        AssertChoices<Metric>(SettingCatalog.Metric);
        AssertChoices<Budgets.BudgetSeverity>(SettingCatalog.BudgetSeverity);
        AssertChoices<ExecutionProvider>(SettingCatalog.Providers);
        AssertChoices<WeightType>(SettingCatalog.WeightType);
        AssertChoices<WeightType>(SettingCatalog.ActivationType);
        AssertChoices<Int8Form>(SettingCatalog.Int8Form);
        AssertChoices<Int4Format>(SettingCatalog.Int4Format);
        AssertChoices<CalibrationMethod>(SettingCatalog.CalibrationMethod);
        AssertChoices<PruneScope>(SettingCatalog.PruneScope);
        AssertChoices<PruneStorage>(SettingCatalog.PruneStorage);
    }

    [TestMethod]
    public void EveryChoiceAndDefaultBinds()
    {
        foreach (var setting in SettingCatalog.All.Where(s => s.Kind == SettingKind.Choice && s.On(SettingSurface.Cli)))
        {
            foreach (var choice in setting.Choices.Where(c => c != "Auto" || setting != SettingCatalog.Quantize))
            {
                var given = new Dictionary<string, string> { [setting.Name] = choice, ["Holdout"] = "h", ["Prune"] = "0.5" };
                SettingsBinder.Job(Values(given));
            }
        }
    }

    [TestMethod]
    public void ABadValueNamesTheMetadataOrTheOptionWithItsCode()
    {
        var metadata = Assert.ThrowsExactly<ModelShrinkException>(() => SettingsBinder.Job(Values(new() { ["MaxAccuracyDrop"] = "lots" }, SettingSurface.Item)));
        Assert.AreEqual(ErrorCodes.InvalidMetadata, metadata.Diagnostic.Code);
        Assert.AreEqual("MaxAccuracyDrop: 'lots' is not a number from 0 to 1 such as 0.01", metadata.Diagnostic.Message);
        Assert.AreEqual("model.onnx", metadata.Diagnostic.File);

        var option = Assert.ThrowsExactly<ModelShrinkException>(() => SettingsBinder.Job(Values(new() { ["MaxAccuracyDrop"] = "lots" }, SettingSurface.Cli)));
        Assert.AreEqual(ErrorCodes.InvalidArgument, option.Diagnostic.Code);
        Assert.AreEqual("--max-accuracy-drop: 'lots' is not a number from 0 to 1 such as 0.01", option.Diagnostic.Message);
    }

    [TestMethod]
    public void OneRuleOneMessageOnBothSurfaces()
    {
        var item = Assert.ThrowsExactly<ModelShrinkException>(() => SettingsBinder.Job(Values(new() { ["Reconstruct"] = "Bias" }, SettingSurface.Item)));
        var cli = Assert.ThrowsExactly<ModelShrinkException>(() => SettingsBinder.Job(Values(new() { ["Reconstruct"] = "Bias" }, SettingSurface.Cli)));
        Assert.AreEqual("Reconstruct: 'Bias' needs data to measure on: set ReconstructData or Holdout", item.Diagnostic.Message);
        Assert.AreEqual("--reconstruct: 'Bias' needs data to measure on: set --reconstruct-data or --holdout", cli.Diagnostic.Message);
    }

    [TestMethod]
    public void PassSettingsReachTheirPasses()
    {
        var job = SettingsBinder.Job(Values(new()
        {
            ["Quantize"] = "int8static", ["PerChannel"] = "false", ["OpTypes"] = "Conv;MatMul", ["ThinConvs"] = "int8", ["Int8Form"] = "weight-only",
            ["Prune"] = "0.3", ["PruneMode"] = "channels", ["PruneLayers"] = "a=0.5,b=0.25", ["Fp16BlockOps"] = "default,Softmax", ["Calibration"] = "cal",
        }));
        Assert.IsFalse(job.Compression.Int8Static.PerChannel);
        Assert.IsFalse(job.Compression.Int8.PerChannel);
        CollectionAssert.AreEqual(new[] { "Conv", "MatMul" }, job.Compression.Int8Static.OpTypes.ToArray());
        Assert.IsFalse(job.Compression.Int8Static.ThinConvsFloat);
        Assert.AreEqual(Int8Form.WeightOnly, job.Compression.Int8.Form);
        Assert.AreEqual(PruneMethod.Channels, job.Compression.Prune!.Method);
        Assert.AreEqual(0.25, job.Compression.Prune.LayerSparsity["b"]);
        Assert.AreEqual("Softmax", job.Compression.Fp16.OpBlockList[^1]);
        Assert.AreEqual(Path.GetFullPath("cal", "/project"), job.Compression.Int8Static.CalibrationData);
    }

    [TestMethod]
    public void PruningTuningWithoutPruningIsRefused()
    {
        var error = Assert.ThrowsExactly<ModelShrinkException>(() => SettingsBinder.Job(Values(new() { ["PruneScope"] = "global" }, SettingSurface.Cli)));
        Assert.AreEqual("--prune-scope: needs --prune (or --prune-mode nm:N:M)", error.Diagnostic.Message);
    }

    [TestMethod]
    [DataRow("MaxAcuracyDrop", "MaxAccuracyDrop")]
    [DataRow("quantise", "Quantize")]
    [DataRow("MaxSizeRation", "MaxSizeRatio")]
    [DataRow("Holdot", "Holdout")]
    public void AMistypedMetadataNameSuggestsTheNearestByEditDistance(string typed, string expected)
    {
        var error = Assert.ThrowsExactly<ModelShrinkException>(() => SettingsBinder.CheckKnown(typed, SettingSurface.Item, "m.onnx"));
        StringAssert.Contains(error.Diagnostic.Message, $"did you mean '{expected}'?");
    }

    [TestMethod]
    public void ANameNearNothingSuggestsNothingAndAMistypedValueSuggestsTheNearestChoice()
    {
        var error = Assert.ThrowsExactly<ModelShrinkException>(() => SettingsBinder.CheckKnown("Colour", SettingSurface.Item, "m.onnx"));
        Assert.DoesNotContain("did you mean", error.Diagnostic.Message);

        var value = Assert.ThrowsExactly<ModelShrinkException>(() => SettingsBinder.Job(Values(new() { ["Quantize"] = "Int8Statc" })));
        StringAssert.EndsWith(value.Diagnostic.Message, "did you mean 'Int8Static'?");
    }

    private static void AssertChoices<T>(Setting setting) where T : struct, Enum =>
        CollectionAssert.AreEquivalent(Enum.GetNames<T>().Select(n => n.ToLowerInvariant()).ToArray(),
            setting.Choices.Select(c => c.Replace("-", "", StringComparison.Ordinal).ToLowerInvariant()).ToArray(), setting.Name);

    private static SettingValues Values(Dictionary<string, string> values, SettingSurface surface = SettingSurface.Item) =>
        new(values, surface, surface == SettingSurface.Item ? "model.onnx" : null, "/project");
}
