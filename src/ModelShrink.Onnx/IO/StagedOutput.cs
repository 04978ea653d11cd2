using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;

namespace ModelShrink.Onnx.IO;

/// <summary>Moves a finished run's files from its <see cref="StagingFolder"/> into place.</summary>
public static class StagedOutput
{
    /// <summary>
    /// Moves every staged file beside <paramref name="target"/> (the model's absolute path): its
    /// external-data and other files first and the model last, so the new model never appears
    /// before the data it reads. Each target is checked again just before its rename (never a device
    /// or FIFO). Holds <see cref="StagingFolder.PublishLock"/> so a signal cannot cut it halfway.
    /// </summary>
    public static IReadOnlyList<string> Publish(StagingFolder staging, string target, string display, string setting)
    {
        var folder = Path.GetDirectoryName(target)!;
        var modelName = Path.GetFileName(target);
        var files = staging.StagedFiles()
            .OrderBy(f => Path.GetFileName(f) == modelName)
            .ThenBy(f => f, StringComparer.Ordinal)
            .ToArray();
        var published = new List<string>(files.Length);
        lock (StagingFolder.PublishLock)
        {
            foreach (var file in files)
            {
                var name = Path.GetFileName(file);
                var destination = Path.Combine(folder, name);
                OutputPath.MoveInto(file, destination, name == modelName ? display : destination, setting);
                published.Add(destination);
            }
        }

        return published;
    }

    /// <summary>
    /// <paramref name="diagnostic"/> with the staged model's path replaced by <paramref name="display"/>
    /// (the output as the user named it) and the staging folder by the output's folder: a user never
    /// sees the hidden folder's name.
    /// </summary>
    public static Diagnostic Unstage(Diagnostic diagnostic, StagingFolder staging, string stagedModel, string display)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(display)) ?? "";
        string Replace(string text) => text.Replace(stagedModel, display, StringComparison.Ordinal).Replace(staging.FullPath, folder, StringComparison.Ordinal);
        return diagnostic with
        {
            File = diagnostic.File is null ? null : Replace(diagnostic.File),
            Message = Replace(diagnostic.Message),
        };
    }
}
