using System.Text.Json;
using ModelShrink.Testing;

namespace ModelShrink.Build.Tests;

[TestClass]
public sealed class PackageEndToEndTests
{
    [TestMethod]
    public void BuildPlacesTheModelAndItsRuntimeConfigInTheOutputAndTheModelRuns()
    {
        using var app = new ConsumerProject("""<CompressModel Include="Models/digits.onnx" Providers="CPU;CUDA" />""");
        app.AddModel("digits-cnn", "digits.onnx");

        var build = app.Build();

        Assert.AreEqual(0, build.ExitCode, build.Output);
        StringAssert.Contains(build.Output, "ModelShrink: Models/digits.onnx: 187.21KB -> 187.21KB");
        StringAssert.Contains(build.Output, "App.csproj : ModelShrink warning MSH3200: Models/digits.onnx: provider CUDA is requested but the app does not reference Microsoft.ML.OnnxRuntime.Gpu");
        var model = Path.Combine(app.Output, "Models", "digits.onnx");
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(app.Output, "Models", "digits.runtime.json")));
        var variants = config.RootElement.GetProperty("variants").EnumerateArray().ToArray();
        CollectionAssert.AreEqual(new[] { "CUDA", "CPU" }, variants.Select(v => v.GetProperty("provider").GetString()).ToArray());
        Assert.IsTrue(variants.All(v => v.GetProperty("file").GetString() == "digits.onnx"));

        var inputs = Fixtures.Inputs(Fixtures.DataSets("digits-cnn")[0]);
        CollectionAssert.AreEqual(OrtRunner.Run(Fixtures.Model("digits-cnn"), inputs)["logits"], OrtRunner.Run(model, inputs)["logits"]);
    }

    [TestMethod]
    public void AModelOutsideTheProjectLandsWhereItsLinkSaysAndStandardMetadataIsAccepted()
    {
        using var app = new ConsumerProject("""<CompressModel Include="../shared-models/digits.onnx" Link="Assets/Nets/digits.onnx" Visible="false" Quantize="Int8" />""");
        var shared = Path.Combine(app.Directory, "..", "shared-models");
        Directory.CreateDirectory(shared);
        File.Copy(Fixtures.Model("digits-mlp"), Path.Combine(shared, "digits.onnx"), overwrite: true);
        try
        {
            var build = app.Build();

            Assert.AreEqual(0, build.ExitCode, build.Output);
            Assert.IsTrue(File.Exists(Path.Combine(app.Output, "Assets", "Nets", "digits.onnx")), build.Output);
            Assert.IsTrue(File.Exists(Path.Combine(app.Output, "Assets", "Nets", "digits.runtime.json")));

            // The inner loop sees the model: the IDE's fast up-to-date check and dotnet watch.
            var items = app.Dotnet("msbuild", "-nologo", "-getItem:UpToDateCheckInput", "-getItem:Watch");
            Assert.AreEqual(0, items.ExitCode, items.Output);
            using var json = JsonDocument.Parse(items.Output);
            foreach (var type in new[] { "UpToDateCheckInput", "Watch" })
            {
                Assert.IsTrue(json.RootElement.GetProperty("Items").GetProperty(type).EnumerateArray()
                    .Any(i => i.GetProperty("Identity").GetString() == "../shared-models/digits.onnx"), $"{type}: {items.Output}");
            }
        }
        finally
        {
            Directory.Delete(shared, recursive: true);
        }
    }

    [TestMethod]
    public void ASecondBuildWithNothingChangedStartsNoEngine()
    {
        using var app = new ConsumerProject("""<CompressModel Include="Models/digits.onnx" />""");
        app.AddModel("digits-mlp", "digits.onnx");
        var first = app.Dotnet("build", "-nologo");
        Assert.AreEqual(0, first.ExitCode, first.Output);
        StringAssert.Contains(first.Output, "ModelShrink: Models/digits.onnx: ", "the summary shows at the default verbosity");
        var response = Directory.GetFiles(Path.Combine(app.Directory, "obj"), "request.response.json", SearchOption.AllDirectories).Single();
        var written = File.GetLastWriteTimeUtc(response);

        var second = app.Dotnet("build", "-nologo");

        Assert.AreEqual(0, second.ExitCode, second.Output);
        Assert.DoesNotContain("ModelShrink: ", second.Output);
        Assert.AreEqual(written, File.GetLastWriteTimeUtc(response), "the engine ran again");
        Assert.IsTrue(File.Exists(Path.Combine(app.Output, "Models", "digits.onnx")));
    }

    [TestMethod]
    public void AChangedSettingReprocessesOnlyThatItem()
    {
        using var app = new ConsumerProject("""
            <CompressModel Include="Models/a.onnx" />
            <CompressModel Include="Models/b.onnx" Providers="CPU" />
            """);
        app.AddModel("digits-mlp", "a.onnx");
        app.AddModel("digits-cnn", "b.onnx");
        Assert.AreEqual(0, app.Build().ExitCode);

        File.WriteAllText(app.ProjectFile, File.ReadAllText(app.ProjectFile).Replace("Providers=\"CPU\"", "Providers=\"CPU;DirectML\""));
        var second = app.Build();

        Assert.AreEqual(0, second.ExitCode, second.Output);
        StringAssert.Contains(second.Output, "ModelShrink: Models/b.onnx:");
        Assert.DoesNotContain("ModelShrink: Models/a.onnx:", second.Output);
        StringAssert.Contains(File.ReadAllText(Path.Combine(app.Output, "Models", "b.runtime.json")), "DirectML");
    }

    [TestMethod]
    public void ABrokenSizeBudgetFailsTheBuildWithItsCodeAndPlacesNothing()
    {
        using var app = new ConsumerProject("""<CompressModel Include="Models/digits.onnx" MaxSize="100KB" />""");
        app.AddModel("digits-cnn", "digits.onnx");

        var build = app.Build();

        Assert.AreNotEqual(0, build.ExitCode);
        StringAssert.Contains(build.Output, "App.csproj : ModelShrink error MSH3100: Models/digits.onnx: compressed model is 187.21KB, over the MaxSize budget of 100KB by 87.21KB; ways out: MaxSize=187.2");
        StringAssert.Contains(build.Output, "KB, Quantize=Fp16 would reach about 94.38KB, Prune=0.5 with PruneMode=channels (whole channels go), or BudgetSeverity=Warning to place it anyway (setting: MaxSize)");
        Assert.IsFalse(File.Exists(Path.Combine(app.Output, "Models", "digits.onnx")));
    }

    [TestMethod]
    public void AProjectWideDefaultPropertyAppliesToEveryItem()
    {
        using var app = new ConsumerProject("""<CompressModel Include="Models/digits.onnx" />""", "<ModelShrinkMaxSizeRatio>0.5</ModelShrinkMaxSizeRatio>");
        app.AddModel("digits-mlp", "digits.onnx");

        var build = app.Build();

        Assert.AreNotEqual(0, build.ExitCode);
        StringAssert.Contains(build.Output, "error MSH3101: Models/digits.onnx: compressed model is 1 of the original");
    }

    [TestMethod]
    public void ACorruptModelGivesACleanCodedError()
    {
        using var app = new ConsumerProject("""<CompressModel Include="Models/bad.onnx" />""");
        File.WriteAllText(Path.Combine(app.Directory, "Models", "bad.onnx"), "this is not a model");

        var build = app.Build();

        Assert.AreNotEqual(0, build.ExitCode);
        StringAssert.Contains(build.Output, "ModelShrink error MSH1003:");
        StringAssert.Contains(build.Output, "bad.onnx: not an ONNX model");
        Assert.DoesNotContain("   at ", build.Output, "no stack trace");
        Assert.AreEqual("this is not a model", File.ReadAllText(Path.Combine(app.Directory, "Models", "bad.onnx")), "the source is untouched");
    }

    [TestMethod]
    public void UnknownMetadataIsRefusedWithItsName()
    {
        using var app = new ConsumerProject("""<CompressModel Include="Models/digits.onnx" Quantise="Int8" />""");
        app.AddModel("digits-mlp", "digits.onnx");

        var build = app.Build();

        Assert.AreNotEqual(0, build.ExitCode);
        StringAssert.Contains(build.Output, "error MSH3001: Models/digits.onnx: unknown metadata 'Quantise' on <CompressModel>; did you mean 'Quantize'?");
    }

    [TestMethod]
    public void CleanRemovesTheOutputsAndPublishIncludesThem()
    {
        using var app = new ConsumerProject("""<CompressModel Include="Models/digits.onnx" />""");
        app.AddModel("digits-mlp", "digits.onnx");
        Assert.AreEqual(0, app.Build().ExitCode);

        var publish = app.Dotnet("publish", "-o", "published", "-nologo");
        Assert.AreEqual(0, publish.ExitCode, publish.Output);
        Assert.IsTrue(File.Exists(Path.Combine(app.Directory, "published", "Models", "digits.onnx")));
        Assert.IsTrue(File.Exists(Path.Combine(app.Directory, "published", "Models", "digits.runtime.json")));

        var clean = app.Dotnet("clean", "-nologo");
        Assert.AreEqual(0, clean.ExitCode, clean.Output);
        Assert.IsFalse(File.Exists(Path.Combine(app.Output, "Models", "digits.onnx")));
        Assert.IsFalse(File.Exists(Path.Combine(app.Output, "Models", "digits.runtime.json")));
        // `dotnet publish` builds Release; `dotnet clean` cleans the Debug build it follows.
        Assert.IsEmpty(Directory.GetFiles(Path.Combine(app.Directory, "obj", "Debug"), "*.onnx", SearchOption.AllDirectories));
    }

    [TestMethod]
    public void TurnedOffTheBuildPlacesNothing()
    {
        using var app = new ConsumerProject("""<CompressModel Include="Models/digits.onnx" />""", "<ModelShrinkEnabled>false</ModelShrinkEnabled>");
        app.AddModel("digits-mlp", "digits.onnx");

        var build = app.Build();

        Assert.AreEqual(0, build.ExitCode, build.Output);
        Assert.DoesNotContain("ModelShrink: ", build.Output);
        Assert.IsFalse(File.Exists(Path.Combine(app.Output, "Models", "digits.runtime.json")));
    }

    [TestMethod]
    public void TwoProjectsBuildingTheSameModelInParallelBothSucceed()
    {
        using var shared = new TempDirectory();
        var model = shared.File("shared.onnx");
        File.Copy(Fixtures.Model("digits-cnn"), model);
        var item = $"""<CompressModel Include="{model}" />""";
        using var first = new ConsumerProject(item);
        using var second = new ConsumerProject(item);
        Assert.AreEqual(0, first.Dotnet("restore").ExitCode);
        Assert.AreEqual(0, second.Dotnet("restore").ExitCode);

        var builds = new[] { first, second }.AsParallel().Select(p => p.Build("--no-restore")).ToArray();

        foreach (var (build, app) in builds.Zip([first, second]))
        {
            Assert.AreEqual(0, build.ExitCode, build.Output);
            Assert.IsTrue(File.Exists(Path.Combine(app.Output, "shared.onnx")));
            Assert.IsTrue(File.Exists(Path.Combine(app.Output, "shared.runtime.json")));
        }

        CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(first.Output, "shared.onnx")), File.ReadAllBytes(Path.Combine(second.Output, "shared.onnx")));
    }

    [TestMethod]
    public void TheProjectWideTotalBudgetCountsEveryModel()
    {
        using var app = new ConsumerProject("""
            <CompressModel Include="Models/a.onnx" />
            <CompressModel Include="Models/b.onnx" />
            """, "<ModelShrinkMaxTotalSize>300KB</ModelShrinkMaxTotalSize>");
        app.AddModel("digits-mlp", "a.onnx");
        app.AddModel("digits-cnn", "b.onnx");

        var build = app.Build();

        Assert.AreNotEqual(0, build.ExitCode);
        StringAssert.Contains(build.Output, "App.csproj : ModelShrink error MSH3102: the compressed models total 386.43KB, over the ModelShrinkMaxTotalSize budget of 300KB by 86.43KB; largest: Models/a.onnx 199.22KB, Models/b.onnx 187.21KB; "
            + "ways out: raise ModelShrinkMaxTotalSize to 386.43KB, or shrink Models/a.onnx by 86.43KB (a smaller Quantize such as Int8 or Int4, Prune, or its own MaxSize), or set ModelShrinkBudgetSeverity=Warning to place them anyway (setting: ModelShrinkMaxTotalSize)");
    }

    [TestMethod]
    public void AutoMeetsTheAccuracyBudgetOnTheHoldoutAndAChangedHoldoutReprocessesTheItem()
    {
        using var app = new ConsumerProject("""<CompressModel Include="Models/digits.onnx" Quantize="Auto" Holdout="Models/holdout" MaxAccuracyDrop="0.01" />""");
        app.AddModel("digits-cnn", "digits.onnx");
        var holdout = Path.Combine(app.Directory, "Models", "holdout");
        foreach (var set in Fixtures.DataSets("digits-cnn"))
        {
            Directory.CreateDirectory(Path.Combine(holdout, Path.GetFileName(set)));
            File.Copy(Path.Combine(set, "input_0.pb"), Path.Combine(holdout, Path.GetFileName(set), "input_0.pb"));
        }

        File.Copy(Path.Combine(Fixtures.Root, "digits-cnn", "labels.json"), Path.Combine(holdout, "labels.json"));

        var first = app.Build();
        Assert.AreEqual(0, first.ExitCode, first.Output);
        StringAssert.Matches(first.Output, new System.Text.RegularExpressions.Regex(@"ModelShrink: Models/digits\.onnx: .*; Chose \S.* \(0\.\d\dx the size, Accuracy "), "the summary line says what Auto chose and why");
        // Normal verbosity shows the search while it runs: candidate k of ~N, what is measured, elapsed.
        StringAssert.Matches(first.Output, new System.Text.RegularExpressions.Regex(@"ModelShrink: Models/digits\.onnx: searching: step 1 of ~\d+, \S.* \(elapsed \d+s"), "the search is not silent inside the build");
        StringAssert.Matches(first.Output, new System.Text.RegularExpressions.Regex(@"\(0\.\d+ of the original\), (int8 per-(channel|tensor)|mixed \([^)]*int8[^)]*\)), Accuracy 0\.98\d* \(drop 0"), "the line names what was written as the sentence does");
        Assert.DoesNotContain("MSH2207", first.Output, "a mixed plan's passes each have layers to quantize");
        Assert.IsLessThan(60_000L, new FileInfo(Path.Combine(app.Output, "Models", "digits.onnx")).Length);
        Assert.IsFalse(Directory.Exists(Path.Combine(app.Output, "Models", "holdout")), "holdout data is not shipped");

        Assert.DoesNotContain("ModelShrink: ", app.Build().Output, "nothing changed");
        File.WriteAllText(Path.Combine(holdout, "labels.json"), File.ReadAllText(Path.Combine(holdout, "labels.json")).Replace("\"labels\": [", "\"labels\":["));
        var changed = app.Build();

        Assert.AreEqual(0, changed.ExitCode, changed.Output);
        StringAssert.Contains(changed.Output, "ModelShrink: Models/digits.onnx:");
    }
}
