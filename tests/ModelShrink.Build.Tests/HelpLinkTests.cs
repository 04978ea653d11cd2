using System.Collections;
using System.IO.Compression;
using Microsoft.Build.Framework;
using ModelShrink.Build.Tasks;
using ModelShrink.Shared.Contracts;

namespace ModelShrink.Build.Tests;

/// <summary>Every diagnostic the task logs links to its code's row of the README packed in the package.</summary>
[TestClass]
public sealed class HelpLinkTests
{
    [TestMethod]
    public void EachLoggedDiagnosticLinksToItsCodesAnchorInThePackedReadme()
    {
        using var package = ZipFile.OpenRead(PackageFeed.Package("ModelShrink.Build"));
        var readme = new StreamReader(package.GetEntry("docs/README.md")!.Open()).ReadToEnd();
        var engine = new RecordingBuildEngine();
        var task = new CompressModels { BuildEngine = engine, ProjectFile = "/app/App.csproj", HelpLinkBase = "/pkg/docs/README.md" };

        task.LogDiagnostics(new BuildResponse
        {
            Diagnostics =
            [
                new ResponseDiagnostic { Code = "MSH3100", Severity = "error", Message = "m.onnx: too big", Setting = "MaxSize" },
                new ResponseDiagnostic { Code = "MSH3200", Severity = "warning", Message = "m.onnx: no CUDA package", Setting = "Providers" },
            ],
        });

        Assert.AreEqual("file:///pkg/docs/README.md#msh3100", engine.Errors.Single().HelpLink);
        Assert.AreEqual("file:///pkg/docs/README.md#msh3200", engine.Warnings.Single().HelpLink);
        StringAssert.Contains(readme, "<a id=\"msh3100\"></a>MSH3100 |");
        StringAssert.Contains(readme, "<a id=\"msh3200\"></a>MSH3200 |");
    }

    [TestMethod]
    public void AWebBaseIsUsedAsItIs() =>
        Assert.AreEqual("https://example.org/modelshrink#msh4103", HelpLinks.For("https://example.org/modelshrink", "MSH4103"));

    private sealed class RecordingBuildEngine : IBuildEngine
    {
        public List<BuildErrorEventArgs> Errors { get; } = [];

        public List<BuildWarningEventArgs> Warnings { get; } = [];

        public bool ContinueOnError => false;

        public int LineNumberOfTaskNode => 0;

        public int ColumnNumberOfTaskNode => 0;

        public string ProjectFileOfTaskNode => "";

        public void LogErrorEvent(BuildErrorEventArgs e) => Errors.Add(e);

        public void LogWarningEvent(BuildWarningEventArgs e) => Warnings.Add(e);

        public void LogMessageEvent(BuildMessageEventArgs e)
        {
        }

        public void LogCustomEvent(CustomBuildEventArgs e)
        {
        }

        public bool BuildProjectFile(string projectFileName, string[] targetNames, IDictionary globalProperties, IDictionary targetOutputs) => false;
    }
}
