using ModelShrink.Core.Settings;
using ModelShrink.Shared.Settings;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Settings;

/// <summary>
/// The props file, the property page and the README list exactly the catalog's settings, as the
/// catalog renders them. A failure writes the expected text to artifacts/expected/ to paste in.
/// </summary>
[TestClass]
public sealed class SettingSurfacesTests
{
    [TestMethod]
    public void ThePropsFileDefaultsEveryItemSettingFromItsProperty() =>
        AssertRegion("build/ModelShrink.Build.props", "    <CompressModel>\n", "\n    </CompressModel>", SettingFiles.PropsDefaults());

    [TestMethod]
    public void ThePropertyPageOffersEveryItemSetting() =>
        AssertRegion("build/ModelShrink.Build.CompressModel.xaml", "    </Rule.DataSource>\n", "\n  </Rule>", SettingFiles.PropertyPage());

    [TestMethod]
    public void TheReadmeTableIsTheCatalog() =>
        AssertRegion("README.md", "<!-- settings table: rendered from SettingCatalog, held by SettingSurfacesTests -->\n", "\n<!-- end of settings table -->", SettingText.MarkdownTable());

    [TestMethod]
    public void OptionNamesAreUniqueAndKebabCase()
    {
        var names = SettingCatalog.All.Where(s => s.On(SettingSurface.Cli))
            .SelectMany(s => new[] { s.CliName }.Concat(s.CliAliases).Concat(s.CliInverse is { } i ? [i] : []))
            .ToArray();
        CollectionAssert.AllItemsAreUnique(names);
        Assert.IsTrue(names.All(n => n.StartsWith("--", StringComparison.Ordinal) && n == n.ToLowerInvariant()), string.Join(", ", names));
        Assert.AreEqual("--max-accuracy-drop", SettingCatalog.MaxAccuracyDrop.CliName);
        Assert.AreEqual("--int8-form", SettingCatalog.Int8Form.CliName);
        Assert.AreEqual("--keep-io-types", SettingCatalog.KeepIoTypes.CliName);
    }

    [TestMethod]
    public void EverySettingThatNamesAPathIsHashedByTheFingerprint()
    {
        var paths = SettingCatalog.All.Where(s => s.Kind == SettingKind.Path).Select(s => s.Name).ToArray();
        CollectionAssert.AreEquivalent(paths, SettingCatalog.DataSettings.Select(s => s.Name).ToArray());
        CollectionAssert.IsSubsetOf(new[] { "Holdout", "Calibration", "ReconstructData" }, paths);
    }

    private static void AssertRegion(string relativePath, string start, string end, string expected)
    {
        var text = File.ReadAllText(Path.Combine(Repository.Root, relativePath)).Replace("\r\n", "\n", StringComparison.Ordinal);
        var from = text.IndexOf(start, StringComparison.Ordinal);
        var to = from < 0 ? -1 : text.IndexOf(end, from + start.Length, StringComparison.Ordinal);
        var actual = from < 0 || to < 0 ? null : text[(from + start.Length)..to];
        if (actual == expected)
        {
            return;
        }

        var folder = Path.Combine(Repository.Root, "artifacts", "expected");
        Directory.CreateDirectory(folder);
        var file = Path.Combine(folder, Path.GetFileName(relativePath));
        File.WriteAllText(file, expected + "\n");
        Assert.Fail($"{relativePath} does not list the settings as the catalog renders them (between {start.Trim()} and {end.Trim()}); the expected text is in {file}");
    }
}
