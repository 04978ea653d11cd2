namespace ModelShrink.Build.Tests;

/// <summary>Where `dotnet build` puts NAME.report.json / NAME.report.html: the item's intermediate folder, never the app.</summary>
[TestClass]
public sealed class ReportPlacementTests
{
    [TestMethod]
    public void TheReportStaysInObjAndTheSummaryLineNamesIt()
    {
        using var app = new ConsumerProject("""<CompressModel Include="Models/digits.onnx" Quantize="Fp16" />""");
        app.AddModel("digits-mlp", "digits.onnx");

        var build = app.Build();

        Assert.AreEqual(0, build.ExitCode, build.Output);
        var html = Directory.GetFiles(Path.Combine(app.Directory, "obj"), "digits.report.html", SearchOption.AllDirectories).Single();
        Assert.IsTrue(File.Exists(Path.ChangeExtension(html, ".json")));
        StringAssert.Contains(build.Output, $"; report {html}");
        Assert.IsTrue(File.Exists(Path.Combine(app.Output, "Models", "digits.onnx")));
        Assert.IsEmpty(Directory.GetFiles(app.Output, "*.report.*", SearchOption.AllDirectories), "a report was copied to the app");

        var clean = app.Dotnet("clean", "-nologo");
        Assert.AreEqual(0, clean.ExitCode, clean.Output);
        Assert.IsFalse(File.Exists(html), "clean leaves the report");
    }

    [TestMethod]
    public void AFailedItemSaysWhereItsReportIs()
    {
        using var app = new ConsumerProject("""<CompressModel Include="Models/digits.onnx" MaxSize="50KB" />""");
        app.AddModel("digits-mlp", "digits.onnx");

        var build = app.Build();

        Assert.AreNotEqual(0, build.ExitCode);
        var html = Directory.GetFiles(Path.Combine(app.Directory, "obj"), "digits.report.html", SearchOption.AllDirectories).Single();
        StringAssert.Contains(build.Output, $"ModelShrink: Models/digits.onnx: report {html}");
        StringAssert.Contains(File.ReadAllText(Path.ChangeExtension(html, ".json")), "\"verdict\": \"failed\"");
    }
}
