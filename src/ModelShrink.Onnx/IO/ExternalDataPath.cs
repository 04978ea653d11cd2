using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;

namespace ModelShrink.Onnx.IO;

/// <summary>
/// Resolves an external-data location against the model's folder and refuses any location that
/// could read outside it: absolute paths, drive letters, '..' segments, and links whose target
/// leaves the folder (the class of onnx CVE-2024-27318 and CVE-2024-27319).
/// </summary>
public static class ExternalDataPath
{
    private const int MaxLinkDepth = 40;

    /// <summary>
    /// The absolute path of <paramref name="location"/> inside <paramref name="modelDirectory"/>,
    /// or an MSH1007 (unsafe) / MSH1006 (missing) error naming <paramref name="modelFile"/>.
    /// </summary>
    public static string Resolve(string modelDirectory, string location, string modelFile, string tensorName)
    {
        var setting = $"tensor '{tensorName}' external_data location";
        if (!IsSafeRelative(location))
        {
            throw ModelShrinkException.Error(ErrorCodes.ExternalDataUnsafePath,
                $"external-data location '{Printable(location)}' must be a relative path inside the model's folder", modelFile, setting);
        }

        var baseDirectory = Path.GetFullPath(modelDirectory);
        var fullPath = Path.GetFullPath(Path.Combine(baseDirectory, location.Replace('\\', '/')));
        if (!IsInside(fullPath, baseDirectory))
        {
            throw ModelShrinkException.Error(ErrorCodes.ExternalDataUnsafePath,
                $"external-data location '{Printable(location)}' resolves outside the model's folder", modelFile, setting);
        }

        switch (FileKinds.Of(fullPath))
        {
            case FileKind.Regular:
                break;
            case FileKind.Missing:
                throw ModelShrinkException.Error(ErrorCodes.ExternalDataMissing,
                    $"external-data file '{Printable(location)}' does not exist next to the model", modelFile, setting);
            case FileKind.Folder:
                throw ModelShrinkException.Error(ErrorCodes.ExternalDataMissing,
                    $"external-data location '{Printable(location)}' is a folder, not a file", modelFile, setting);
            case var kind:
                // Checked before any open: a FIFO would block the read forever.
                throw ModelShrinkException.Error(ErrorCodes.InputNotRegularFile,
                    $"external-data location '{Printable(location)}' is {FileKinds.Describe(kind)}, not a regular file", modelFile, setting);
        }

        // A link inside the folder may still point outside it: compare the real paths.
        if (!IsInside(RealPath(fullPath, 0), RealPath(baseDirectory, 0)))
        {
            throw ModelShrinkException.Error(ErrorCodes.ExternalDataUnsafePath,
                $"external-data location '{Printable(location)}' is a link that leaves the model's folder", modelFile, setting);
        }

        return fullPath;
    }

    /// <summary>Whether a location is a plain relative path: not rooted, no drive, no '..', no NUL.</summary>
    public static bool IsSafeRelative(string location)
    {
        if (string.IsNullOrWhiteSpace(location) || location.Contains('\0') || location.Contains(':'))
        {
            return false;
        }

        var normalized = location.Replace('\\', '/');
        if (normalized.StartsWith('/') || Path.IsPathRooted(location))
        {
            return false;
        }

        return !normalized.Split('/').Any(segment => segment == "..");
    }

    private static bool IsInside(string path, string directory)
    {
        var comparison = OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        var prefix = Path.EndsInDirectorySeparator(directory) ? directory : directory + Path.DirectorySeparatorChar;
        return path.StartsWith(prefix, comparison);
    }

    // The path with every link along it resolved (what POSIX realpath returns).
    private static string RealPath(string path, int depth)
    {
        if (depth > MaxLinkDepth)
        {
            throw new IOException($"too many levels of links resolving '{path}'");
        }

        var full = Path.GetFullPath(path);
        var root = Path.GetPathRoot(full) ?? "/";
        var current = root;
        foreach (var part in full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            var next = Path.Combine(current, part);
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            if (info.LinkTarget is not null)
            {
                var target = info.ResolveLinkTarget(returnFinalTarget: true);
                next = target is null ? next : RealPath(target.FullName, depth + 1);
            }

            current = next;
        }

        return current;
    }

    private static string Printable(string text) => new(text.Select(c => char.IsControl(c) ? '?' : c).Take(200).ToArray());
}
