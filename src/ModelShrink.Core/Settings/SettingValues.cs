using ModelShrink.Shared;
using System.Globalization;
using ModelShrink.Core.Budgets;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared.Settings;

namespace ModelShrink.Core.Settings;

/// <summary>
/// The settings a user gave on one surface (an item's metadata or the command line), as text, with
/// typed readers that apply the catalog's defaults and refuse bad values with one message per rule:
/// <c>NAME: 'VALUE' is not ...</c>, where NAME is the metadata (MSH3002) or the option (MSH1014).
/// </summary>
public sealed class SettingValues
{
    private readonly Dictionary<string, string> values;

    /// <summary>Values by setting name (case-insensitive); blank values count as not given.</summary>
    /// <param name="values">The values by <see cref="Setting.Name"/>.</param>
    /// <param name="surface">Where they were given: decides how a setting is named in errors and which error code is used.</param>
    /// <param name="file">The file errors name (the item's model; null on the command line).</param>
    /// <param name="baseDirectory">What relative paths resolve against (the project folder; the working folder).</param>
    public SettingValues(IEnumerable<KeyValuePair<string, string>> values, SettingSurface surface, string? file, string baseDirectory)
    {
        this.values = values.Where(v => !string.IsNullOrWhiteSpace(v.Value))
            .GroupBy(v => v.Key, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.Last().Value.Trim(), StringComparer.OrdinalIgnoreCase);
        Surface = surface;
        File = file;
        BaseDirectory = baseDirectory;
    }

    /// <summary>Where the values were given.</summary>
    public SettingSurface Surface { get; }

    private readonly List<Diagnostic> problems = [];

    /// <summary>
    /// When true, a bad value is recorded (see <see cref="Problems"/>) and the reader goes on with the
    /// setting's default, so one build reports every bad value of an item, not only the first;
    /// the caller reports them all (<see cref="ItemSettings.Parse"/>). When false (default), the first one throws.
    /// </summary>
    public bool CollectProblems { get; init; }

    /// <summary>The bad values recorded so far (with <see cref="CollectProblems"/>).</summary>
    public IReadOnlyList<Diagnostic> Problems => problems;

    /// <summary>
    /// Runs <paramref name="bind"/> over these values and throws once for every problem found: the
    /// <paramref name="earlier"/> ones (unknown names), each bad value recorded (with
    /// <see cref="CollectProblems"/>), then the rule that stopped the binder, if any; so one build or
    /// one command line reports all its settings problems, each a coded line.
    /// </summary>
    public T BindAll<T>(Func<SettingValues, T> bind, IEnumerable<Diagnostic>? earlier = null)
    {
        T? result = default;
        ModelShrinkException? rule = null;
        try
        {
            result = bind(this);
        }
        catch (ModelShrinkException e)
        {
            rule = e;
        }

        var all = (earlier ?? []).Concat(problems).Concat(rule?.All ?? []).ToArray();
        return all.Length > 0 ? throw new ModelShrinkException(all[0]) { All = all } : result!;
    }

    // A bad value: thrown, or recorded and replaced by what the default gives.
    private T Bad<T>(Setting setting, string problem, Func<string, T> fromDefault, T none)
    {
        var error = Invalid(setting, problem);
        if (!CollectProblems)
        {
            throw error;
        }

        problems.Add(error.Diagnostic);
        return setting.Default is { } text ? fromDefault(text) : none;
    }

    /// <summary>The file errors name.</summary>
    public string? File { get; }

    /// <summary>What relative paths resolve against.</summary>
    public string BaseDirectory { get; }

    /// <summary>How <paramref name="setting"/> is named to the user here: the metadata name or the option.</summary>
    public string Display(Setting setting) => Surface == SettingSurface.Cli ? setting.CliName : setting.Name;

    /// <summary>Whether the user gave <paramref name="setting"/>.</summary>
    public bool Has(Setting setting) => values.ContainsKey(setting.Name);

    /// <summary>The text given, else the catalog's default, else null.</summary>
    public string? Text(Setting setting) => values.TryGetValue(setting.Name, out var text) ? text : setting.Default;

    /// <summary>A choice parsed into <typeparamref name="T"/> (case-insensitive; '-' ignored, so weight-only is WeightOnly).</summary>
    public T Choice<T>(Setting setting) where T : struct, Enum =>
        OptionalChoice<T>(setting) ?? throw new InvalidOperationException($"{setting.Name} has no default");

