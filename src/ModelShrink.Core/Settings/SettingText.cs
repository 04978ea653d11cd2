using System.Text.RegularExpressions;
using ModelShrink.Shared.Settings;

namespace ModelShrink.Core.Settings;

/// <summary>
/// A setting's help as each surface shows it: <c>{Holdout}</c> becomes <c>Holdout</c> in metadata
/// help and <c>--holdout</c> on the command line; the README's table is rendered from the same text.
/// </summary>
public static partial class SettingText
{
    /// <summary>The help with other settings named as on <paramref name="surface"/>, followed by the default.</summary>
    public static string Description(Setting setting, SettingSurface surface)
    {
        var help = Render(setting.Help, surface, markdown: false);
        var applies = setting.AppliesTo.Length > 0 ? $"{setting.AppliesTo}: " : "";
        return $"{applies}{help} (default: {Render(DefaultText(setting), surface, markdown: false)}).";
    }

    /// <summary>The README table of every setting: metadata, option, default, meaning.</summary>
    public static string MarkdownTable()
    {
        var lines = new List<string>
        {
            "| metadata | `compress` option | applies to | default | meaning |",
            "| --- | --- | --- | --- | --- |",
        };
        foreach (var setting in SettingCatalog.All)
        {
            var metadata = setting.On(SettingSurface.Item) ? $"`{setting.Name}`" : "";
            var cli = setting.On(SettingSurface.Cli)
                ? string.Join(", ", new[] { setting.CliName }.Concat(setting.CliAliases).Concat(setting.CliInverse is { } i ? [i] : []).Select(n => $"`{n}`"))
                : "";
            var defaultText = setting.Default is { } value ? $"`{value}`" : Render(DefaultText(setting), SettingSurface.Item, markdown: true);
            lines.Add($"| {metadata} | {cli} | {setting.AppliesTo} | {defaultText} | {Render(setting.Help, SettingSurface.Item, markdown: true).Replace("|", "\\|", StringComparison.Ordinal)} |");
        }

        return string.Join("\n", lines);
    }

    private static string DefaultText(Setting setting) => setting.Default ?? setting.DefaultText ?? "none";

    // {Name} becomes the setting as the surface names it; outside markdown the code ticks go.
    private static string Render(string text, SettingSurface surface, bool markdown)
    {
        var rendered = Reference().Replace(text, match =>
        {
            var name = match.Groups[1].Value;
            var shown = surface == SettingSurface.Cli ? "--" + Setting.Kebab(name) : name;
            return markdown ? $"`{shown}`" : shown;
        });
        return markdown ? rendered : rendered.Replace("`", "", StringComparison.Ordinal);
    }

    [GeneratedRegex(@"\{([A-Za-z0-9]+)\}")]
    private static partial Regex Reference();
}
