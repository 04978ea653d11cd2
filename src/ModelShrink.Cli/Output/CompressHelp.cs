using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using ModelShrink.Shared.Settings;

namespace ModelShrink.Cli.Output;

/// <summary>
/// <c>compress --help</c>: about sixty options, so the few most runs need come first and the rest
/// follow under their catalog category, quantization options grouped by the mode they apply to
/// (the order of <see cref="SettingCatalog"/>). Every other command keeps System.CommandLine's help.
/// </summary>
public sealed class CompressHelp(CommandLineAction fallback) : SynchronousCommandLineAction
{
    /// <summary>The options most runs need, in the order shown; every other option goes under its group.</summary>
    public static readonly IReadOnlyList<string> MostUsed =
        ["--output", "--quantize", "--holdout", "--max-accuracy-drop", "--max-size", "--prune", "--providers", "--report", "--json"];

    private const int Width = 100;

    /// <summary>Makes <paramref name="root"/>'s help option show the grouped help for <c>compress</c>.</summary>
    public static void Install(RootCommand root)
    {
        var help = root.Options.OfType<HelpOption>().Single();
        help.Action = new CompressHelp(help.Action!);
    }

    /// <inheritdoc />
    public override bool ClearsParseErrors => true;

    /// <inheritdoc />
    public override int Invoke(ParseResult parseResult)
    {
        var command = parseResult.CommandResult.Command;
        if (command.Name != "compress")
        {
            return fallback is SynchronousCommandLineAction synchronous ? synchronous.Invoke(parseResult) : 0;
        }

        Write(command, parseResult.InvocationConfiguration.Output);
        return 0;
    }

    /// <summary>The grouped help of <paramref name="compress"/>.</summary>
    public static void Write(Command compress, TextWriter output)
    {
        var options = compress.Options.Concat(compress.Parents.OfType<Command>().SelectMany(p => p.Options.Where(o => o.Recursive)))
            .Where(o => !o.Hidden).ToArray();
        // An option belongs to its setting; an older inverse flag (--per-tensor) to the setting it inverts.
        var settings = SettingCatalog.All.Where(s => s.On(SettingSurface.Cli))
            .SelectMany(s => new[] { (Name: s.CliName, Setting: s) }.Concat(s.CliInverse is { } inverse ? [(inverse, s)] : []))
            .ToDictionary(p => p.Name, p => p.Setting, StringComparer.Ordinal);
        output.WriteLine("Description:");
        output.WriteLine($"  {compress.Description}");
        output.WriteLine();
        output.WriteLine("Usage:");
        output.WriteLine("  modelshrink compress <MODEL> -o <OUT> [options]");
        output.WriteLine();

        var first = MostUsed.Select(name => options.Single(o => o.Name == name)).ToArray();
        var groups = new List<(string Title, Option[] Options)> { ("Most used", first) };
        var rest = options.Except(first).ToArray();
        // Settings grouped as the catalog declares them; quantization per mode (AppliesTo).
        foreach (var group in rest.Where(o => settings.ContainsKey(o.Name))
                     .GroupBy(o => Title(settings[o.Name]))
                     .OrderBy(g => SettingCatalog.All.ToList().IndexOf(settings[g.First().Name])))
        {
            groups.Add((group.Key, group.ToArray()));
        }

        groups.Add(("Other", rest.Where(o => !settings.ContainsKey(o.Name)).ToArray()));
        WriteRows(output, "Arguments", [("<MODEL>", compress.Arguments.Single().Description ?? "")]);
        foreach (var (title, members) in groups.Where(g => g.Options.Length > 0))
        {
            WriteRows(output, title, members.Select(o => (Label(o), o.Description ?? "")).ToArray());
        }
    }

    private static string Title(Setting setting) =>
        setting.Category == "Quantization" && setting.AppliesTo.Length > 0 ? $"Quantization ({setting.AppliesTo})" : setting.Category;

    private static string Label(Option option)
    {
        var aliases = option.Aliases.Where(a => a.StartsWith('-')).ToArray();
        var names = aliases.Where(a => a.Length == 2).Order().Concat([option.Name]).Concat(aliases.Where(a => a.Length > 2).Order());
        var value = option.ValueType == typeof(bool) || option.Arity.MaximumNumberOfValues == 0 ? "" : $" <{option.Name.TrimStart('-')}>";
        return string.Join(", ", names.Distinct()) + value;
    }

    private static void WriteRows(TextWriter output, string title, IReadOnlyList<(string Label, string Text)> rows)
    {
        output.WriteLine($"{title}:");
        var column = Math.Min(rows.Max(r => r.Label.Length) + 4, 40);
        foreach (var (label, text) in rows)
        {
            var lines = Wrap(text, Width - column).ToArray();
            var head = "  " + label;
            if (head.Length + 2 > column)
            {
                output.WriteLine(head);
                head = "";
            }

            for (var i = 0; i < lines.Length; i++)
            {
                output.WriteLine((i == 0 ? head : "").PadRight(column) + lines[i]);
            }
        }

        output.WriteLine();
    }

    private static IEnumerable<string> Wrap(string text, int width)
    {
        var line = "";
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width)
            {
                yield return line;
                line = "";
            }

            line = line.Length == 0 ? word : line + " " + word;
        }

        yield return line;
    }
}