    /// <summary>A choice, or null when neither given nor defaulted.</summary>
    public T? OptionalChoice<T>(Setting setting) where T : struct, Enum
    {
        if (Text(setting) is not { } text)
        {
            return null;
        }

        var allowed = setting.Choices.Length > 0 ? setting.Choices : Enum.GetNames<T>();
        return allowed.Contains(text, StringComparer.OrdinalIgnoreCase) && ModelShrink.Core.Text.EnumNames.TryParse<T>(text.Replace("-", "", StringComparison.Ordinal), out var value)
            ? value
            : Bad<T?>(setting, $"'{text}' is not one of {string.Join(", ", allowed)}{(ModelShrink.Core.Text.NearestName.For(text, allowed) is { } near ? $"; did you mean '{near}'?" : "")}",
                d => ModelShrink.Core.Text.EnumNames.TryParse<T>(d.Replace("-", "", StringComparison.Ordinal), out var fallback) ? fallback : null, null);
    }

    /// <summary>A switch: true or false (case-insensitive).</summary>
    public bool Switch(Setting setting) => OptionalSwitch(setting) ?? throw new InvalidOperationException($"{setting.Name} has no default");

    /// <summary>A switch, or null when neither given nor defaulted.</summary>
    public bool? OptionalSwitch(Setting setting) =>
        Text(setting) is not { } text ? null
        : bool.TryParse(text, out var value) ? value
        : Bad<bool?>(setting, $"'{text}' is not true or false", d => bool.TryParse(d, out var fallback) ? fallback : null, null);

    /// <summary>A number in [<paramref name="min"/>, <paramref name="max"/>], or null; <paramref name="range"/> words the range in the message.</summary>
    public double? Number(Setting setting, double min = 0, double max = double.MaxValue, string range = "of 0 or more")
    {
        if (Text(setting) is not { } text)
        {
            return null;
        }

        return double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : Bad<double?>(setting, $"'{text}' is not a number {range}", d => double.TryParse(d, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var fallback) ? fallback : null, null);
    }

    /// <summary>A share from 0 to 1, or null.</summary>
    public double? Fraction(Setting setting) => Number(setting, 0, 1, "from 0 to 1 such as 0.01");

    /// <summary>A whole number in [<paramref name="min"/>, <paramref name="max"/>], or null.</summary>
    public long? Integer(Setting setting, long min = 0, long max = long.MaxValue)
    {
        if (Text(setting) is not { } text)
        {
            return null;
        }

        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : Bad<long?>(setting, $"'{text}' is not a whole number from {min}{(max == long.MaxValue ? " up" : $" to {max}")}", d => long.TryParse(d, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var fallback) ? fallback : null, null);
    }

    /// <summary>A size such as 20MB, or null.</summary>
    public long? Size(Setting setting) =>
        Text(setting) is not { } text ? null
        : ByteSize.TryParse(text, out var bytes) ? bytes
        : Bad<long?>(setting, $"'{text}' is not a size such as 20MB (units B, KB, MB, GB; 1 KB = 1024 B; no space)", d => ByteSize.TryParse(d, out var fallback) ? fallback : null, null);

    /// <summary>A path made absolute against <see cref="BaseDirectory"/>, or null.</summary>
    public string? Path(Setting setting) => Text(setting) is { } text ? System.IO.Path.GetFullPath(text, BaseDirectory) : null;

    /// <summary>A list split at ',' and ';'; empty when not given.</summary>
    public IReadOnlyList<string> List(Setting setting) =>
        Text(setting) is { } text ? text.Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [];

    /// <summary>The coded error for a bad value of <paramref name="setting"/>: MSH3002 for metadata, MSH1014 for an option.</summary>
    public ModelShrinkException Invalid(Setting setting, string problem) => Invalid(Display(setting), problem);

    /// <summary>The coded error for a rule that names a setting by its display name.</summary>
    public ModelShrinkException Invalid(string display, string problem) =>
        ModelShrinkException.Error(Surface == SettingSurface.Cli ? ErrorCodes.InvalidArgument : ErrorCodes.InvalidMetadata, $"{display}: {problem}", File, display);
}
