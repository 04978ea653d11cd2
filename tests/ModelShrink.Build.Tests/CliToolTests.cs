using System.IO.Compression;
using ModelShrink.Testing;

namespace ModelShrink.Build.Tests;

/// <summary>ModelShrink.Cli as a .NET tool: small, installs from the feed, runs, and fetches ONNX Runtime's native library itself.</summary>
[TestClass]
public sealed class CliToolTests
{
    [TestMethod]
    public void TheToolPackageIsSmallAndCarriesNoNativeLibraries()
    {
        Assert.IsLessThan(40L * 1024 * 1024, new FileInfo(PackageFeed.Package("ModelShrink.Cli")).Length);
        using var package = ZipFile.OpenRead(PackageFeed.Package("ModelShrink.Cli"));
        Assert.IsFalse(package.Entries.Any(e => e.FullName.Contains("/runtimes/", StringComparison.Ordinal)), "no ONNX Runtime natives");
        Assert.IsTrue(package.Entries.Any(e => e.FullName == "tools/net10.0/any/modelshrink.dll"));
    }

    [TestMethod]
    public void TheInstalledToolShowsGroupedHelpAndCompressesFetchingOnnxRuntimeIntoAnEmptyCache()
    {
        using var work = new TempDirectory();
        var tools = Path.Combine(work.Path, "tools");
        var install = DotnetCli.Run(work.Path, "tool", "install", "--tool-path", tools, "--add-source", PackageFeed.Folder, "ModelShrink.Cli", "--version", PackageFeed.Version);
        Assert.AreEqual(0, install.ExitCode, install.Output);
        var modelshrink = Path.Combine(tools, OperatingSystem.IsWindows() ? "modelshrink.exe" : "modelshrink");

        var help = ToolProcess.Run(modelshrink, work.Path, null, null, "compress", "--help");
        Assert.AreEqual(0, help.ExitCode, help.Output);
        // The few options most runs need lead; the rest follow by group.
        Assert.IsLessThan(help.Output.IndexOf("Compression:", StringComparison.Ordinal), help.Output.IndexOf("Most used:", StringComparison.Ordinal));
        Assert.IsLessThan(help.Output.IndexOf("--opset", StringComparison.Ordinal), help.Output.IndexOf("--max-accuracy-drop", StringComparison.Ordinal));
        StringAssert.Contains(help.Output, "Quantization (Int4):");

        // A machine whose NuGet cache has no ONNX Runtime: the tool restores it there once.
        var cache = Path.Combine(work.Path, "nuget-cache");
        var output = Path.Combine(work.Path, "digits.int8.onnx");
        var compress = ToolProcess.Run(modelshrink, work.Path, new Dictionary<string, string> { ["NUGET_PACKAGES"] = cache }, null,
            "compress", Fixtures.Model("digits-cnn"), "-o", output, "--quantize", "Int8", "--holdout", Fixtures.DataSets("digits-cnn")[0]);

        Assert.AreEqual(0, compress.ExitCode, compress.Output);
        StringAssert.Contains(compress.Output, "modelshrink: fetching ONNX Runtime 1.31.1");
        StringAssert.Contains(compress.Output, "Agreement");
        Assert.IsTrue(Directory.Exists(Path.Combine(cache, "microsoft.ml.onnxruntime", "1.31.1")));
        Assert.IsLessThan(new FileInfo(Fixtures.Model("digits-cnn")).Length / 2, new FileInfo(output).Length);

        var again = ToolProcess.Run(modelshrink, work.Path, new Dictionary<string, string> { ["NUGET_PACKAGES"] = cache }, null,
            "inspect", output);
        Assert.AreEqual(0, again.ExitCode, again.Output);
        Assert.DoesNotContain("fetching", again.Output, "fetched once");
    }
}
