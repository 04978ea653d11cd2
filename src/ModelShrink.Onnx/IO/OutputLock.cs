using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;

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

    private OutputLock(FileStream stream) => this.stream = stream;

    /// <summary>
    /// Claims <paramref name="fullPath"/> (the output's absolute path); <paramref name="display"/>
    /// and <paramref name="setting"/> name it in the MSH1021 error when another run holds it.
    /// </summary>
    public static OutputLock Acquire(string fullPath, string display, string setting)
    {
        var lockPath = Path.Combine(Path.GetDirectoryName(fullPath)!, $".{Path.GetFileName(fullPath)}{Suffix}");
        // Created and listed as live in one step under the lock a signal handler takes, so a
        // signal never leaves the file behind.
        Monitor.Enter(StagingFolder.PublishLock);
        try
        {
            var claim = new OutputLock(new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose));
            Live[claim] = 0;
            return claim;
        }
        catch (UnauthorizedAccessException e)
        {
            throw ModelShrinkException.Error(ErrorCodes.OutputFolderNotWritable,
                $"cannot write into the output's folder: {e.Message}", display, setting, e);
        }
        catch (IOException e) when (File.Exists(lockPath))
        {
            throw ModelShrinkException.Error(ErrorCodes.OutputBusy,
                "another modelshrink run is writing this output; wait for it to finish or choose another path", display, setting, e);
        }
        catch (IOException e)
        {
            throw ModelShrinkException.Error(ErrorCodes.OutputFolderNotWritable,
                $"cannot write into the output's folder: {e.Message}", display, setting, e);
        }
        finally
        {
            Monitor.Exit(StagingFolder.PublishLock);
        }
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
}
