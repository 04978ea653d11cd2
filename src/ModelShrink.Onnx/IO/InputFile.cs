using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;

namespace ModelShrink.Onnx.IO;

/// <summary>
/// Checks a file the engine is about to read, before it is opened: opening a FIFO with no writer
/// blocks forever, and a device such as /dev/zero reads as endless (or empty) bytes.
/// </summary>
public static class InputFile
{
    /// <summary>
    /// The full path of <paramref name="path"/> when it is a regular file (links followed); else an
    /// MSH1001 (missing, a folder) or MSH1015 (FIFO, device, socket) error naming <paramref name="path"/>.
    /// <paramref name="what"/> names the file in the message ("model file").
    /// </summary>
    public static string CheckRegular(string path, string what, string? setting = null)
    {
        if (string.IsNullOrWhiteSpace(path) || path.Contains('\0'))
        {
            throw ModelShrinkException.Error(ErrorCodes.ModelNotFound, $"{what} path is empty or not a valid path", string.IsNullOrEmpty(path) ? null : path, setting);
        }

        var fullPath = Path.GetFullPath(path);
        var kind = FileKinds.Of(fullPath);
        return kind switch
        {
            FileKind.Regular => fullPath,
            FileKind.Missing => throw ModelShrinkException.Error(ErrorCodes.ModelNotFound, $"{what} not found", path, setting),
            FileKind.Folder => throw ModelShrinkException.Error(ErrorCodes.ModelNotFound, $"is a folder, not an ONNX {what}", path, setting),
            _ => throw ModelShrinkException.Error(ErrorCodes.InputNotRegularFile,
                $"is {FileKinds.Describe(kind)}, not a regular file; the {what} must be a file on disk", path, setting),
        };
    }
}
