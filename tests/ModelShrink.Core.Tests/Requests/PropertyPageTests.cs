using ModelShrink.Core.Settings;
using System.Xml.Linq;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Passes.Reconstruction;
using ModelShrink.Core.Requests;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Requests;

/// <summary>Visual Studio's property page for &lt;CompressModel&gt; must offer what the engine accepts, and nothing else.</summary>
[TestClass]
public sealed class PropertyPageTests
{
    private static readonly XNamespace Schema = "http://schemas.microsoft.com/build/2009/properties";

    [TestMethod]
    public void EveryMetadataHasAPropertyAndEveryPropertyIsMetadata()
    {
        var names = Properties().Select(p => (string)p.Attribute("Name")!).ToArray();
        CollectionAssert.AreEquivalent(ItemSettings.KnownMetadata.ToArray(), names);
    }

    [TestMethod]
    public void EnumPropertiesOfferTheEngineValues()
    {
        CollectionAssert.AreEquivalent(PipelineFactory.RequestableModes.Select(m => m.ToString()).ToArray(), EnumValues("Quantize"));
        CollectionAssert.AreEquivalent(Enum.GetNames<ReconstructMode>(), EnumValues("Reconstruct"));
    }

    private static string[] EnumValues(string property) =>
        Properties().Single(p => (string)p.Attribute("Name")! == property).Elements(Schema + "EnumValue").Select(v => (string)v.Attribute("Name")!).ToArray();

    private static IEnumerable<XElement> Properties()
    {
        var rule = XDocument.Load(Path.Combine(Repository.Root, "build", "ModelShrink.Build.CompressModel.xaml")).Root!.Element(Schema + "Rule")!;
        return rule.Elements().Where(e => e.Name.LocalName.EndsWith("Property", StringComparison.Ordinal));
    }
}
