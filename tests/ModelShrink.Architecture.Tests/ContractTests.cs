using System.Text.RegularExpressions;

namespace ModelShrink.Architecture.Tests;

/// <summary>Contracts are declared once: codes come from the catalogue, namespaces follow folders.</summary>
[TestClass]
public sealed partial class ContractTests
{
    [TestMethod]
    public void NoSourceButTheCatalogueSpellsAnErrorCode()
    {
        var sources = Directory.GetFiles(Path.Combine(Root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && Path.GetFileName(f) != "ErrorCodes.cs")
            .ToArray();
        Assert.IsGreaterThan(100, sources.Length);
        var literal = sources.Where(f => CodeLiteral().IsMatch(File.ReadAllText(f))).Select(f => Path.GetRelativePath(Root, f)).ToArray();
        Assert.IsEmpty(literal, $"error codes spelled outside src/Shared/ErrorCodes.cs: {string.Join(", ", literal)}");
    }

    [TestMethod]
    public void EveryNamespaceOfTheEngineAndTheOnnxLibraryFollowsItsFolder()
    {
        foreach (var project in new[] { "ModelShrink.Onnx", "ModelShrink.Core" })
        {
            var root = Path.Combine(Root, "src", project);
            foreach (var file in Directory.GetFiles(root, "*.cs", SearchOption.AllDirectories).Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal)))
            {
                var folder = Path.GetRelativePath(root, Path.GetDirectoryName(file)!);
                var expected = folder == "." ? project : $"{project}.{folder.Replace(Path.DirectorySeparatorChar, '.')}";
                var declared = Namespace().Match(File.ReadAllText(file)).Groups[1].Value;
                Assert.AreEqual(expected, declared, Path.GetRelativePath(Root, file));
            }
        }
    }

    private static string Root
    {
        get
        {
            for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            {
                if (File.Exists(Path.Combine(folder.FullName, "ModelShrink.Build.sln")))
                {
                    return folder.FullName;
                }
            }

            throw new InvalidOperationException("ModelShrink.Build.sln not found above the test assembly");
        }
    }

    [GeneratedRegex("\"MSH\\d{4}\"")]
    private static partial Regex CodeLiteral();

    [GeneratedRegex(@"^namespace ([\w.]+)", RegexOptions.Multiline)]
    private static partial Regex Namespace();
}
