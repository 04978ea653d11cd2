using System.Security;
using ModelShrink.Shared.Settings;

namespace ModelShrink.Core.Settings;

/// <summary>
/// The parts of build/ModelShrink.Build.props and the property page that list the item settings,
/// rendered from the catalog. Tests hold the files in the repository to these renderings, so a
/// setting added to the catalog and forgotten there fails the suite with the text to paste.
/// </summary>
public static class SettingFiles
{
    /// <summary>The categories of the property page, in order.</summary>
    public static readonly IReadOnlyList<string> Categories = ["Compression", "Quantization", "Pruning", "Reconstruction", "Budgets", "Output"];

    private static IEnumerable<Setting> ItemSettings => SettingCatalog.All.Where(s => s.On(SettingSurface.Item));

    /// <summary>The ItemDefinitionGroup body: each metadata defaults to its project-wide property.</summary>
    public static string PropsDefaults() =>
        string.Join("\n", ItemSettings.Select(s => $"      <{s.Name}>$({s.PropertyName})</{s.Name}>"));

    /// <summary>The property page's categories and properties.</summary>
    public static string PropertyPage()
    {
        var lines = new List<string> { "    <Rule.Categories>" };
        lines.AddRange(Categories.Select(c => $"      <Category Name=\"{c}\" DisplayName=\"{c}\" />"));
        lines.Add("    </Rule.Categories>");
        foreach (var setting in ItemSettings)
        {
            var description = Xml(SettingText.Description(setting, SettingSurface.Item));
            var head = $"Name=\"{setting.Name}\" DisplayName=\"{setting.Name}\" Category=\"{setting.Category}\" Description=\"{description}\"";
            switch (setting.Kind)
            {
                case SettingKind.Choice:
                    lines.Add($"    <EnumProperty {head}>");
                    lines.AddRange(setting.Choices.Select(c => $"      <EnumValue Name=\"{c}\" DisplayName=\"{c}\" />"));
                    lines.Add("    </EnumProperty>");
                    break;
                case SettingKind.Switch:
                    lines.Add($"    <BoolProperty {head} />");
                    break;
                case SettingKind.Path:
                    lines.Add($"    <StringProperty {head} Subtype=\"folder\" />");
                    break;
                default:
                    lines.Add($"    <StringProperty {head} />");
                    break;
            }
        }

        return string.Join("\n", lines);
    }

    private static string Xml(string text) => SecurityElement.Escape(text);
}
