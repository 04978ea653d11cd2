using System.Runtime.InteropServices;

namespace ModelShrink.Onnx.IO;

/// <summary>What a path names on disk, told apart without opening it (opening a FIFO with no writer blocks forever).</summary>
public enum FileKind
{
    /// <summary>Nothing exists at the path.</summary>
    Missing,

    /// <summary>A regular file: the only kind the engine reads a model from or writes an output over.</summary>
    Regular,

    /// <summary>A folder.</summary>
    Folder,

    /// <summary>A named pipe (FIFO).</summary>
    Fifo,

    /// <summary>A character device such as /dev/null, /dev/zero or /dev/full.</summary>
    CharacterDevice,

    /// <summary>A block device (a disk).</summary>
    BlockDevice,

    /// <summary>A Unix domain socket.</summary>
    Socket,

    /// <summary>A symbolic link (only from <see cref="FileKinds.OfLink"/>, which does not follow it).</summary>
    Link,

    /// <summary>Anything else (a Windows device path).</summary>
    Other,
}

/// <summary>
/// Reads a path's file type with stat/lstat. .NET's FileAttributes say only file or folder (a FIFO
/// or /dev/full reads as a plain file), so on Unix this asks the runtime's own native shim
/// (System.Native, the library behind File.Exists) for st_mode.
/// </summary>
public static partial class FileKinds
{
    // pal_io.h: struct FileStatus starts with int32 Flags, int32 Mode. The rest of the struct has
    // grown over .NET versions, so the buffer is generously larger than it.
    private const int ModeOffset = 4;
    private const int StatusBufferBytes = 512;
    private const int TypeMask = 0xF000;

    /// <summary>The kind of file at <paramref name="path"/>, following links.</summary>
    public static FileKind Of(string path) => Read(path, followLinks: true);

    /// <summary>The kind of the path itself: a link is <see cref="FileKind.Link"/>, not its target.</summary>
    public static FileKind OfLink(string path) => Read(path, followLinks: false);

    /// <summary>How the kind reads in a message: "a FIFO (named pipe)", "a character device"...</summary>
    public static string Describe(FileKind kind) => kind switch
    {
        FileKind.Regular => "a regular file",
        FileKind.Folder => "a folder",
        FileKind.Fifo => "a FIFO (named pipe)",
        FileKind.CharacterDevice => "a character device",
        FileKind.BlockDevice => "a block device",
        FileKind.Socket => "a socket",
        FileKind.Link => "a symbolic link",
        FileKind.Missing => "missing",
        _ => "a special file",
    };

    private static FileKind Read(string path, bool followLinks)
    {
        if (OperatingSystem.IsWindows())
        {
            return Windows(path, followLinks);
        }

        Span<byte> status = stackalloc byte[StatusBufferBytes];
        var result = followLinks ? Stat(path, ref MemoryMarshal.GetReference(status)) : LStat(path, ref MemoryMarshal.GetReference(status));
        if (result != 0)
        {
            // ENOENT, ENOTDIR, EACCES on a parent: nothing the caller can open either.
            return FileKind.Missing;
        }

        var mode = MemoryMarshal.Read<int>(status[ModeOffset..]);
        return (mode & TypeMask) switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Folder,
            0x1000 => FileKind.Fifo,
            0x2000 => FileKind.CharacterDevice,
            0x6000 => FileKind.BlockDevice,
            0xC000 => FileKind.Socket,
            0xA000 => FileKind.Link,
            _ => FileKind.Other,
        };
    }

    // Windows has no FIFOs in the file system; devices (NUL, CON, \\.\...) are not files at all.
    private static FileKind Windows(string path, bool followLinks)
    {
        if (path.StartsWith(@"\\.\", StringComparison.Ordinal) || path.StartsWith(@"\\?\GLOBALROOT", StringComparison.OrdinalIgnoreCase))
        {
            return FileKind.Other;
        }

        FileSystemInfo info = new FileInfo(path);
        if (!info.Exists)
        {
            info = new DirectoryInfo(path);
            if (!info.Exists)
            {
                return FileKind.Missing;
            }
        }

        if (!followLinks && info.LinkTarget is not null)
        {
            return FileKind.Link;
        }

        return (info.Attributes & FileAttributes.Directory) != 0 ? FileKind.Folder
            : (info.Attributes & FileAttributes.Device) != 0 ? FileKind.Other
            : FileKind.Regular;
    }

    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_Stat", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Stat(string path, ref byte status);

    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_LStat", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LStat(string path, ref byte status);
}
