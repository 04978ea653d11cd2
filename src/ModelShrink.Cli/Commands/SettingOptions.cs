using System.CommandLine;
using ModelShrink.Core.Settings;
using ModelShrink.Shared.Settings;

namespace ModelShrink.Cli.Commands;

/// <summary>
/// The <c>compress</c> options made from the settings catalog: one option per setting, named in
/// kebab case (with its older aliases), described by the catalog's help, and read back as the same
/// <see cref="SettingValues"/> that item metadata gives, so both surfaces share one binder.
/// </summary>
public sealed class SettingOptions
{
    private readonly List<(Setting Setting, Option Option)> options = [];
    private readonly List<(Setting Setting, Option<bool> Option)> inverses = [];

    /// <summary>Makes an option for every setting the command line takes.</summary>
    public SettingOptions()
    {
        foreach (var setting in SettingCatalog.All.Where(s => s.On(SettingSurface.Cli)))
        {
            var description = SettingText.Description(setting, SettingSurface.Cli);
            Option option = setting.Kind switch
            {
                SettingKind.Switch => new Option<bool>(setting.CliName, setting.CliAliases) { Description = description },
                SettingKind.List => new Option<string[]>(setting.CliName, setting.CliAliases) { Description = description, AllowMultipleArgumentsPerToken = true },
                _ => new Option<string?>(setting.CliName, setting.CliAliases) { Description = description },
            };
            options.Add((setting, option));
            if (setting.CliInverse is { } inverse)
            {
                inverses.Add((setting, new Option<bool>(inverse) { Description = $"The same as {setting.CliName} false." }));
            }
        }
    }

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        foreach (var option in options.Select(o => o.Option).Concat(inverses.Select(i => i.Option)))
        {
            command.Options.Add(option);
        }
    }

    /// <summary>
    /// The values given on the command line; relative paths resolve against the working folder. Bad
    /// values are collected, not thrown (see <see cref="SettingValues.BindAll"/>), so one invocation
    /// reports all of them, as the build does for an item.
    /// </summary>
    public SettingValues Read(ParseResult parse)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (setting, option) in options)
        {
            if (parse.GetResult(option) is not { Implicit: false })
            {
                continue;
            }

            values[setting.Name] = option switch
            {
                Option<bool> flag => parse.GetValue(flag) ? "true" : "false",
                Option<string[]> list => string.Join(",", parse.GetValue(list) ?? []),
                Option<string?> text => parse.GetValue(text) ?? "",
                _ => throw new InvalidOperationException($"no reader for {option.GetType()}"),
            };
        }

        foreach (var (setting, option) in inverses)
        {
            if (parse.GetResult(option) is { Implicit: false } && parse.GetValue(option))
            {
                values[setting.Name] = "false";
            }
        }

        return new SettingValues(values, SettingSurface.Cli, file: null, Environment.CurrentDirectory) { CollectProblems = true };
    }
}
