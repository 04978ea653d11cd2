using ModelShrink.Core.Settings;
using System.Reflection;
using ModelShrink.Core.Requests;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Documentation;

/// <summary>The README documents every error code and every item metadata the engine has.</summary>
[TestClass]
public sealed class ReadmeTests
{
    [TestMethod]
    public void EveryErrorCodeHasARowWithItsHelpLinkAnchorInTheErrorTable()
    {
        var readme = Repository.Readme;
        var codes = typeof(ErrorCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string))
            .Select(f => (string)f.GetRawConstantValue()!)
            .Where(c => c.StartsWith("MSH", StringComparison.Ordinal))
            .Distinct()
            .ToArray();

        Assert.IsGreaterThan(50, codes.Length);
        // Each row carries the anchor its help link (ModelShrink.Build.Tasks.HelpLinks) points at: #msh3100.
        var missing = codes.Where(c => !readme.Contains($"| <a id=\"{c.ToLowerInvariant()}\"></a>{c} |", StringComparison.Ordinal)).ToArray();
        Assert.IsEmpty(missing, $"codes without a README row and its anchor: {string.Join(", ", missing)}");
    }

    [TestMethod]
    public void EveryItemMetadataHasARowInTheMetadataTable()
    {
        var readme = Repository.Readme;
        var missing = ItemSettings.KnownMetadata.Where(m => !readme.Contains($"| `{m}` |", StringComparison.Ordinal)).ToArray();
        Assert.IsEmpty(missing, $"metadata without a README row: {string.Join(", ", missing)}");
    }
}
