using ModelShrink.Core.Compression;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Core.Providers;
using ModelShrink.Shared.Settings;

namespace ModelShrink.Core.Settings;

/// <summary>The typed settings of one &lt;CompressModel&gt; item, parsed from its metadata.</summary>
/// <param name="OutputName">The base name of the outputs (<c>name.onnx</c>, <c>name.runtime.json</c>).</param>
/// <param name="Providers">The execution providers to emit variants for, in the order the app should try them.</param>
/// <param name="Job">What to do and check: compression, budgets, holdout validation.</param>
public sealed record ItemSettings(string OutputName, IReadOnlyList<ExecutionProvider> Providers, JobSettings Job)
{
    /// <summary>Every metadata name an item may carry (case-insensitive). Anything else is refused (MSH3001).</summary>
    public static IReadOnlyList<string> KnownMetadata { get; } =
        SettingCatalog.All.Where(s => s.On(SettingSurface.Item)).Select(s => s.Name).ToArray();

    /// <summary>
    /// Parses an item's metadata; <paramref name="file"/> names the model in errors and relative
    /// paths (Holdout, Calibration) resolve against <paramref name="projectDirectory"/>.
    /// </summary>
    /// <remarks>Every problem of the item's settings is reported at once (unknown names, bad values, then the first broken rule between settings), not only the first.</remarks>
    public static ItemSettings Parse(IReadOnlyDictionary<string, string> metadata, string source, string file, string projectDirectory)
    {
        var unknown = new List<Diagnostic>();
        foreach (var name in metadata.Keys)
        {
            try
            {
                SettingsBinder.CheckKnown(name, SettingSurface.Item, file);
            }
            catch (ModelShrinkException e)
            {
                unknown.Add(e.Diagnostic);
            }
        }

        var known = metadata.Where(m => !SettingCatalog.StandardItemMetadata.Contains(m.Key, StringComparer.OrdinalIgnoreCase) && SettingCatalog.All.Any(s => string.Equals(s.Name, m.Key, StringComparison.OrdinalIgnoreCase)));
        var values = new SettingValues(known, SettingSurface.Item, file, projectDirectory) { CollectProblems = true };
        return values.BindAll(v => SettingsBinder.Item(v, source), unknown);
    }
}
