using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;

namespace ModelShrink.Onnx.IO;

/// <summary>
/// Checks where the engine may write, and moves finished files there. Every output is written
/// elsewhere first (a temporary file or a staging folder) and renamed over its path at the end; a
/// rename replaces whatever the path names, so this refuses any path that is not a regular file (or
/// nothing) both before the work starts and again just before the rename: /dev/null, /dev/full, a
/// FIFO or a socket is never replaced by a model.
/// </summary>
public static class OutputPath
{
    /// <summary>
    /// The full path of <paramref name="path"/> when a model may be written there; otherwise a coded
    /// error naming <paramref name="path"/> as the user gave it: MSH1017 (empty or malformed),
    /// MSH1018 (an existing folder), MSH1016 (a device, FIFO, socket), MSH1020 (/proc, /sys, /dev),
    /// MSH1019 (its folder is a file).
    /// </summary>
    public static string Check(string? path, string setting)
    {
        if (string.IsNullOrWhiteSpace(path) || path.Contains('\0'))
        {
            throw ModelShrinkException.Error(ErrorCodes.OutputPathInvalid, "the output path is empty; name a file such as model.small.onnx", string.IsNullOrEmpty(path) ? null : path, setting);
        }

        string fullPath;
        try
        {
            fullPath = Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw ModelShrinkException.Error(ErrorCodes.OutputPathInvalid, $"the output path is not a valid path: {e.Message}", path, setting);
        }

        if (Path.EndsInDirectorySeparator(path) || FileKinds.Of(fullPath) == FileKind.Folder)
        {
            throw ModelShrinkException.Error(ErrorCodes.OutputIsFolder,
                "the output path is a folder; name the file to write inside it, such as model.small.onnx", path, setting);
        }

        CheckReplaceable(fullPath, path, setting);
        if (SystemFolder(fullPath) is { } system)
        {
            throw ModelShrinkException.Error(ErrorCodes.OutputInSystemFolder,
                $"the output path is inside {system}, a kernel pseudo file system; write the model to a normal folder", path, setting);
        }

        var folder = Path.GetDirectoryName(fullPath)!;
        if (ExistingAncestor(folder) is { } ancestor && FileKinds.Of(ancestor) != FileKind.Folder)
        {
            throw ModelShrinkException.Error(ErrorCodes.OutputFolderNotWritable,
                $"the output's folder cannot be created: '{ancestor}' is a file, not a folder", path, setting);
        }

        return fullPath;
    }

    /// <summary>
    /// Renames <paramref name="staged"/> over <paramref name="target"/> (atomically replacing a
    /// regular file), after checking again that the target is a regular file or nothing.
    /// <paramref name="display"/> and <paramref name="setting"/> name it in errors.
    /// </summary>
    public static void MoveInto(string staged, string target, string display, string setting)
    {
        CheckReplaceable(target, display, setting);
        try
        {
            File.Move(staged, target, overwrite: true);
        }
        catch (UnauthorizedAccessException e)
        {
            throw ModelShrinkException.Error(ErrorCodes.OutputFolderNotWritable, $"cannot write the output: {e.Message}", display, setting, e);
        }
        catch (IOException e)
        {
            throw ModelShrinkException.Error(ErrorCodes.WriteFailed, $"cannot write the output: {e.Message}", display, setting, e);
        }
    }

    /// <summary>Refuses a path whose entry (not following a link) is anything but a regular file, a link or nothing.</summary>
    public static void CheckReplaceable(string fullPath, string display, string setting)
    {
        var kind = FileKinds.OfLink(fullPath);
        if (kind is FileKind.Missing or FileKind.Regular or FileKind.Link)
        {
            return;
        }

        if (kind == FileKind.Folder)
        {
            throw ModelShrinkException.Error(ErrorCodes.OutputIsFolder,
                $"'{Path.GetFileName(fullPath)}' is an existing folder; it is not replaced by a file", display, setting);
        }

        throw ModelShrinkException.Error(ErrorCodes.OutputNotRegularFile,
            $"'{fullPath}' is {FileKinds.Describe(kind)}, not a regular file; it is never replaced: name a file to write", display, setting);
    }

    // Kernel pseudo file systems on Linux: files there are views of the kernel, not storage.
    // /dev/shm is a real tmpfs and stays allowed.
    private static string? SystemFolder(string fullPath)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        foreach (var root in (string[])["/proc", "/sys", "/dev"])
        {
            if ((fullPath == root || fullPath.StartsWith(root + "/", StringComparison.Ordinal)) && !fullPath.StartsWith("/dev/shm/", StringComparison.Ordinal))
            {
                return root;
            }
        }

        return null;
    }

    private static string? ExistingAncestor(string folder)
    {
        for (var current = folder; !string.IsNullOrEmpty(current); current = Path.GetDirectoryName(current))
        {
            if (FileKinds.Of(current) != FileKind.Missing)
            {
                return current;
            }
        }

        return null;
    }
}
