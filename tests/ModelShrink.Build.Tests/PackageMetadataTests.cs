using System.IO.Compression;
using System.Xml.Linq;
using ModelShrink.Testing;

namespace ModelShrink.Build.Tests;

/// <summary>Every package carries its page: a readme, a description, tags; license and URLs only once the owner sets them.</summary>
[TestClass]
public sealed class PackageMetadataTests
{
    public static IEnumerable<object[]> Packages =>
    [
        ["ModelShrink.Build", "src/ModelShrink.Build.Tasks"],
        ["ModelShrink.Runtime", "src/ModelShrink.Runtime"],
        ["ModelShrink.Cli", "src/ModelShrink.Cli"],
    ];

    [TestMethod]
    [DynamicData(nameof(Packages))]
    public void EachPackageHasItsReadmeDescriptionAndTagsAndPacksWithoutWarnings(string id, string project)
    {
        using var package = ZipFile.OpenRead(PackageFeed.Package(id));
        var metadata = Nuspec(package);

        Assert.AreEqual("README.md", Value(metadata, "readme"));
        var readme = new StreamReader(package.GetEntry("README.md")!.Open()).ReadToEnd();
        Assert.AreEqual(File.ReadAllText(Path.Combine(PackageFeed.RepositoryRoot, project, "README.md")), readme);
        StringAssert.StartsWith(readme, $"# {id}\n");
        Assert.IsGreaterThan(40, Value(metadata, "description")!.Length, id);
        StringAssert.Contains(Value(metadata, "tags"), "onnx");
        // No license and no public home yet (the owner's decision): the elements are left out, not empty.
        Assert.IsNull(Value(metadata, "license"), id);
        Assert.IsNull(Value(metadata, "projectUrl"), id);
        // The SDK records the commit it was packed from; the URL waits for the owner.
        Assert.IsNull(metadata.Element(metadata.Name.Namespace + "repository")?.Attribute("url"), id);
        Assert.DoesNotContain("warning", PackageFeed.PackOutput[project], StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("missing a readme", PackageFeed.PackOutput[project]);
    }

    [TestMethod]
    public void LicenseAndUrlsSetInOnePlaceReachThePackage()
    {
        using var output = new TempDirectory();
        var pack = DotnetCli.Run(PackageFeed.RepositoryRoot, "pack", "src/ModelShrink.Runtime", "-c", "E2E", "-o", output.Path, "-nologo",
            "-p:Version=" + PackageFeed.Version, "-p:PackageLicenseExpression=MIT",
            "-p:PackageProjectUrl=https://example.org/modelshrink", "-p:RepositoryUrl=https://example.org/modelshrink.git");
        Assert.AreEqual(0, pack.ExitCode, pack.Output);

        using var package = ZipFile.OpenRead(Directory.GetFiles(output.Path, "*.nupkg").Single());
        var metadata = Nuspec(package);

        Assert.AreEqual("MIT", Value(metadata, "license"));
        Assert.AreEqual("expression", metadata.Element(metadata.Name.Namespace + "license")!.Attribute("type")!.Value);
        Assert.AreEqual("https://example.org/modelshrink", Value(metadata, "projectUrl"));
        var repository = metadata.Element(metadata.Name.Namespace + "repository")!;
        Assert.AreEqual("https://example.org/modelshrink.git", repository.Attribute("url")!.Value);
        Assert.AreEqual("git", repository.Attribute("type")!.Value);
    }

    private static XElement Nuspec(ZipArchive package)
    {
        var entry = package.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        using var stream = entry.Open();
        var root = XDocument.Load(stream).Root!;
        return root.Element(root.Name.Namespace + "metadata")!;
    }

    private static string? Value(XElement metadata, string name) => metadata.Element(metadata.Name.Namespace + name)?.Value;
}
