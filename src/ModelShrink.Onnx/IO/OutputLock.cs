using System.Globalization;
using ModelShrink.Diagnostics;

namespace ModelShrink.Onnx.IO;

/// <summary>
/// An exclusive claim on one output path, held from the start of a run to its end, so two runs
/// writing the same output cannot both report success while one silently replaces the other: the
/// second fails at once with MSH1021. The claim is a hidden lock file beside the output
/// (<c>.&lt;name&gt;.modelshrink-lock</c>) opened with FileShare.None (an flock on Unix, released by
/// the kernel when the process dies, so a killed run never leaves a stuck lock).
/// </summary>
public sealed class OutputLock : IDisposable
{
    /// <summary>How a lock file's name ends.</summary>
    public const string Suffix = ".modelshrink-lock";

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<OutputLock, byte> Live = new();
    private readonly FileStream stream;

    private OutputLock(FileStream stream)
    {
        this.stream = stream;
        Live[this] = 0;
    }

    /// <summary>
    /// Claims <paramref name="fullPath"/> (the output's absolute path); <paramref name="display"/>
    /// and <paramref name="setting"/> name it in the MSH1021 error when another run holds it.
    /// </summary>
    public static OutputLock Acquire(string fullPath, string display, string setting)
    {
        var lockPath = Path.Combine(Path.GetDirectoryName(fullPath)!, $".{Path.GetFileName(fullPath)}{Suffix}");
        FileStream stream;
        try
        {
            stream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (UnauthorizedAccessException e)
        {
            throw ModelShrinkException.Error(ErrorCodes.OutputFolderNotWritable,
                $"cannot write into the output's folder: {e.Message}", display, setting, e);
        }
        catch (IOException e) when (File.Exists(lockPath))
        {
            throw ModelShrinkException.Error(ErrorCodes.OutputBusy,
                $"another modelshrink run{Holder(lockPath)} is writing this output; wait for it to finish or choose another path", display, setting, e);
        }
        catch (IOException e)
        {
            throw ModelShrinkException.Error(ErrorCodes.OutputFolderNotWritable,
                $"cannot write into the output's folder: {e.Message}", display, setting, e);
        }

        // The holder's process id, for the message a second run prints.
        stream.SetLength(0);
        stream.Write(System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture)));
        stream.Flush();
        return new OutputLock(stream);
    }

    /// <summary>Releases every claim this process holds (for a signal handler that ends the process).</summary>
    public static void ReleaseAllLive()
    {
        foreach (var claim in Live.Keys)
        {
            claim.Dispose();
        }
    }

    /// <summary>Releases the claim and removes the lock file.</summary>
    public void Dispose()
    {
        Live.TryRemove(this, out _);
        stream.Dispose();
    }

    // The holder's pid, when the lock file can be read (it cannot where locks are mandatory).
    private static string Holder(string lockPath)
    {
        try
        {
            using var reader = new FileStream(lockPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var buffer = new byte[16];
            var read = reader.Read(buffer);
            return int.TryParse(buffer.AsSpan(0, read), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? $" (process {pid})" : "";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }
}
